"""SARIF for GitHub code scanning: every code a rule with its help from docs/checks.md, locations
relative to the repository root that mark the whole key or value, fingerprints that survive
unrelated edits, and the report checked by the official schema and by Microsoft's SARIF multitool
with GitHub's rules (`validate --rule-kind Sarif;Gh`), installed by `make tools`."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from avn_kb import REPOSITORY_URL
from avn_kb.model.codes import CODES
from avn_kb.output.findings.sarif_rules import anchor, friendly_name
from tests.conftest import ROOT, SHIPPED, run_cli
from tests.test_formats import broken as broken_fixture

broken = broken_fixture  # the fixture: an error and a warning in the small knowledge base

DATA = Path(__file__).resolve().parent / "data"
MULTITOOL = sorted(ROOT.glob(".tools/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool"))


def sarif_of(kb: Path, *extra: str) -> dict[str, Any]:
    result = run_cli("validate", str(kb), "--format", "sarif", *extra)
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def git_repo(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def test_every_code_is_a_rule_with_its_help(mini_copy: Path) -> None:
    driver = sarif_of(mini_copy)["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["informationUri"]) == ("avn-kb", REPOSITORY_URL)
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(CODES)  # on a clean run too: analyses compare
    headings = re.findall(r"^### ((AVN[0-9]{3}) .+)$", (ROOT / "docs" / "checks.md").read_text(), re.MULTILINE)
    anchors = {code: anchor(heading) for heading, code in headings}
    for rule in rules:
        code = rule["id"]
        assert rule["helpUri"] == f"{REPOSITORY_URL}/blob/main/docs/checks.md#{anchors[code]}"
        assert re.fullmatch(r"([A-Z][a-z0-9]+)+", rule["name"]), rule["name"]
        assert rule["shortDescription"]["text"].rstrip(".").lower() == CODES[code].summary.lower()
        assert rule["fullDescription"]["text"].endswith(".")
        assert rule["help"]["text"].startswith(code) and rule["helpUri"] in rule["help"]["text"]
        assert rule["help"]["markdown"].startswith(f"**{code} ") and f"]({rule['helpUri']})" in rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning",
                                                         "info": "note"}[CODES[code].severity]
    by_id = {r["id"]: r for r in rules}
    # Straight from the entries: the first paragraph, and the whole entry as help.
    assert by_id["AVN105"]["fullDescription"]["text"] == (
        "A key that appears twice in one mapping, at any depth. PyYAML silently keeps the last one; we "
        "report it and keep the first.")
    assert by_id["AVN105"]["name"] == "DuplicateKey"
    assert "`sets: [3, 1]`" in by_id["AVN124"]["help"]["markdown"]
    assert "sets: [3, 1]" in by_id["AVN124"]["help"]["text"] and "`" not in by_id["AVN124"]["help"]["text"]


@pytest.mark.parametrize("heading, fragment, name", [
    ("AVN108 plain value that YAML 1.1 tools read differently",
     "avn108-plain-value-that-yaml-11-tools-read-differently", "PlainValueThatYaml11ToolsReadDifferently"),
    ("AVN116 unknown check code in the manifest's severity overrides",
     "avn116-unknown-check-code-in-the-manifests-severity-overrides",
     "UnknownCheckCodeInTheManifestsSeverityOverrides"),
    ("AVN310 cycle in overrides, supersedes, derived-fact definitions or `defined_for`",
     "avn310-cycle-in-overrides-supersedes-derived-fact-definitions-or-defined_for",
     "CycleInOverridesSupersedesDerivedFactDefinitionsOrDefinedFor"),
])
def test_anchors_and_names(heading: str, fragment: str, name: str) -> None:
    assert anchor(heading) == fragment
    assert friendly_name(heading.split(" ", 1)[1]) == name


def test_locations_relative_to_the_repository_root(tmp_path: Path, broken: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    broken.rename(repo / "guidance")
    git_repo(repo)
    run = sarif_of(repo / "guidance")["runs"][0]  # given as an absolute path
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": repo.resolve().as_uri() + "/"}}
    locations = [r["locations"][0]["physicalLocation"] for r in run["results"]]
    assert [loc["artifactLocation"] for loc in locations] == [
        {"uri": "guidance/recommendations/offloading.yaml", "uriBaseId": "SRCROOT"},
        {"uri": "guidance/references.yaml", "uriBaseId": "SRCROOT"}]
    # `site: hip,` in `when: {site: hip, collapse: pre-collapse}`: the value, start to end.
    assert locations[0]["region"] == {"startLine": 11, "startColumn": 18, "endLine": 11, "endColumn": 21}
    # The unused reference's id value `unused-2020`.
    assert locations[1]["region"] == {"startLine": 3, "startColumn": 9, "endLine": 3, "endColumn": 20}


def test_outside_git_locations_are_relative_to_the_current_directory(
        tmp_path: Path, broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(broken.parent)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(broken.parent.parent))
    run = sarif_of(Path(broken.name))["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == broken.parent.resolve().as_uri() + "/"
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        f"{broken.name}/recommendations/offloading.yaml")


def _fingerprints(kb: Path) -> list[tuple[str, int, str]]:
    return [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
             r["partialFingerprints"]["avnKbFinding/v1"]) for r in sarif_of(kb)["runs"][0]["results"]]


def test_fingerprints_survive_unrelated_lines_moving(broken: Path) -> None:
    before = _fingerprints(broken)
    for name in ("recommendations/offloading.yaml", "references.yaml"):
        path = broken / name
        first, rest = path.read_text().split("\n", 1)
        path.write_text(f"{first}\n# a comment\n\n# and another\n{rest}")
    after = _fingerprints(broken)
    assert [line for _, line, _ in after] == [line + 3 for _, line, _ in before]
    assert [(code, print_) for code, _, print_ in after] == [(code, print_) for code, _, print_ in before]
    # What the finding says is part of its identity: another wrong value is another alert.
    path = broken / "recommendations" / "offloading.yaml"
    path.write_text(path.read_text().replace("site: hip,", "site: elbow,"))
    changed = _fingerprints(broken)
    assert changed[0][2] != after[0][2] and changed[1] == after[1]


def test_sarif_validates_against_the_official_schema(broken: Path) -> None:
    official = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    Draft7Validator.check_schema(official)
    for kb in (broken, SHIPPED):
        assert sorted(Draft7Validator(official).iter_errors(sarif_of(kb)), key=str) == []


def _multitool(sarif: Path, tmp_path: Path) -> list[dict[str, Any]]:
    """The multitool's errors and warnings (its own SARIF log) for one SARIF file."""
    log = tmp_path / f"{sarif.stem}.validation.sarif"
    done = subprocess.run([str(MULTITOOL[0]), "validate", "--rule-kind", "Sarif;Gh", "--level", "Error;Warning",
                           "--log", "ForceOverwrite", "-o", str(log), str(sarif)],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"})
    assert log.is_file(), done.stdout + done.stderr
    results: list[dict[str, Any]] = json.loads(log.read_text(encoding="utf-8-sig"))["runs"][0]["results"]
    return [{"rule": r["ruleId"], "message": r["message"].get("text", r["message"])} for r in results
            if r.get("level", "warning") in ("error", "warning")]


@pytest.mark.skipif(not MULTITOOL, reason="the SARIF multitool is not installed: `make tools` installs it "
                                          "(npm @microsoft/sarif-multitool into .tools/)")
def test_github_rules_of_the_sarif_multitool(tmp_path: Path, broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    reports = {"shipped": sarif_of(Path("knowledge")), "findings": sarif_of(broken),
               "absolute": sarif_of(SHIPPED.resolve())}
    assert reports["findings"]["runs"][0]["results"]
    for name, report in reports.items():
        path = tmp_path / f"{name}.sarif"
        path.write_text(json.dumps(report), encoding="utf-8")
        assert _multitool(path, tmp_path) == [], name
    # The check can fail: the report as avn-kb wrote it before issue 16 (no help, a rooted URI).
    rule = reports["findings"]["runs"][0]["tool"]["driver"]["rules"][0]
    for key in ("fullDescription", "help"):
        rule.pop(key)
    reports["findings"]["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] = {
        "uri": "/" + str(broken / "references.yaml").lstrip("/")}
    old = tmp_path / "old.sarif"
    old.write_text(json.dumps(reports["findings"]), encoding="utf-8")
    assert {finding["rule"] for finding in _multitool(old, tmp_path)} >= {"GH2012"}
