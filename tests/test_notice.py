"""The manifest's optional `notice` (kb.yaml): loaded into Manifest.notice for every output to show,
and held to the schema (a non-empty string)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from avn_kb.load.knowledge import load_knowledge
from tests.test_checks_semantic import KB, Edit, Expect, expected_findings, planted, replace, validate_json

RELEASED = "released: 2026-01-15\n"
NOTICE = "Demonstration content written from published sources; not reviewed by a clinical board."


def notice(yaml_value: str) -> Edit:
    return replace(KB, RELEASED, f"{RELEASED}notice: {yaml_value}\n")


@pytest.mark.parametrize("edits,expected", [
    pytest.param((notice(NOTICE),), NOTICE, id="plain"),
    pytest.param((notice(">-\n  Two lines\n  of notice."),), "Two lines of notice.", id="folded"),
    pytest.param((), None, id="absent"),
])
def test_notice_loads(tmp_path: Path, edits: tuple[Edit, ...], expected: str | None) -> None:
    kb_dir = planted(tmp_path, edits)
    manifest = load_knowledge(kb_dir, str(kb_dir)).kb.manifest
    assert manifest is not None and manifest.notice == expected
    exit_code, report = validate_json(kb_dir)
    assert (exit_code, report["findings"]) == (0, [])


@pytest.mark.parametrize("value,messages", [
    pytest.param('""', ("notice: '' is not in the expected form: fix it", "notice: '' should be non-empty"),
                 id="empty"),
    pytest.param("[a, b]", ("notice: this is a list, expected a string",), id="list"),
])
def test_notice_must_be_text(tmp_path: Path, value: str, messages: tuple[str, ...]) -> None:
    kb = planted(tmp_path, (notice(value),))
    exit_code, report = validate_json(kb)
    expected: list[Any] = expected_findings(kb, tuple(
        Expect("AVN111", "error", KB, "notice:", value[0], message) for message in messages))
    assert (exit_code, report["findings"]) == (1, expected)
