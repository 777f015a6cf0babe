"""`avn-kb query`, `avn-kb test` and `avn-kb coverage` as users run them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from avn_kb.load.schemas import validator
from tests.conftest import MINI, SHIPPED, run_cli

KB = ["--kb", str(MINI)]


def _json(*args: str, input: str | None = None) -> dict:
    result = run_cli("query", *KB, "--format", "json", *args, input=input)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    validator("query-result").validate(data)
    return data


def test_json_answer_validates_and_carries_outcomes() -> None:
    data = _json("--set", "site=femoral-head", "--set", "arco_stage=II", "--as-of", "2026-06-01")
    assert data["derived"] == {"collapse": "pre-collapse", "region": "lower-limb"}
    assert [(r["id"], r["outcome"]) for r in data["recommendations"]] == [("OF-001", "applies"), ("RT-001", "undecided")]
    assert data["recommendations"][1]["missing"] == ["phase"]
    assert data["summary"] == {"applies": 1, "overridden": 0, "undecided": 1, "not-applicable": 0, "excluded": 0,
                               "excluded_by_reason": [], "review_overdue": []}
    assert (data["notices"], data["incomplete"], "problems" in data) == ([], False, False)
    assert [r["n"] for r in data["references"]] == [1, 2]


def test_explain_trace_in_json_and_text() -> None:
    data = _json("--set", "site=knee", "--set", "phase=acute", "--explain")
    rt = next(r for r in data["recommendations"] if r["id"] == "RT-001")
    assert rt["trace"] == [{"test": "region is lower-limb", "fact": "region", "value": "lower-limb", "held": True},
                           {"test": "not (phase is acute)", "fact": "phase", "value": "acute", "held": False}]
    text = run_cli("query", *KB, "--set", "site=knee", "--set", "phase=acute", "--explain").stdout
    assert "not (phase is acute): case has acute -> no" in text
    assert "[2] williams-2007-aha" in text


def test_kilograms_from_one_rep_max() -> None:
    data = _json("--set", "site=knee", "--set", "phase=chronic", "--set", "one_rep_max_kg=50")
    assert data["recommendations"][0]["load_kg"] == {"intensity_pct_1rm": [20.0, 30.0]}


def test_case_from_file_and_stdin_and_set_on_top(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("site: femoral-head\narco_stage: IIIA\n")
    data = _json(str(case), "--set", "phase=chronic")
    assert data["case"] == {"site": "femoral-head", "arco_stage": "IIIA", "phase": "chronic"}
    data = _json("-", input='{"site": "knee", "phase": "chronic"}')
    assert data["case"] == {"site": "knee", "phase": "chronic"}


@pytest.mark.parametrize("content,expected", [
    ("site: hip\n", "case.yaml:1:7: site: 'hip' is not one of: femoral-head, knee, humeral-head"),
    ("stage: II\n", "case.yaml:1:8: unknown fact 'stage'"),
    ("site: knee\npain_score: 11\n", "case.yaml:2:13: pain_score: 11 is outside 0-10 NRS"),
    ("site: knee\nsite: talus\n", "case.yaml:2:1: site is given twice (knee, talus): give it once"),
    ("- site: knee\n", "case.yaml:1:1: document: this is a list, expected a mapping"),
])
def test_bad_case_file_is_exit_2_with_location(tmp_path: Path, content: str, expected: str) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(content)
    result = run_cli("query", *KB, str(case))
    assert result.exit_code == 2
    assert f"{tmp_path}/{expected}" in result.stderr, result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("setting,expected", [
    ("site=hip", "site: 'hip' is not one of"),
    ("one_rep_max_kg=heavy", "one_rep_max_kg: 'heavy' is not a number"),
    ("comorbidities=flu", "comorbidities: 'flu' not among"),
    ("nothing", "write --set fact=value"),
])
def test_bad_set_option_is_exit_2(setting: str, expected: str) -> None:
    result = run_cli("query", *KB, "--set", setting)
    assert result.exit_code == 2 and expected in result.stderr


def test_disagreeing_stages_are_refused() -> None:
    result = run_cli("query", *KB, "--set", "arco_stage=IIIA", "--set", "collapse=pre-collapse")
    assert result.exit_code == 2
    assert "collapse is given as pre-collapse but the other facts give post-collapse" in result.stderr


def test_patient_audience_and_markdown_escaping(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    rt = kb / "recommendations" / "resistive-training.yaml"
    rt.write_text(rt.read_text().replace("Lift light weights", "Lift <script>alert(1)</script> *light* weights"))
    result = run_cli("query", "--kb", str(kb), "--set", "site=knee", "--set", "phase=chronic",
                     "--audience", "patient", "--format", "markdown")
    assert result.exit_code == 0
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\*light\\* weights" in result.stdout
    assert "<script>" not in result.stdout


def test_batch_streams_answers_and_reports_bad_lines(tmp_path: Path) -> None:
    batch = tmp_path / "cases.jsonl"
    batch.write_text('{"id": "a", "facts": {"site": "knee", "phase": "chronic"}}\n'
                     'not json\n\n'
                     '{"site": "hip"}\n'
                     '{"site": "femoral-head", "arco_stage": "II"}\n')
    result = run_cli("query", *KB, "--batch", str(batch))
    assert result.exit_code == 2
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    for answer in answers:
        validator("query-result").validate(answer)
    assert [(a["line"], a.get("id")) for a in answers] == [(1, "a"), (5, None)]
    assert f"{batch}:2:1: not valid JSON" in result.stderr
    assert f"{batch}:4: site: 'hip' is not one of" in result.stderr


def test_golden_cases_pass_on_the_shipped_knowledge_base() -> None:
    result = run_cli("test", str(SHIPPED))
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[-1].endswith(" passed, 0 failed")
    assert int(lines[-1].split()[0]) >= 15


def test_failing_golden_case_shows_the_difference(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    cases = kb / "cases" / "basic.yaml"
    cases.write_text(cases.read_text().replace("      apply: [RT-001]\n      undecided: [OF-001]",
                                               "      apply: [RT-001, OF-001]"))
    result = run_cli("test", str(kb))
    assert result.exit_code == 1
    assert "FAIL CASE-002 Stage unknown\n     OF-001: expected to apply, got undecided" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 passed, 1 failed"


def test_coverage_matrix() -> None:
    result = run_cli("coverage", str(MINI))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("site x arco_stage: O = Offloading, R = Resistive training")
    assert lines[2].split() == ["femoral-head", "Or", "Or", ".r", ".r", ".r"]
    assert lines[4].split() == ["humeral-head", "..", "..", "..", "..", ".."]
    assert run_cli("coverage", str(MINI), "--rows", "nope").exit_code == 2
