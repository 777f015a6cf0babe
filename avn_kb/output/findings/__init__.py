"""Formatters for validation reports, looked up by name; the CLI's --format choices come from
FORMAT_NAMES (importing the formatters themselves is left until one is used, to keep start-up fast)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from avn_kb.validate.report import Report

FORMAT_NAMES = {"text": "text", "json": "json_report", "github": "github", "sarif": "sarif"}


def formatter(name: str) -> Callable[[Report, bool], str]:
    """The render function of one report format."""
    module = import_module(f"avn_kb.output.findings.{FORMAT_NAMES[name]}")
    render: Callable[[Report, bool], str] = module.render
    return render
