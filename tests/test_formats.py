"""Each report format on a knowledge base with known findings: JSON against our schema, SARIF
against the official SARIF 2.1.0 schema, GitHub annotations and text lines exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from avn_kb.load.schemas import validator
from tests.conftest import run_cli

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def broken(mini_copy: Path) -> Path:
    """Two findings: an error (value outside the domain) and a warning (an unused reference)."""
    offloading = mini_copy / "recommendations" / "offloading.yaml"
    offloading.write_text(offloading.read_text().replace("site: femoral-head,", "site: hip,"))
    references = mini_copy / "references.yaml"
    references.write_text(references.read_text().replace(
        "references:\n", "references:\n  - id: unused-2020\n    type: article-journal\n    title: Never, cited\n"
        "    population: avn\n    topics: [offloading]\n"))
    return mini_copy


def test_json_matches_its_schema(broken: Path) -> None:
    result = run_cli("validate", str(broken), "--format", "json")
    report = json.loads(result.stdout)
    validator("findings").validate(report)
    assert report["summary"] == {"files": 6, "recommendations": 2, "errors": 1, "warnings": 1, "infos": 0,
                                 "accepted": 0, "exit_code": 1}
    assert [(f["code"], f["severity"], f["line"]) for f in report["findings"]] == [
        ("AVN122", "error", 11), ("AVN202", "warning", 3)]


def test_sarif_validates_against_the_official_schema(broken: Path) -> None:
    result = run_cli("validate", str(broken), "--format", "sarif")
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    official = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    Draft7Validator.check_schema(official)
    errors = sorted(Draft7Validator(official).iter_errors(sarif), key=str)
    assert errors == []
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in results] == [("AVN122", "error", 11), ("AVN202", "warning", 3)]
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == ["AVN122", "AVN202"]


def test_github_annotations(broken: Path) -> None:
    result = run_cli("validate", str(broken), "--format", "github")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"::error file={broken}/recommendations/offloading.yaml,line=11,col=")
    assert ",title=AVN122::OF-001: 'hip' is not a value of site" in lines[0]
    assert lines[1].startswith(f"::warning file={broken}/references.yaml,line=3,col=")
    assert lines[2].endswith("1 error, 1 warning in 6 files (2 recommendations): FAILED")


def test_text_report_has_one_line_per_finding_and_a_summary(broken: Path) -> None:
    lines = run_cli("validate", str(broken)).stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{broken}/recommendations/offloading.yaml:11:")
    assert " error AVN122 " in lines[0]
    assert lines[1].startswith(f"{broken}/references.yaml:3:") and " warning AVN202 " in lines[1]


def test_clean_json_report(mini_copy: Path) -> None:
    report = json.loads(run_cli("validate", str(mini_copy), "--format", "json").stdout)
    validator("findings").validate(report)
    assert report["findings"] == [] and report["summary"]["exit_code"] == 0


def test_findings_schema_is_valid() -> None:
    from avn_kb.load.schemas import schema

    Draft202012Validator.check_schema(schema("findings"))
