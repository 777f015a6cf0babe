"""`avn-kb validate` end to end: a clean knowledge base passes; each way of breaking a copy exits 1
and names the file and line; the other files are still checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MINI, SHIPPED, run_cli, validate_json

RT = "recommendations/resistive-training.yaml"
OF = "recommendations/offloading.yaml"


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _replace(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    changed = next(line for line in new.splitlines() if line not in old)
    return _line_of(path, changed)


@pytest.mark.parametrize("kb", [MINI, SHIPPED], ids=["mini", "shipped"])
def test_clean_knowledge_base_exits_0(kb: Path) -> None:
    if not (kb / "kb.yaml").exists():
        pytest.skip("knowledge base not written yet")
    code, report = validate_json(kb)
    assert [f for f in report["findings"] if f["severity"] == "error" and "accepted" not in f] == []
    assert code == 0


# (what is broken, file, text replaced, replacement, expected code)
BREAKAGES = [
    ("duplicate key", RT, "    title: Resistive training dose\n",
     "    title: Resistive training dose\n    title: Again\n", "AVN105"),
    ("missing reference", RT, "      - ref: williams-2007-aha\n", "      - ref: article-ref-5\n", "AVN201"),
    ("python tag", RT, "    plain_language: Lift", "    plain_language: !!python/object/apply:os.system ['touch PWNED']\n    x_: Lift", "AVN104"),
    ("wrong type for version", RT, '    version: "1.0.0"\n', "    version: 1.0\n", "AVN111"),
    ("unknown fact", RT, "      region: lower-limb\n", "      stage: II\n", "AVN121"),
    ("value outside domain", OF, "site: femoral-head,", "site: hip,", "AVN122"),
    ("undeclared intervention", OF, "target: protected-weight-bearing", "target: crutches", "AVN123"),
    ("min above max", RT, "sets: [1, 3]", "sets: [3, 1]", "AVN124"),
    ("set test on enum", OF, "site: femoral-head,", "site: {has: femoral-head},", "AVN125"),
]


@pytest.mark.parametrize("what,file,old,new,code", BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_each_breakage_exits_1_and_names_file_and_line(mini_copy: Path, what: str, file: str, old: str, new: str,
                                                      code: str) -> None:
    line = _replace(mini_copy / file, old, new)
    # Break another file too: its finding must still be reported.
    (mini_copy / "cases" / "basic.yaml").write_text("cases:\n  - id: CASE-001\n    title: [unclosed\n")
    exit_code, report = validate_json(mini_copy)
    assert exit_code == 1
    hits = [f for f in report["findings"] if f["code"] == code]
    assert hits, report["findings"]
    assert hits[0]["path"] == f"{mini_copy}/{file}"
    assert hits[0]["line"] == line
    assert hits[0]["column"] >= 1
    assert any(f["code"] == "AVN102" and f["path"].endswith("cases/basic.yaml") for f in report["findings"])


def test_unreadable_recommendations_file_blames_nothing_that_points_into_it(mini_copy: Path) -> None:
    # OF-001 lives in the file that cannot be parsed: a link to it is not dangling (AVN311), the
    # decision it covers is not a gap (AVN304), and the golden case expecting it is not wrong.
    _replace(mini_copy / RT, '    version: "1.0.0"\n', '    version: "1.0.0"\n    overrides: [OF-001]\n')
    line = _replace(mini_copy / OF, "    status: approved\n", "    status: [approved\n")
    exit_code, report = validate_json(mini_copy)
    assert exit_code == 1
    assert [(f["code"], f["path"], f["line"]) for f in report["findings"]] == [("AVN102", f"{mini_copy}/{OF}", line + 1)]
    assert f"opened at line {line}, column 13; close it with ']'" in report["findings"][0]["message"]


def test_python_tag_executes_nothing(mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _replace(mini_copy / RT, "    plain_language: Lift",
             "    plain_language: !!python/object/apply:os.system ['touch PWNED']\n    x_: Lift")
    exit_code, _ = validate_json(mini_copy)
    assert exit_code == 1
    assert not (tmp_path / "PWNED").exists()


def test_billion_laughs_is_refused(mini_copy: Path) -> None:
    bomb = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
    (mini_copy / RT).write_text("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + bomb)
    exit_code, report = validate_json(mini_copy)
    assert exit_code == 1
    bombs = [f for f in report["findings"] if f["code"] == "AVN106"]
    assert len(bombs) == 1 and bombs[0]["path"].endswith(RT) and bombs[0]["line"] == 6


def test_unreadable_input_and_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert run_cli("validate", str(tmp_path / "nowhere")).exit_code == 2
    (tmp_path / "file").write_text("x")
    assert run_cli("validate", str(tmp_path / "file")).exit_code == 2
    assert run_cli("validate", str(MINI), "--as-of", "2026-02-30").exit_code == 2
    assert run_cli("validate", str(MINI), "--format", "xml").exit_code == 2


def test_missing_required_files_are_findings(tmp_path: Path) -> None:
    # A folder with kb.yaml is a knowledge directory: its other missing files are findings (a folder
    # without kb.yaml is not one at all: exit 2, tests/test_exit_codes.py).
    (tmp_path / "kb.yaml").write_bytes((MINI / "kb.yaml").read_bytes())
    exit_code, report = validate_json(tmp_path)
    assert exit_code == 1
    assert sorted(Path(f["path"]).name for f in report["findings"] if f["code"] == "AVN113") == [
        "references.yaml", "vocabulary.yaml"]


def test_strict_fails_on_warnings(mini_copy: Path) -> None:
    _replace(mini_copy / "references.yaml", "references:\n", "references:\n  - id: unused-2020\n    type: article-journal\n"
             "    title: Never cited\n    population: avn\n    topics: [offloading]\n")
    assert validate_json(mini_copy)[0] == 0
    exit_code, report = validate_json(mini_copy, "--strict")
    assert exit_code == 1
    assert [f["code"] for f in report["findings"]] == ["AVN202"]


def test_severity_override_and_unknown_code(mini_copy: Path) -> None:
    _replace(mini_copy / "references.yaml", "references:\n", "references:\n  - id: unused-2020\n    type: article-journal\n"
             "    title: Never cited\n    population: avn\n    topics: [offloading]\n")
    with open(mini_copy / "kb.yaml", "a", encoding="utf-8") as manifest:
        manifest.write("severity:\n  AVN202: error\n  AVN999: ignore\n")
    exit_code, report = validate_json(mini_copy)
    assert exit_code == 1
    assert {(f["code"], f["severity"]) for f in report["findings"]} == {("AVN202", "error"), ("AVN116", "error")}


def test_text_format_lines(mini_copy: Path) -> None:
    line = _replace(mini_copy / OF, "site: femoral-head,", "site: hip,")
    result = run_cli("validate", str(mini_copy))
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{mini_copy}/{OF}:{line}:")
    assert " error AVN122 OF-001: 'hip' is not a value of site" in first
    assert result.stdout.splitlines()[-1].endswith("FAILED")


def test_output_file_is_written_atomically(mini_copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    result = run_cli("validate", str(mini_copy), "--format", "json", "--output", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert '"exit_code": 0' in target.read_text()
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


def test_written_report_gets_ordinary_permissions(mini_copy: Path, tmp_path: Path) -> None:
    import os
    import stat

    target = tmp_path / "report.txt"
    umask = os.umask(0o022)
    try:
        run_cli("validate", str(mini_copy), "--output", str(target))
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
