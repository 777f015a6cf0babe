"""Knowledge files whose names a report cannot show as they are: not valid UTF-8 (Python keeps the
bytes as lone surrogates, which no UTF-8 output can write) or holding a control character. Each is
AVN101 under its name shown with \\x escapes, is not read, and every other file is still checked:
validate exits 1 (a finding) in every format, the commands that answer from the knowledge refuse
with exit 2 naming it, the cache and a git revision (`--base`) treat it the same. Before, the file
was read under its raw name: SARIF output died (exit 3), text wrote the raw byte to the terminal,
and a committed one made `--base` fail as a whole."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MINI, ROOT, run_cli

UNDECODABLE = "bad\udcff.yaml"  # the bytes b"bad\xff.yaml": \xff is never UTF-8
SHOWN = "recommendations/bad\\xff.yaml"
MESSAGE = ("file name is not valid UTF-8 (shown with \\x escapes): rename the file with a plain UTF-8 name; "
           "until then it is not read")


def misnamed_kb(tmp_path: Path, name: str = UNDECODABLE) -> Path:
    """The small knowledge base with a copy of one of its recommendation files under `name`: read,
    it would repeat every id of that file (AVN120), so any such finding means it was read."""
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    try:
        shutil.copyfile(kb / "recommendations" / "offloading.yaml", kb / "recommendations" / name)
    except (OSError, UnicodeEncodeError):  # a file system that refuses such names (macOS) has no such files
        pytest.skip("this file system refuses the name")
    return kb


def test_validate_reports_the_misnamed_file_and_checks_the_others_in_every_format(tmp_path: Path) -> None:
    kb = misnamed_kb(tmp_path)
    result = run_cli("validate", str(kb), "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    # One finding: the other files are clean, and the misnamed copy was not read (no AVN120).
    assert [(f["code"], f["path"], f["line"], f["message"]) for f in report["findings"]] == [
        ("AVN101", f"{kb}/{SHOWN}", 1, MESSAGE)]
    text = run_cli("validate", str(kb))
    assert text.exit_code == 1
    assert f"{kb}/{SHOWN}:1:1: error AVN101 {MESSAGE}" in text.stdout
    assert "(2 recommendations)" in text.stdout  # both of the other files were loaded and checked
    for fmt in ("sarif", "github"):
        other = run_cli("validate", str(kb), "--format", fmt)
        assert other.exit_code == 1, (fmt, other.output)
        assert "bad%5Cxff.yaml" in other.stdout if fmt == "sarif" else SHOWN in other.stdout
    json.loads(run_cli("validate", str(kb), "--format", "sarif").stdout)


def test_the_report_is_the_same_from_the_cache(tmp_path: Path) -> None:
    kb = misnamed_kb(tmp_path)
    cold = run_cli("validate", str(kb), "--format", "json")
    assert [f["code"] for f in json.loads(cold.stdout)["findings"]] == ["AVN101"]
    warm = run_cli("validate", str(kb), "--format", "json")
    assert (warm.exit_code, warm.stdout) == (cold.exit_code, cold.stdout)
    (kb / "recommendations" / UNDECODABLE).unlink()  # renamed away: the report says so at once
    assert run_cli("validate", str(kb)).exit_code == 0


def test_the_plain_entry_point_writes_the_name_escaped(tmp_path: Path) -> None:
    """`avn-kb validate` as pre-commit runs it, in a process of its own: the bytes on stdout."""
    kb = misnamed_kb(tmp_path)
    done = subprocess.run([sys.executable, "-m", "avn_kb", "validate", str(kb), "--no-cache"], capture_output=True,
                          cwd=ROOT, check=False, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 1, done.stderr
    assert f"{SHOWN}:1:1: error AVN101".encode() in done.stdout
    assert b"\xff" not in done.stdout and not done.stderr


def test_a_control_character_in_a_name_is_shown_escaped(tmp_path: Path) -> None:
    kb = misnamed_kb(tmp_path, "two\nlines.yaml")
    result = run_cli("validate", str(kb), "--format", "json")
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["path"] == f"{kb}/recommendations/two\\x0alines.yaml"
    assert finding["message"].startswith("file name holds a control character (shown with \\x escapes)")


@pytest.mark.parametrize("command", [
    ("query", "--set", "site=femoral-head"),
    ("test",),
    ("coverage",),
    ("render", "--out", "{out}"),
    ("graph", "--format", "dot"),
])
def test_commands_that_answer_refuse_naming_the_file(tmp_path: Path, command: tuple[str, ...]) -> None:
    kb = misnamed_kb(tmp_path)
    args = [part.format(out=tmp_path / "site") for part in command]
    result = run_cli(args[0], "--kb", str(kb), *args[1:])
    assert result.exit_code == 2, result.output
    assert f"{kb}/{SHOWN}:1:1: error AVN101 {MESSAGE}" in result.output
    assert f"refusing to answer from {kb}: 1 loading error(s) in {kb}/{SHOWN}" in result.output


def test_a_misnamed_file_at_the_base_revision_is_a_finding_not_a_failed_run(tmp_path: Path) -> None:
    kb = misnamed_kb(tmp_path)
    identity = ["-c", "user.name=avn-kb tests", "-c", "user.email=tests@avn-kb.invalid", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", "-C", str(kb), *identity, *args], capture_output=True, check=True)
    result = run_cli("validate", str(kb), "--base", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.output  # before: exit 2, git could not find the name it was given
    assert [(f["code"], f["path"]) for f in json.loads(result.stdout)["findings"]] == [("AVN101", f"{kb}/{SHOWN}")]
    changes = run_cli("diff", "HEAD", "--kb", str(kb))
    assert changes.exit_code == 0, changes.output
