"""Fail-safe answers as users meet them (issue "Fail-safe answers"): an override left open by a
missing fact keeps what it overrides undecided, in every format; knowledge that did not load is not
answered from (or, when asked, the answer says it is incomplete); overdue reviews and exclusions
are said, with their dates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from avn_kb.load.schemas import validator
from tests.conftest import MINI, run_cli

LIGHT_DOSE = """
  - id: PR-009
    version: "1.0.0"
    status: approved
    title: Light dose when platelets are low
    statement: With thrombocytopenia, 1 set only.
    plain_language: One round only while your platelets are low.
    population: avn
    when:
      comorbidities: {has: thrombocytopenia}
    action:
      kind: do
      target: resistive-training
      dose: {sets: [1, 1]}
    strength: {level: conditional, direction: for}
    certainty: very-low
    evidence: {indirect: true, reason: From haematological malignancy.}
    citations:
      - ref: williams-2007-aha
    overrides: [RT-001]
    effective: {from: 2026-01-10}
    review:
      approved_on: 2026-01-10
      reviewers: [rev-a, rev-b]
      next_review_due: 2030-01-10
"""
CASE = ["--set", "site=knee", "--set", "phase=chronic", "--as-of", "2026-06-01"]


@pytest.fixture
def with_override(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    path = kb / "recommendations" / "resistive-training.yaml"
    path.write_text(path.read_text() + LIGHT_DOSE)
    return kb


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    kb = tmp_path / "broken"
    shutil.copytree(MINI, kb)
    (kb / "recommendations" / "offloading.yaml").write_text("topic: offloading\nrecommendations: [\n")
    return kb


def _query(kb: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli("query", "--kb", str(kb), *args)
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------------------------------------------
# 1. Overrides under missing facts
# ------------------------------------------------------------------------------------------------

def test_open_override_keeps_the_standard_dose_undecided_in_json(with_override: Path) -> None:
    code, out, _ = _query(with_override, *CASE, "--format", "json")
    assert code == 0
    data = json.loads(out)
    validator("query-result").validate(data)
    rt = next(r for r in data["recommendations"] if r["id"] == "RT-001")
    assert rt["outcome"] == "undecided"
    assert rt["pending_overrides"] == [{"id": "PR-009", "title": "Light dose when platelets are low",
                                        "missing": ["comorbidities"]}]
    assert rt["missing"] == ["comorbidities"]
    assert "load_kg" not in rt
    assert data["summary"]["applies"] == 0


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_open_override_is_named_with_the_facts_that_decide_it(with_override: Path, fmt: str) -> None:
    code, out, _ = _query(with_override, *CASE, "--format", fmt)
    assert code == 0
    reason = "PR-009 (Light dose when platelets are low) overrides it if it applies: give comorbidities"
    expected = {"text": f"      undecided: {reason}", "markdown": f"  - undecided: {reason}"}[fmt]
    assert expected in out.splitlines()
    assert "UNDECIDED" in out and "APPLIES" not in out


def test_explain_shows_the_pending_override_beside_the_trace(with_override: Path) -> None:
    code, out, _ = _query(with_override, *CASE, "--explain")
    assert code == 0
    block = out[out.index("RT-001 Resistive training dose"):]
    assert "undecided: PR-009" in block.split("\n\n")[0]
    assert "region is lower-limb: case has lower-limb -> yes" in block


def test_giving_the_fact_decides_both_ways(with_override: Path) -> None:
    for value, outcome in (("thrombocytopenia", "overridden"), ("osteoporosis", "applies")):
        code, out, _ = _query(with_override, *CASE, "--set", f"comorbidities={value}", "--format", "json")
        assert code == 0
        rt = next(r for r in json.loads(out)["recommendations"] if r["id"] == "RT-001")
        assert rt["outcome"] == outcome


# ------------------------------------------------------------------------------------------------
# 2. Refuse to answer from knowledge that did not load
# ------------------------------------------------------------------------------------------------

COMMANDS = {
    "query": ["query", "--set", "site=knee"],
    "test": ["test"],
    "coverage": ["coverage"],
    "render": ["render", "--out", "{out}"],
    "export fhir": ["export", "fhir"],
    "graph": ["graph", "--format", "dot"],
}


def _args(command: str, kb: Path, tmp_path: Path) -> list[str]:
    args = [a.replace("{out}", str(tmp_path / "site")) for a in COMMANDS[command]]
    where = 1 if command != "export fhir" else 2
    # test and coverage take the knowledge directory as their argument, the others --kb.
    return args[:where] + ([str(kb)] if command in ("test", "coverage") else ["--kb", str(kb)]) + args[where:]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_answering_command_refuses_knowledge_that_did_not_load(broken: Path, tmp_path: Path,
                                                                     command: str) -> None:
    result = run_cli(*_args(command, broken, tmp_path))
    assert result.exit_code == 2
    first, last = result.stderr.splitlines()[0], result.stderr.splitlines()[-1]
    assert first.startswith(f"{broken}/recommendations/offloading.yaml:3:1: error AVN102 ")
    assert last.startswith(f"avn-kb {command}: refusing to answer from {broken}: 1 loading error(s) in "
                           f"{broken}/recommendations/offloading.yaml")
    assert "--allow-incomplete" in last
    assert result.stdout == ""


def test_schema_and_vocabulary_errors_refuse_too(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    path = kb / "recommendations" / "resistive-training.yaml"
    path.write_text(path.read_text().replace("region: lower-limb", "region: lower-lim"))
    result = run_cli("query", "--kb", str(kb), "--set", "site=knee")
    assert result.exit_code == 2
    assert " error AVN122 " in result.stderr.splitlines()[0]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_allow_incomplete_answers_and_says_so(broken: Path, tmp_path: Path, command: str) -> None:
    result = run_cli(*_args(command, broken, tmp_path), "--allow-incomplete")
    assert result.exit_code in (0, 1)  # test: the mini cases may fail without their recommendations
    banner = f"INCOMPLETE: 1 loading error in {broken}/recommendations/offloading.yaml"
    if command == "render":
        assert banner in (tmp_path / "site" / "index.html").read_text()
    elif command == "export fhir":
        tags = json.loads(result.stdout)["meta"]["tag"]
        assert [t["code"] for t in tags] == ["incomplete"] and tags[0]["display"].startswith(banner)
    elif command == "graph":
        assert result.stdout.startswith(f"// {banner}")
    else:
        assert result.stdout.startswith(banner)
    assert "answering from an incomplete knowledge base" in result.stderr


def test_incomplete_json_answer_lists_the_problems(broken: Path) -> None:
    code, out, _ = _query(broken, "--set", "site=knee", "--format", "json", "--allow-incomplete")
    data = json.loads(out)
    validator("query-result").validate(data)
    assert data["incomplete"] is True
    assert [(p["path"], p["line"], p["code"]) for p in data["problems"]] == [
        (f"{broken}/recommendations/offloading.yaml", 3, "AVN102")]
    assert data["notices"][0].startswith("INCOMPLETE: ")


def test_incomplete_markdown_and_batch_say_so(broken: Path, tmp_path: Path) -> None:
    code, out, _ = _query(broken, "--set", "site=knee", "--format", "markdown", "--allow-incomplete")
    assert out.startswith("> **INCOMPLETE: 1 loading error in ")
    batch = tmp_path / "cases.jsonl"
    batch.write_text('{"site": "knee"}\n')
    code, out, _ = _query(broken, "--batch", str(batch), "--allow-incomplete")
    assert json.loads(out)["incomplete"] is True
    code, out, err = _query(broken, "--batch", str(batch))
    assert (code, out) == (2, "") and "refusing to answer" in err


def test_coverage_json_says_incomplete(broken: Path) -> None:
    result = run_cli("coverage", str(broken), "--format", "json", "--allow-incomplete")
    data = json.loads(result.stdout)
    assert data["incomplete"] is True and data["notices"][0].startswith("INCOMPLETE: ")


# ------------------------------------------------------------------------------------------------
# 3. Overdue, not in force, excluded: said, with the dates
# ------------------------------------------------------------------------------------------------

def test_overdue_review_is_flagged_in_every_format(with_override: Path) -> None:
    args = ["--set", "site=knee", "--set", "phase=chronic", "--set", "comorbidities=osteoporosis", "--as-of", "2029-06-01"]
    code, out, _ = _query(with_override, *args, "--format", "json")
    data = json.loads(out)
    validator("query-result").validate(data)
    rt = next(r for r in data["recommendations"] if r["id"] == "RT-001")
    assert rt["review_overdue_since"] == "2028-01-10"
    assert data["summary"]["review_overdue"] == ["RT-001"]
    _, text, _ = _query(with_override, *args)
    assert "      REVIEW OVERDUE since 2028-01-10: this advice may be out of date" in text.splitlines()
    assert "Review overdue on this date: RT-001" in text.splitlines()
    _, markdown, _ = _query(with_override, *args, "--format", "markdown")
    assert "  - REVIEW OVERDUE since 2028-01-10: this advice may be out of date" in markdown.splitlines()


def test_answer_explains_its_exclusions_with_dates(with_override: Path) -> None:
    code, out, _ = _query(with_override, "--set", "site=knee", "--as-of", "2025-01-01", "--format", "json")
    summary = json.loads(out)["summary"]
    assert summary["excluded_by_reason"] == [
        {"reason": "not-yet-in-force", "count": 1, "details": [{"detail": "2026-01-10", "ids": ["PR-009"]}]}]
    _, text, _ = _query(with_override, "--set", "site=knee", "--as-of", "2025-01-01")
    assert "Excluded: 1 not yet in force: from 2026-01-10 (1)" in text.splitlines()


def test_exclusions_by_status_ended_and_superseded(with_override: Path) -> None:
    path = with_override / "recommendations" / "resistive-training.yaml"
    text = path.read_text().replace("effective: {from: 2026-01-10}", "effective: {from: 2026-01-10, until: 2026-03-01}")
    path.write_text(text)
    code, out, _ = _query(with_override, "--set", "site=knee", "--as-of", "2026-06-01", "--all")
    assert code == 0
    lines = out.splitlines()
    assert "Excluded: 1 no longer in force: ended 2026-03-01 (1)" in lines
    assert "      excluded: not in force on 2026-06-01: ended on 2026-03-01" in lines


# ------------------------------------------------------------------------------------------------
# The manifest's notice on every output; exercises that load the affected part marked in answers
# ------------------------------------------------------------------------------------------------

NOTICE = "Demonstration content: not reviewed by a clinical board."


@pytest.fixture
def with_notice(tmp_path: Path) -> Path:
    kb = tmp_path / "noticed"
    shutil.copytree(MINI, kb)
    manifest = kb / "kb.yaml"
    manifest.write_text(manifest.read_text().replace("released: ", f"notice: >-\n  {NOTICE}\nreleased: ", 1))
    return kb


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_notice_comes_first_in_every_output(with_notice: Path, tmp_path: Path, command: str) -> None:
    result = run_cli(*_args(command, with_notice, tmp_path))
    assert result.exit_code in (0, 1), result.stderr
    if command == "render":
        page = (tmp_path / "site" / "index.html").read_text()
        assert f'<p class="notice" role="note" id="notice"><strong>{NOTICE}</strong></p><h1>' in page
    elif command == "export fhir":
        assert json.loads(result.stdout)["meta"]["tag"] == [
            {"system": "https://avn-kb.org/fhir/notice", "code": "notice", "display": NOTICE}]
    elif command == "graph":
        assert result.stdout.startswith(f"// {NOTICE}\ndigraph")
    else:
        assert result.stdout.startswith(f"{NOTICE}\n")


def test_the_notice_in_json_and_markdown_answers(with_notice: Path) -> None:
    _, out, _ = _query(with_notice, "--set", "site=knee", "--format", "json")
    assert json.loads(out)["notices"] == [NOTICE]
    _, out, _ = _query(with_notice, "--set", "site=knee", "--format", "markdown")
    assert out.startswith(f"> **{NOTICE}**\n")


def test_an_exercise_that_loads_the_affected_part_is_marked(tmp_path: Path) -> None:
    kb = tmp_path / "loads"
    shutil.copytree(MINI, kb)
    vocabulary = kb / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text().replace(
        "exercises: [leg-press, bench-press]",
        "exercises:\n      - {id: leg-press, loads: {site: knee}}\n      - bench-press"))
    code, out, _ = _query(kb, "--set", "site=knee", "--set", "phase=chronic", "--format", "json")
    assert code == 0
    rt = next(r for r in json.loads(out)["recommendations"] if r["id"] == "RT-001")
    assert rt["loading_exercises"] == [{"exercise": "leg-press", "loads": True}]
    _, text, _ = _query(kb, "--set", "site=knee", "--set", "phase=chronic")
    assert "      CAUTION: loads the affected part in this case: leg-press; leave out or adapt" in text.splitlines()
    _, out, _ = _query(kb, "--set", "region=lower-limb", "--set", "phase=chronic", "--format", "json")
    rt = next(r for r in json.loads(out)["recommendations"] if r["id"] == "RT-001")
    assert rt["loading_exercises"] == [{"exercise": "leg-press", "loads": None}]
    _, out, _ = _query(kb, "--set", "site=femoral-head", "--set", "phase=chronic", "--format", "json")
    rt = next(r for r in json.loads(out)["recommendations"] if r["id"] == "RT-001")
    assert "loading_exercises" not in rt


def test_two_doses_for_one_patient_are_flagged_in_the_answer(tmp_path: Path) -> None:
    kb = tmp_path / "two"
    shutil.copytree(MINI, kb)
    path = kb / "recommendations" / "resistive-training.yaml"
    text = path.read_text()
    block = text[text.index("  - id: RT-001"):]
    copy = block.replace("id: RT-001", "id: RT-002").replace("intensity_pct_1rm: [40, 60]", "intensity_pct_1rm: [60, 80]")
    path.write_text(text + copy)
    code, out, _ = _query(kb, "--set", "site=knee", "--set", "phase=chronic", "--format", "json")
    assert code == 0
    flags = {r["id"]: r.get("doses_differ_with") for r in json.loads(out)["recommendations"]}
    assert flags == {"RT-001": [{"id": "RT-002", "parameters": ["intensity_pct_1rm"]}],
                     "RT-002": [{"id": "RT-001", "parameters": ["intensity_pct_1rm"]}]}
    _, text_answer, _ = _query(kb, "--set", "site=knee", "--set", "phase=chronic")
    assert ("      TWO DOSES: RT-002 also applies with a different intensity_pct_1rm (unresolved in the knowledge "
            "base: ask the editors which one holds)") in text_answer.splitlines()
    # The validator refuses the pair (AVN307), with a witness.
    result = run_cli("validate", str(kb), "--format", "json")
    assert result.exit_code == 1
    assert "AVN307" in {f["code"] for f in json.loads(result.stdout)["findings"]}
