"""`path:line:col: severity CODE message` lines, then a one-line summary."""

from __future__ import annotations

from avn_kb.validate.report import Report


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render(report: Report, strict: bool = False) -> str:
    lines = [f.describe() for f in report.findings]
    summary = (f"{report.knowledge_base}: {_plural(report.count('error'), 'error')}, "
               f"{_plural(report.count('warning'), 'warning')}")
    if report.count("info"):
        summary += f", {report.count('info')} info"
    if report.accepted:
        summary += f", {report.accepted} accepted"
    summary += (f" in {_plural(report.files, 'file')} ({_plural(report.recommendations, 'recommendation')})"
                f"{' [strict]' if strict else ''}")
    verdict = "FAILED" if report.exit_code(strict) else "OK"
    lines.append(f"{summary}: {verdict}")
    return "\n".join(lines) + "\n"
