"""Starting and reloading the service, through real processes and real HTTP: it refuses to start
on knowledge that does not load (exit 2 with the findings, as `query` does); SIGHUP swaps in
knowledge that loaded whole and keeps the old one otherwise; requests during a reload are all
answered, each from one whole knowledge base; several workers reload together."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.serving import NEXT_VERSION, SHIPPED_VERSION, Reply, free_port, running, serve_command

CASE = {"site": "femoral-head", "arco_stage": "II", "phase": "chronic", "causes": [], "red_flags": [],
        "hematologic_malignancy": False, "comorbidities": [], "estimated_one_rep_max_kg": 60}
RENAMED = "RT-001"  # applies to CASE; the new knowledge base retitles it


def set_version(kb: Path, version: str) -> None:
    manifest = kb / "kb.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert f'version: "{SHIPPED_VERSION}"' in text
    manifest.write_text(text.replace(f'version: "{SHIPPED_VERSION}"', f'version: "{version}"', 1), encoding="utf-8")


def retitle(kb: Path) -> None:
    """Give RT-001 a new title: which knowledge answered shows in the body too."""
    path = kb / "recommendations" / "resistive-training.yaml"
    text = path.read_text(encoding="utf-8")
    marker = "title: Standard resistive training dose for lower-limb AVN before collapse"
    assert text.count(marker) == 1
    path.write_text(text.replace(marker, marker + " (reloaded)"), encoding="utf-8")


def break_it(kb: Path) -> None:
    (kb / "recommendations" / "broken.yaml").write_text("recommendations: [\n", encoding="utf-8")


def title_of(reply: Reply, rec_id: str) -> str:
    return next(str(r["title"]) for r in reply.json()["recommendations"] if r["id"] == rec_id)


def test_refuses_to_start_on_knowledge_that_does_not_load(shipped_copy: Path) -> None:
    break_it(shipped_copy)
    done = subprocess.run(serve_command(shipped_copy, free_port()), capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"{shipped_copy}/recommendations/broken.yaml:2:1: error AVN10")
    assert lines[-1].startswith(f"avn-kb serve: refusing to answer from {shipped_copy}: 1 loading error(s)")
    assert "--allow-incomplete" not in done.stderr  # the service has no such option
    missing = subprocess.run(serve_command(shipped_copy / "nowhere", free_port()), capture_output=True, text=True,
                             cwd=ROOT, timeout=120, check=False)
    assert (missing.returncode, missing.stderr) == (
        2, f"avn-kb serve: '{shipped_copy}/nowhere' does not exist; give the knowledge directory (the one holding "
           "kb.yaml)\n")


def test_hangup_swaps_in_good_knowledge_and_keeps_the_old_for_broken(shipped_copy: Path, tmp_path: Path) -> None:
    with running(shipped_copy, tmp_path / "server.log") as server:
        first = server.post({"facts": CASE})
        digest = first.headers["avn-kb-knowledge-digest"]
        break_it(shipped_copy)
        server.hangup()
        server.wait_for_log(f"refused: it did not load whole; still answering from version {SHIPPED_VERSION}")
        assert "broken.yaml:2:1: error AVN10" in server.log_text()
        kept = server.post({"facts": CASE})
        assert (kept.status, kept.headers["avn-kb-knowledge-digest"], kept.text) == (200, digest, first.text)
        assert server.get("/healthz").json()["failed_reloads"] == 1
        (shipped_copy / "recommendations" / "broken.yaml").unlink()
        set_version(shipped_copy, NEXT_VERSION)
        retitle(shipped_copy)
        server.hangup()
        server.wait_for_log("reloaded")
        fresh = server.post({"facts": CASE})
        assert fresh.headers["avn-kb-knowledge-version"] == fresh.json()["knowledge_base"]["version"] == NEXT_VERSION
        assert fresh.headers["avn-kb-knowledge-digest"] != digest
        assert title_of(fresh, RENAMED).endswith("(reloaded)")
        assert server.get("/healthz").json()["reloads"] == 1


def test_requests_during_a_reload_each_come_from_one_whole_knowledge_base(shipped_copy: Path, tmp_path: Path) -> None:
    with running(shipped_copy, tmp_path / "server.log") as server:
        set_version(shipped_copy, NEXT_VERSION)
        retitle(shipped_copy)

        def ask(_: int) -> Reply:
            return server.post({"cases": [{"facts": CASE}] * 3})

        with ThreadPoolExecutor(max_workers=100) as pool:
            before = [pool.submit(ask, n) for n in range(100)]
            server.hangup()
            during = [pool.submit(ask, n) for n in range(200)]
            replies = [future.result() for future in before + during]
        server.wait_for_log("reloaded")
        after = server.post({"facts": CASE})
    assert [r.status for r in replies] == [200] * 300
    versions = set()
    for reply in replies:
        version = reply.headers["avn-kb-knowledge-version"]
        versions.add(version)
        answers = reply.json()["answers"]
        assert {a["knowledge_base"]["version"] for a in answers} == {version}
        titles = {t for a in answers for t in (r["title"] for r in a["recommendations"] if r["id"] == RENAMED)}
        assert len(titles) == 1 and next(iter(titles)).endswith("(reloaded)") == (version == NEXT_VERSION)
    assert versions <= {SHIPPED_VERSION, NEXT_VERSION}
    assert after.headers["avn-kb-knowledge-version"] == NEXT_VERSION


@pytest.mark.parametrize("workers", [2])
def test_several_workers_answer_and_reload(shipped_copy: Path, tmp_path: Path, workers: int) -> None:
    with running(shipped_copy, tmp_path / "server.log", "--workers", str(workers)) as server:
        versions = {server.get("/healthz").headers["avn-kb-knowledge-version"] for _ in range(20)}
        assert versions == {SHIPPED_VERSION}
        set_version(shipped_copy, NEXT_VERSION)
        server.hangup()
        deadline = time.monotonic() + 60
        while True:
            seen = [server.get("/healthz").headers["avn-kb-knowledge-version"] for _ in range(20)]
            if set(seen) == {NEXT_VERSION}:
                break
            assert time.monotonic() < deadline, seen
            time.sleep(0.2)
        assert server.log_text().count("reloaded") == workers + 1  # each worker, and the supervisor
        process: subprocess.Popen[str] = server.process
    assert process.wait(timeout=30) == 0


def test_without_the_serve_extra_the_command_says_how_to_install_it() -> None:
    probe = ("import sys; sys.modules['uvicorn'] = None\n"
             "from avn_kb.cli import main\nmain(['serve', '--kb', 'knowledge'], prog_name='avn-kb')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          check=False)
    assert (done.returncode, done.stderr) == (
        2, "avn-kb serve: the service needs the serve extra (uvicorn is not installed): pip install 'avn-kb[serve]'\n")


@pytest.mark.parametrize("workers", ["1", "3"])
def test_an_address_in_use_is_exit_2_naming_it(workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(serve_command(ROOT / "knowledge", port, "--workers", workers), capture_output=True,
                              text=True, cwd=ROOT, timeout=120, check=False)
    assert (done.returncode, done.stderr) == (
        2, f"avn-kb serve: cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port or "
           "--host\n")
