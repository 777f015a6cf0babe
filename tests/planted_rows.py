"""Tables of planted defects shared by the test files of single features: each row is (code, name,
edits to the mini knowledge base, every finding expected), run through `avn-kb validate --format
json` and compared field by field (see tests/test_checks_semantic.py for the planting helpers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_checks_semantic import Edit, Expect, expected_findings, planted, validate_json

Row = tuple[str, str, tuple[Edit, ...], tuple[Expect, ...]]


def params(rows: list[Row]) -> list[Any]:
    """pytest parameters (edits, expected), named code-name."""
    return [pytest.param(edits, expected, id=f"{code}-{name}") for code, name, edits, expected in rows]


def assert_each_code_fails_and_passes(rows: list[Row], codes: tuple[str, ...]) -> None:
    """Every code has a row that plants it and a row about it that validates without it."""
    for code in codes:
        about = [row for row in rows if row[0] == code]
        assert any(any(e.code == code for e in row[3]) for row in about), f"no row plants {code}"
        assert any(not any(e.code == code for e in row[3]) for row in about), f"no valid variant for {code}"
    assert len({(row[0], row[1]) for row in rows}) == len(rows), "two rows share a name"


def assert_reported_exactly(tmp_path: Path, edits: tuple[Edit, ...], expected: tuple[Expect, ...]) -> None:
    """The planted knowledge base validates with exactly these findings, and the exit code follows
    from the errors not accepted."""
    kb = planted(tmp_path, edits)
    exit_code, report = validate_json(kb)
    assert report["findings"] == expected_findings(kb, expected)
    assert exit_code == (1 if any(e.severity == "error" and e.accepted is None for e in expected) else 0)
