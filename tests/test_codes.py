"""Finding codes are unique, well-formed, documented in docs/checks.md and actually emitted."""

from __future__ import annotations

import re
from pathlib import Path

from avn_kb.model.codes import _TABLE, CODE_PATTERN, CODES
from avn_kb.model.findings import SEVERITIES

ROOT = Path(__file__).resolve().parent.parent


def test_codes_are_unique_and_well_formed() -> None:
    codes = [row[0] for row in _TABLE]
    assert len(codes) == len(set(codes))
    for code, severity, summary in _TABLE:
        assert CODE_PATTERN.match(code), code
        assert severity in SEVERITIES
        assert summary


def test_every_code_is_documented() -> None:
    documented = set(re.findall(r"^### (AVN[0-9]{3})\b", (ROOT / "docs" / "checks.md").read_text(), re.MULTILINE))
    assert documented == set(CODES)


def test_every_code_is_emitted_somewhere() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "avn_kb").rglob("*.py") if p.name != "codes.py")
    missing = [code for code in CODES if f'"{code}"' not in source]
    assert missing == []
