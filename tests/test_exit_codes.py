"""Every exit path of avn-kb in a real process (`python -m avn_kb`): 0, 1, 2 for each kind of
unusable input or output, and 3 for an internal error. Each checks the code, the one line on
stderr and, for -o, that what was at the path is untouched (avn_kb/exitcodes.py has the table)."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from avn_kb.util.exitcodes import ExitCode
from tests.conftest import MINI, ROOT, run_cli
from tests.test_fileio import KINDS, link_to_real_file, state_of

REFUSED = "not a regular file: give the name of a regular file or a new one"


def avn_kb(*args: str, cwd: Path, **options: Any) -> subprocess.CompletedProcess[str]:
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "avn_kb", *args], stderr=subprocess.PIPE, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False, timeout=120, **options)


def _expect(done: subprocess.CompletedProcess[str], code: int, stderr: str) -> None:
    assert (done.returncode, done.stderr) == (code, stderr + "\n" if stderr else "")


def test_the_codes_are_the_documented_ones() -> None:
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0, "FINDINGS": 1, "USAGE": 2, "BUG": 3, "INTERRUPTED": 130}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert f"| {int(code)} | `{code.name}` |" in readme, f"README's exit-code table lacks {code.name}"


# ------------------------------------------------------------------------------------------------
# 0 and 1
# ------------------------------------------------------------------------------------------------

def test_clean_is_0_and_findings_are_1(tmp_path: Path) -> None:
    assert avn_kb("validate", str(MINI), cwd=tmp_path).returncode == ExitCode.OK
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    offloading = kb / "recommendations" / "offloading.yaml"
    offloading.write_text(offloading.read_text().replace("site: femoral-head,", "site: hip,", 1))
    done = avn_kb("validate", str(kb), cwd=tmp_path)
    assert done.returncode == ExitCode.FINDINGS and "AVN122" in done.stdout, done.stdout + done.stderr


# ------------------------------------------------------------------------------------------------
# 2: unusable input
# ------------------------------------------------------------------------------------------------

KNOWN = "known facts: arco_stage, collapse, comorbidities, one_rep_max_kg, pain_score, phase, region, site"
NO_FACTS = ("avn-kb query: no facts given: give the case with --set fact=value (repeatable), a case file (YAML or "
            "JSON; '-' reads it from standard input) or --batch FILE of JSON lines; avn-kb query --help lists "
            "the options")

USAGE = {
    "bad date": (["validate", str(MINI), "--as-of", "2026-02-30"],
                 "avn-kb validate: '2026-02-30' is not a date in the form YYYY-MM-DD"),
    "bad date in query": (["query", "--kb", str(MINI), "--set", "site=knee", "--as-of", "tomorrow"],
                          "avn-kb query: 'tomorrow' is not a date in the form YYYY-MM-DD"),
    "unknown fact": (["query", "--kb", str(MINI), "--set", "stage=II"],
                     f"avn-kb query: --set: unknown fact 'stage'; {KNOWN}"),
    "duplicate fact": (["query", "--kb", str(MINI), "--set", "site=knee", "--set", "site=humeral-head"],
                       "avn-kb query: --set: site is given twice (knee, humeral-head): give it once"),
    "no facts": (["query", "--kb", str(MINI)], NO_FACTS),
    "missing knowledge directory": (["validate", "{tmp}/nowhere"],
                                    ("avn-kb validate: '{tmp}/nowhere' does not exist; give the knowledge "
                                     "directory (the one holding kb.yaml)")),
    "folder without kb.yaml": (["validate", "{tmp}/empty"],
                               ("avn-kb validate: {tmp}/empty has no kb.yaml, so it is not a knowledge directory: "
                                "give the folder that holds kb.yaml, vocabulary.yaml and references.yaml "
                                "(default: knowledge)")),
    "a path component that is a file": (["validate", "{tmp}/file/kb"],
                                        "avn-kb validate: cannot read {tmp}/file/kb: Not a directory"),
    "a path component that is a file, query": (["query", "--kb", "{tmp}/file/kb", "--set", "site=knee"],
                                               "avn-kb query: cannot read {tmp}/file/kb: Not a directory"),
    "case file that is a directory": (["query", "--kb", str(MINI), "{tmp}/empty"],
                                      "avn-kb query: cannot read {tmp}/empty: Is a directory"),
    "batch that is a directory": (["query", "--kb", str(MINI), "--batch", "{tmp}/empty"],
                                  "avn-kb query: cannot read {tmp}/empty: Is a directory"),
    "click's own usage error": (["validate", str(MINI), "--format", "xml"], None),
}


@pytest.mark.parametrize("name", list(USAGE))
def test_unusable_input_is_2_with_one_line(tmp_path: Path, name: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    arguments, expected = USAGE[name]
    done = avn_kb(*(a.format(tmp=tmp_path) for a in arguments), cwd=tmp_path)
    assert done.stdout == ""
    if expected is None:
        assert done.returncode == ExitCode.USAGE and "Invalid value for '--format'" in done.stderr
    else:
        _expect(done, ExitCode.USAGE, expected.format(tmp=tmp_path))


def test_test_on_a_folder_without_kb_yaml_is_2_as_validate(tmp_path: Path) -> None:
    assert avn_kb("test", str(tmp_path), cwd=tmp_path).returncode == ExitCode.USAGE
    assert avn_kb("validate", str(tmp_path), cwd=tmp_path).returncode == ExitCode.USAGE


def test_an_unreadable_knowledge_directory_is_2(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading (the not-a-directory path and "
                    "the simulated denials below cover the same code)")
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    kb.chmod(0)
    try:
        done = avn_kb("validate", str(kb), cwd=tmp_path)
    finally:
        kb.chmod(0o755)
    _expect(done, ExitCode.USAGE, f"avn-kb validate: cannot read {kb}: Permission denied")


def _denied(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, denied: Path) -> None:
    real = getattr(module, name)

    def refusing(*args: Any, **kwargs: Any) -> Any:
        if args and Path(args[0]) == denied:
            raise PermissionError(errno.EACCES, "Permission denied", str(denied))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, refusing)


@pytest.mark.parametrize("command", ["validate", "test", "coverage"])
def test_a_knowledge_directory_that_cannot_be_listed_is_2_simulated(monkeypatch: pytest.MonkeyPatch,
                                                                     command: str) -> None:
    """What chmod 000 does for a user other than root, in-process (so it runs as root too)."""
    _denied(monkeypatch, os, "scandir", MINI)
    result = run_cli(command, str(MINI))
    assert (result.exit_code, result.stdout) == (ExitCode.USAGE, "")
    assert result.stderr == f"avn-kb {command}: cannot read {MINI}: Permission denied\n"


def test_a_folder_inside_that_cannot_be_listed_is_2_not_3_simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.iterdir

    def refusing(self: Path) -> Any:
        if self == MINI / "recommendations":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", refusing)
    result = run_cli("validate", str(MINI))
    assert (result.exit_code, result.stdout) == (ExitCode.USAGE, "")
    assert result.stderr == f"avn-kb validate: cannot read {MINI / 'recommendations'}: Permission denied\n"


def test_a_knowledge_directory_with_kb_yaml_but_no_vocabulary_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "kb.yaml").write_bytes((MINI / "kb.yaml").read_bytes())
    done = avn_kb("validate", str(tmp_path), cwd=tmp_path)
    assert done.returncode == ExitCode.FINDINGS
    assert f"{tmp_path}/vocabulary.yaml:1:1: error AVN113 required file vocabulary.yaml is missing" in done.stdout


# ------------------------------------------------------------------------------------------------
# 2: -o refused, untouched
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_output_onto_anything_but_a_regular_file_is_refused_and_left_untouched(tmp_path: Path, kind: str) -> None:
    make, named = KINDS[kind]
    target = make(tmp_path)
    before = state_of(target)
    done = avn_kb("validate", str(MINI), "-o", str(target), cwd=tmp_path)
    _expect(done, ExitCode.USAGE, f"avn-kb validate: cannot write {target}: it is {named}, {REFUSED}")
    assert done.stdout == ""
    assert state_of(target) == before
    if kind.startswith("symbolic link"):
        assert (tmp_path / "real.txt").read_text() == "kept\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_output_into_a_missing_folder_is_refused_and_the_folder_not_made(tmp_path: Path) -> None:
    done = avn_kb("validate", str(MINI), "-o", "reports/report.txt", cwd=tmp_path)
    _expect(done, ExitCode.USAGE, "avn-kb validate: cannot write reports/report.txt: the folder reports does not "
                                  "exist: create it first")
    assert list(tmp_path.iterdir()) == []


def _batch_arguments(tmp_path: Path) -> list[str]:
    (tmp_path / "cases.jsonl").write_text('{"site": "knee"}\n', encoding="utf-8")
    return ["query", "--kb", str(MINI), "--batch", str(tmp_path / "cases.jsonl")]


def _diff_arguments(tmp_path: Path) -> list[str]:
    from tests.test_changelog import make_repo

    return ["diff", "v1", "--kb", str(make_repo(tmp_path / "repo", MINI))]


# Every command that writes -o (render writes into --out DIR: its files obey the same rule).
WRITERS: dict[str, Callable[[Path], list[str]]] = {
    "validate": lambda tmp: ["validate", str(MINI)],
    "query": lambda tmp: ["query", "--kb", str(MINI), "--set", "site=knee"],
    "query --batch": _batch_arguments,
    "export fhir": lambda tmp: ["export", "fhir", "--kb", str(MINI)],
    "graph": lambda tmp: ["graph", "--kb", str(MINI), "--format", "dot"],
    "diff": _diff_arguments,
}


@pytest.mark.parametrize("command", list(WRITERS))
def test_every_writer_refuses_a_link(tmp_path: Path, command: str) -> None:
    target = link_to_real_file(tmp_path)
    arguments = WRITERS[command](tmp_path)
    done = avn_kb(*arguments, "-o", str(target), cwd=tmp_path)
    _expect(done, ExitCode.USAGE, f"avn-kb {command.split(' --')[0]}: cannot write {target}: "
                                  f"it is a symbolic link, {REFUSED}")
    assert target.is_symlink() and (tmp_path / "real.txt").read_text() == "kept\n"


def test_render_makes_its_directory_but_refuses_a_link_inside_it(tmp_path: Path) -> None:
    site = tmp_path / "site" / "new"
    assert avn_kb("render", "--kb", str(MINI), "--out", str(site), cwd=tmp_path).returncode == ExitCode.OK
    assert [p.name for p in site.iterdir()] == ["index.html"]
    (site / "index.html").unlink()
    (tmp_path / "real.txt").write_text("kept\n")
    (site / "index.html").symlink_to(tmp_path / "real.txt")
    done = avn_kb("render", "--kb", str(MINI), "--out", str(site), cwd=tmp_path)
    _expect(done, ExitCode.USAGE, f"avn-kb render: cannot write {site / 'index.html'}: "
                                  f"it is a symbolic link, {REFUSED}")
    assert (site / "index.html").is_symlink() and (tmp_path / "real.txt").read_text() == "kept\n"


def test_output_over_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    done = avn_kb("validate", str(MINI), "-o", str(target), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (ExitCode.OK, "", "")
    assert target.read_text().endswith(": OK\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("arguments", [["validate", str(MINI)], ["test", str(MINI)],
                                       ["query", "--kb", str(MINI), "--set", "site=knee"]],
                         ids=["validate", "test", "query"])
def test_a_full_standard_output_is_2_not_1(tmp_path: Path, arguments: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = avn_kb(*arguments, cwd=tmp_path, stdout=full)
    _expect(done, ExitCode.USAGE, f"avn-kb {arguments[0]}: cannot write to standard output: No space left on device")


# ------------------------------------------------------------------------------------------------
# 3: a bug
# ------------------------------------------------------------------------------------------------

PROVOKED = """
import sys
import avn_kb.validate.runner
from avn_kb.cli import main

def broken(*args, **kwargs):
    raise ValueError("boom")

avn_kb.validate.runner.validate = broken
main(["validate", sys.argv[1]], prog_name="avn-kb")
"""


def test_an_internal_error_is_3_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PROVOKED, str(MINI)], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False, timeout=120)
    _expect(done, ExitCode.BUG, "avn-kb: internal error (ValueError: boom); this is a bug, please report it; "
                                "run with --debug for details")
