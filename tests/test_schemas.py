"""The JSON Schemas are valid draft 2020-12 without an absolute $id (tests/test_schemas_offline.py), and every knowledge file names its schema
for editors (yaml-language-server) with a path that exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import MINI, ROOT, SHIPPED

SCHEMAS = sorted((ROOT / "schema").glob("*.schema.json"))
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


@pytest.mark.parametrize("path", SCHEMAS, ids=[p.name for p in SCHEMAS])
def test_schema_is_valid_2020_12_without_id(path: Path) -> None:
    body = json.loads(path.read_text())
    assert body["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in body  # its relative $refs resolve from the folder it is read from
    Draft202012Validator.check_schema(body)


def _knowledge_files() -> list[Path]:
    files = []
    for root in (MINI, SHIPPED):
        files += sorted(root.glob("*.yaml")) + sorted(root.glob("*/*.yaml"))
    return files


@pytest.mark.parametrize("path", _knowledge_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_knowledge_file_names_its_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{path} must start with '# yaml-language-server: $schema=...'"
    assert (path.parent / match.group(1)).resolve().is_file()


def _documents() -> list[tuple[str, object]]:
    """Every knowledge document shipped or used as a fixture, with its schema kind."""
    from avn_kb.load.safe_yaml import load_yaml

    kinds = {"kb.yaml": "manifest", "vocabulary.yaml": "vocabulary", "references.yaml": "references"}
    found = []
    for root in (MINI, SHIPPED, ROOT / "tests" / "fixtures" / "published-article"):
        for path in sorted(root.glob("*.yaml")) + sorted(root.glob("*/*.yaml")):
            kind = kinds.get(path.name) or ("recommendations" if path.parent.name == "recommendations" else "cases")
            found.append((kind, load_yaml(str(path), path.read_bytes()).value))
    return found


def _mutations(value: object) -> list[object]:
    """Small schema breakages: wrong types, unknown fields, bad dates and patterns."""
    import copy

    out = []
    if isinstance(value, dict):
        for key in list(value)[:6]:
            for replacement in (1.5, "x y", None, [], {"unknown": 1}, "2025-02-30"):
                changed = copy.deepcopy(value)
                changed[key] = replacement
                out.append(changed)
        extra = copy.deepcopy(value)
        extra["not_a_field"] = 1
        out.append(extra)
        for key, inner in value.items():
            if isinstance(inner, list) and inner and isinstance(inner[0], dict):
                for sub in _mutations(inner[0])[:20]:
                    changed = copy.deepcopy(value)
                    changed[key][0] = sub
                    out.append(changed)
    return out


def test_fast_and_reference_validators_agree() -> None:
    """jsonschema-rs (the fast path) and jsonschema (which explains errors) give the same verdict."""
    from avn_kb.load.schemas import _fast_validator, validator

    checked = 0
    for kind, document in _documents():
        fast = _fast_validator(kind)
        if fast is None:
            pytest.skip("jsonschema-rs is not installed")
        for candidate in [document, *_mutations(document)]:
            reference_ok = next(iter(validator(kind).iter_errors(candidate)), None) is None
            assert fast.is_valid(candidate) == reference_ok, (kind, candidate)
            checked += 1
    assert checked > 500


RECOMMENDATION = {"id": "RT-002", "version": "1.0.0", "status": "draft", "title": "t", "statement": "s",
                  "plain_language": "p", "population": "avn", "when": {"site": "knee"},
                  "action": {"kind": "do", "target": "resistive-training"},
                  "strength": {"level": "conditional", "direction": "for"}, "certainty": "low",
                  "evidence": {"indirect": False}, "citations": [{"ref": "a"}]}

# (what is changed, where the finding sits under recommendations[0], its message from there on):
# a oneOf error is explained by the branch that got furthest into the value, not the shallowest.
ONE_OF = [
    ({"action": {"kind": "do", "target": "x", "dose": {"sets": [".nan", 3]}}}, ("action", "dose", "sets", 0),
     ".action.dose.sets[0]: .nan is a string, expected a number"),
    ({"when": {"age": {"min": 20, "max": ".inf"}}}, ("when", "age", "max"),
     ".when.age.max: .inf is a string, expected a number"),
    ({"when": {"site": {"is": "knee", "then": 1}}}, ("when", "site", "then"),
     ".when.site: unknown field 'then' (allowed: has, in, is, lacks, max, min, not_in): remove or rename it"),
    # No branch gets further than another: the oneOf error itself.
    ({"when": {"site": ["knee", "hip"]}}, ("when", "site"),
     ".when.site: ['knee', 'hip'] is not valid under any of the given schemas"),
]


@pytest.mark.parametrize("change,pointer,message", ONE_OF, ids=[m.split(":")[0] for _, _, m in ONE_OF])
def test_one_of_error_names_the_branch_the_editor_meant(change: dict[str, object], pointer: tuple[object, ...],
                                                         message: str) -> None:
    from avn_kb.load.schemas import schema_findings

    document = {"topic": "t", "recommendations": [{**RECOMMENDATION, **change}]}
    found = [(f.pointer, f.message) for f in schema_findings("recommendations", "r.yaml", document)]
    assert found == [(("recommendations", 0, *pointer), f"recommendations[0]{message}")]
