"""The golden cases' results (`avn-kb test`), one table of formats: text for people (a PASS or
FAIL line per case with its differences), JSON for tools, and JUnit XML for CI test reports (each
golden case a test case; a failure carries its differences)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from avn_kb.resolve.golden import CaseRun


@dataclass(frozen=True)
class GoldenReport:
    """What a run of the golden cases found: the runs, the approved recommendations no case
    applies, and the notices to show first."""

    knowledge_base: str
    runs: tuple[CaseRun, ...]
    unexercised: tuple[str, ...]
    notices: tuple[str, ...] = ()

    @property
    def failed(self) -> int:
        return sum(1 for run in self.runs if not run.passed)


def render_text(report: GoldenReport) -> str:
    lines = list(report.notices)
    for run in report.runs:
        lines.append(f"{'PASS' if run.passed else 'FAIL'} {run.case.id} {run.case.title}")
        lines += [f"     {failure}" for failure in run.failures]
    if report.unexercised:
        lines.append(f"approved recommendations no case applies: {', '.join(report.unexercised)}")
    lines.append(f"{len(report.runs) - report.failed} passed, {report.failed} failed")
    return "\n".join(lines) + "\n"


def as_data(report: GoldenReport) -> dict[str, Any]:
    return {"knowledge_base": report.knowledge_base, "notices": list(report.notices),
            "summary": {"passed": len(report.runs) - report.failed, "failed": report.failed},
            "cases": [{"id": run.case.id, "title": run.case.title, "path": run.case.where.path,
                       "passed": run.passed, "failures": list(run.failures)} for run in report.runs],
            "unexercised": list(report.unexercised)}


def render_json(report: GoldenReport) -> str:
    return json.dumps(as_data(report), indent=2, ensure_ascii=False) + "\n"


def render_junit(report: GoldenReport) -> str:
    """JUnit XML as CI systems read it (GitHub test reporters, GitLab, Jenkins): one testsuite,
    a testcase per golden case (classname: the file it is in), a failure element per failed case."""
    from xml.sax.saxutils import quoteattr  # here: it imports urllib and http (20 ms), for junit only

    cases: Sequence[str] = [_junit_case(run) for run in report.runs]
    suite = (f'<testsuite name={quoteattr("avn-kb golden cases: " + report.knowledge_base)} '
             f'tests="{len(report.runs)}" failures="{report.failed}" errors="0" skipped="0">')
    notes = "".join(f"<property name=\"notice\" value={quoteattr(note)}/>" for note in report.notices)
    properties = f"<properties>{notes}</properties>" if notes else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n' + suite + properties + "\n"
            + "".join(cases) + "</testsuite>\n</testsuites>\n")


def _junit_case(run: CaseRun) -> str:
    from xml.sax.saxutils import escape, quoteattr

    head = f"  <testcase classname={quoteattr(run.case.where.path)} name={quoteattr(f'{run.case.id} {run.case.title}')}"
    if run.passed:
        return head + "/>\n"
    message = f"{len(run.failures)} expectation(s) not met"
    body = escape("\n".join(run.failures))
    return f"{head}>\n    <failure message={quoteattr(message)}>{body}</failure>\n  </testcase>\n"


FORMATS: dict[str, Callable[[GoldenReport], str]] = {"text": render_text, "json": render_json, "junit": render_junit}
