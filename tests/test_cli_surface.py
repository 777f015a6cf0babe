"""The command line's common surface (issue "Architecture"): every command takes --kb, the
checking ones also take KB_DIR; every --help ends with examples; `test` has formats and -o;
`query --batch` honours --format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.conftest import MINI, run_cli

COMMANDS = [[], ["validate"], ["test"], ["coverage"], ["query"], ["render"], ["diff"], ["export"],
            ["export", "fhir"], ["graph"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "avn-kb")
def test_every_help_ends_with_examples_that_name_the_command(command: list[str]) -> None:
    text = run_cli(*command, "--help").stdout
    examples = text[text.index("Example"):].splitlines()[1:]
    assert examples and all(line.strip().startswith("avn-kb") for line in examples if line.strip()
                            and not line.strip().startswith("Each")), text
    assert any(line.strip().startswith(" ".join(["avn-kb", *command])) for line in examples)


@pytest.mark.parametrize("command", [["validate"], ["test"], ["coverage"]])
def test_checking_commands_take_kb_dir_or_kb_and_refuse_two_different(command: list[str]) -> None:
    positional = run_cli(*command, str(MINI))
    option = run_cli(*command, "--kb", str(MINI))
    assert (positional.exit_code, positional.stdout) == (option.exit_code, option.stdout)
    assert positional.exit_code in (0, 1)
    same = run_cli(*command, str(MINI), "--kb", str(MINI))
    assert same.exit_code == positional.exit_code
    both = run_cli(*command, str(MINI), "--kb", "knowledge")
    assert both.exit_code == 2
    assert f"the knowledge directory is given twice ({MINI} and --kb knowledge): give it once" in both.stderr


@pytest.mark.parametrize("command", [["query", "--set", "site=knee"], ["render", "--out", "{tmp}"],
                                     ["export", "fhir"], ["graph", "--format", "dot"]])
def test_the_other_commands_take_kb(command: list[str], tmp_path: Path) -> None:
    args = [a.replace("{tmp}", str(tmp_path / "site")) for a in command]
    assert run_cli(*args, "--kb", str(MINI)).exit_code == 0


def test_golden_cases_as_json_and_junit_and_to_a_file(tmp_path: Path) -> None:
    data = json.loads(run_cli("test", str(MINI), "--format", "json").stdout)
    assert data["summary"]["failed"] == 0 and data["summary"]["passed"] == len(data["cases"]) > 0
    assert all(set(case) == {"id", "title", "path", "passed", "failures"} for case in data["cases"])
    target = tmp_path / "golden.xml"
    result = run_cli("test", str(MINI), "--format", "junit", "-o", str(target))
    assert (result.exit_code, result.stdout) == (0, "")
    suite = ElementTree.parse(target).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(data["cases"])) and suite.get("failures") == "0"
    assert [case.get("name") for case in suite.iter("testcase")] == [f"{c['id']} {c['title']}" for c in data["cases"]]


def test_a_failing_golden_case_is_a_junit_failure(tmp_path: Path) -> None:
    import shutil

    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    case_file = kb / "cases" / "basic.yaml"
    text = case_file.read_text()
    assert "apply: [RT-001]\n      undecided: [OF-001]" in text
    case_file.write_text(text.replace("apply: [RT-001]\n      undecided: [OF-001]", "apply: [RT-001, OF-001]"))
    result = run_cli("test", str(kb), "--format", "junit")
    root = ElementTree.fromstring(result.stdout)
    failures = [case for case in root.iter("testcase") if case.find("failure") is not None]
    assert result.exit_code == 1 and failures
    assert "expected to apply" in (failures[0].find("failure").text or "")  # type: ignore[union-attr]


def test_batch_honours_format(tmp_path: Path) -> None:
    batch = tmp_path / "cases.jsonl"
    batch.write_text('{"id": "p1", "facts": {"site": "knee"}}\n{"site": "femoral-head"}\n')
    lines = run_cli("query", "--kb", str(MINI), "--batch", str(batch)).stdout.splitlines()
    assert [json.loads(line)["line"] for line in lines] == [1, 2]
    text = run_cli("query", "--kb", str(MINI), "--batch", str(batch), "--format", "text").stdout
    assert text.startswith("=== line 1, case p1 ===\n") and "\n=== line 2 ===\n" in text
    markdown = run_cli("query", "--kb", str(MINI), "--batch", str(batch), "--format", "markdown").stdout
    assert markdown.startswith("<!-- line 1, case p1 -->\n")
    every = run_cli("query", "--kb", str(MINI), "--batch", str(batch), "--all").stdout.splitlines()
    assert any(r["outcome"] == "not-applicable" for r in json.loads(every[0])["recommendations"])
