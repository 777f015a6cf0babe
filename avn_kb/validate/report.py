"""The result of a validation: the findings, and what they mean for the exit code. Kept apart
from the runner so that the formatters of findings read it without importing the checks."""

from __future__ import annotations

from dataclasses import dataclass

from avn_kb.model.findings import Finding
from avn_kb.util.exitcodes import ExitCode


@dataclass(frozen=True)
class Report:
    knowledge_base: str
    findings: tuple[Finding, ...]
    files: int
    recommendations: int

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity and f.accepted is None)

    @property
    def accepted(self) -> int:
        return sum(1 for f in self.findings if f.accepted is not None)

    def exit_code(self, strict: bool = False) -> int:
        if self.count("error") or (strict and self.count("warning")):
            return int(ExitCode.FINDINGS)
        return int(ExitCode.OK)
