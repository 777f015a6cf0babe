"""How a fact's value is written in messages and answers: `true`/`false`, lists in brackets,
numbers without a trailing `.0`. One place, so a value reads the same everywhere."""

from __future__ import annotations

from typing import Any


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(value_text, value)) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)
