"""Formatters for validation reports, looked up by name; the CLI's --format choices come from here."""

from __future__ import annotations

from typing import Callable

from avn_kb.engine import Report
from avn_kb.report import github, json_report, sarif, text

FORMATTERS: dict[str, Callable[[Report, bool], str]] = {
    "text": text.render,
    "json": json_report.render,
    "github": github.render,
    "sarif": sarif.render,
}
