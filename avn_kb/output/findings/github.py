"""GitHub Actions workflow commands: one annotation per finding on the pull request's diff."""

from __future__ import annotations

from avn_kb.output.findings import text
from avn_kb.validate.report import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, strict: bool = False) -> str:
    lines = []
    for f in report.findings:
        if f.accepted is not None:
            continue
        lines.append(f"::{_LEVEL[f.severity]} file={_property(f.path)},line={f.line},col={f.column},"
                     f"title={_property(f.code)}::{_data(f.message)}")
    return "\n".join(lines) + ("\n" if lines else "") + text.render(report, strict).splitlines()[-1] + "\n"
