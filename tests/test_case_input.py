"""Case input for `avn-kb query`: a fact given twice, wherever it is given twice, and no facts at
all. Through click's CliRunner; the exit codes through a real process in tests/test_exit_codes.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import MINI, run_cli

KB = ["--kb", str(MINI)]


def _twice(*lines: str) -> list[str]:
    return [f"avn-kb query: {line}" for line in lines]


# (case file content or None, options, stderr lines); {case} is the case file's path.
GIVEN_TWICE = [
    (None, ["--set", "site=knee", "--set", "site=humeral-head"],
     _twice("--set: site is given twice (knee, humeral-head): give it once")),
    (None, ["--set", "site=knee", "--set", "site=knee", "--set", "site=knee"],
     _twice("--set: site is given 3 times (knee, knee, knee): give it once")),
    (None, ["--set", "comorbidities=osteoporosis", "--set", "comorbidities=thrombocytopenia,osteoporosis"],
     _twice("--set: comorbidities is given twice ([osteoporosis], [thrombocytopenia, osteoporosis]): give it once")),
    (None, ["--set", "one_rep_max_kg=50", "--set", "phase=acute", "--set", "one_rep_max_kg=52.5",
            "--set", "phase=chronic", "--set", "site=knee"],
     _twice("--set: one_rep_max_kg is given twice (50, 52.5): give it once",
            "--set: phase is given twice (acute, chronic): give it once")),
    # A case file and --set giving the same fact: also twice (--set adds facts, it does not change them).
    ("site: knee\n", ["--set", "site=femoral-head"],
     _twice("--set: site is given twice (knee in {case}, femoral-head in --set): give it once")),
    ("site: knee\n", ["--set", "site=knee", "--set", "site=knee"],
     _twice("--set: site is given 3 times (knee in {case}, knee in --set, knee in --set): give it once")),
    ("comorbidities: [osteoporosis]\n", ["--set", "comorbidities=osteoporosis"],
     _twice("--set: comorbidities is given twice ([osteoporosis] in {case}, [osteoporosis] in --set): give it once")),
    # Twice in the file: located at the second key.
    ("site: knee\nphase: acute\nsite: femoral-head\n", [],
     _twice("{case}:3:1: site is given twice (knee, femoral-head): give it once")),
    ("site: knee\nsite: knee\nsite: humeral-head\nphase: acute\nphase: acute\n", [],
     _twice("{case}:2:1: site is given 3 times (knee, knee, humeral-head): give it once",
            "{case}:5:1: phase is given twice (acute, acute): give it once")),
    ("comorbidities: [osteoporosis]\ncomorbidities: []\n", [],
     _twice("{case}:2:1: comorbidities is given twice ([osteoporosis], []): give it once")),
    ('{"site": "knee", "site": "knee"}\n', [],
     _twice("{case}:1:18: site is given twice (knee, knee): give it once")),
    ("facts:\n  site: knee\n  'site': knee\n", [],
     _twice("{case}:3:3: site is given twice (knee, knee): give it once")),
]


@pytest.mark.parametrize("content, options, expected", GIVEN_TWICE)
def test_a_fact_given_twice_is_refused_naming_it(tmp_path: Path, content: str | None, options: list[str],
                                                 expected: list[str]) -> None:
    case = tmp_path / "case.yaml"
    arguments = list(options)
    if content is not None:
        case.write_text(content, encoding="utf-8")
        arguments.insert(0, str(case))
    result = run_cli("query", *KB, *arguments)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [line.format(case=case) for line in expected]


def test_a_fact_in_the_case_on_stdin_and_in_set_is_given_twice() -> None:
    result = run_cli("query", *KB, "-", "--set", "phase=acute", input='{"site": "knee", "phase": "chronic"}')
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("avn-kb query: --set: phase is given twice (chronic in <stdin>, acute in --set): "
                             "give it once\n")


def test_a_fact_given_twice_in_a_batch_line_is_refused_and_the_other_lines_answered(tmp_path: Path) -> None:
    batch = tmp_path / "cases.jsonl"
    batch.write_text('{"site": "knee", "site": "femoral-head"}\n'
                     '{"site": "knee", "phase": "chronic"}\n'
                     '{"id": "a", "facts": {"phase": "acute", "phase": true}, "id": "b"}\n'
                     '{"comorbidities": ["osteoporosis"], "comorbidities": null}\n', encoding="utf-8")
    result = run_cli("query", *KB, "--batch", str(batch))
    assert result.exit_code == 2
    assert [json.loads(line)["line"] for line in result.stdout.splitlines()] == [2]
    assert result.stderr.splitlines() == [
        f"avn-kb query: {batch}:1: site is given twice (knee, femoral-head): give it once",
        f"avn-kb query: {batch}:3: phase is given twice (acute, true): give it once",
        f"avn-kb query: {batch}:3: id is given twice (a, b): give it once",
        f"avn-kb query: {batch}:4: comorbidities is given twice ([osteoporosis], null): give it once",
    ]


def test_each_fact_once_is_answered(tmp_path: Path) -> None:
    """The same facts, each given once across the file and --set, are a case like any other."""
    case = tmp_path / "case.yaml"
    case.write_text("site: knee\n", encoding="utf-8")
    result = run_cli("query", *KB, str(case), "--set", "phase=chronic", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["case"] == {"site": "knee", "phase": "chronic"}


NO_FACTS = ("avn-kb query: no facts given: give the case with --set fact=value (repeatable), a case file (YAML or "
            "JSON; '-' reads it from standard input) or --batch FILE of JSON lines; avn-kb query --help lists "
            "the options\n")


@pytest.mark.parametrize("options", [[], ["--format", "json"], ["--explain", "--all"]])
def test_no_facts_at_all_says_how_to_give_them(options: list[str]) -> None:
    result = run_cli("query", *KB, *options)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == NO_FACTS


def test_an_empty_case_given_on_purpose_is_answered() -> None:
    """A case file (here on stdin) that is an empty mapping was given: it is answered, all undecided."""
    result = run_cli("query", *KB, "-", "--format", "json", input="{}")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["case"] == {}
    assert data["summary"]["undecided"] == 2
