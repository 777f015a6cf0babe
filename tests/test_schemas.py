"""The JSON Schemas are valid draft 2020-12 with an $id, and every knowledge file names its schema
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
def test_schema_is_valid_2020_12_with_id(path: Path) -> None:
    body = json.loads(path.read_text())
    assert body["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert body["$id"].endswith("/" + path.name)
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
