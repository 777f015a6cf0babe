"""The Finding: one problem the validator reports, with where it is and what to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avn_kb.model.types import Severity

SEVERITIES: dict[str, Severity] = {"error": "error", "warning": "warning", "info": "info"}  # name -> typed


@dataclass(frozen=True)
class Finding:
    """A located problem. `pointer` is the path of keys and indexes inside `path`; the engine turns
    it into `line` and `column` (1-based) only for the findings that are reported."""

    code: str
    severity: Severity
    path: str
    line: int
    column: int
    message: str
    pointer: tuple[str | int, ...] = ()
    ids: tuple[str, ...] = ()
    witness: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    accepted: str | None = None
    at_key: bool = False  # located at the mapping key `pointer` ends with, not at its value
    # Just past the key or value the finding marks (0: not known); filled in with line and column.
    end_line: int = 0
    end_column: int = 0

    def describe(self) -> str:
        """The finding as one line of `avn-kb validate`'s text report."""
        accepted = f" [accepted: {self.accepted}]" if self.accepted is not None else ""
        return f"{self.path}:{self.line}:{self.column}: {self.severity} {self.code} {self.message}{accepted}"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.code, self.message)


def issue(code: str, path: str, pointer: tuple[str | int, ...], message: str,
          ids: tuple[str, ...] = (), witness: dict[str, Any] | None = None, at_key: bool = False) -> Finding:
    """A finding whose line and column the engine fills in from `pointer` (severity from the code)."""
    from avn_kb.model.codes import CODES

    return Finding(code=code, severity=CODES[code].severity, path=path, line=0, column=0,
                   message=message, pointer=pointer, ids=ids, witness=witness, at_key=at_key)
