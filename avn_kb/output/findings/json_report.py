"""The stable JSON report, described by schema/findings.schema.json."""

from __future__ import annotations

import json
from typing import Any

from avn_kb import __version__
from avn_kb.validate.report import Report


def as_data(report: Report, strict: bool = False) -> dict[str, Any]:
    findings = []
    for f in report.findings:
        item: dict[str, Any] = {"code": f.code, "severity": f.severity, "path": f.path, "line": f.line,
                                "column": f.column, "message": f.message}
        if f.ids:
            item["ids"] = list(f.ids)
        if f.witness is not None:
            item["witness"] = f.witness
        if f.accepted is not None:
            item["accepted"] = f.accepted
        findings.append(item)
    return {
        "tool": {"name": "avn-kb", "version": __version__},
        "knowledge_base": report.knowledge_base,
        "summary": {"files": report.files, "recommendations": report.recommendations,
                    "errors": report.count("error"), "warnings": report.count("warning"),
                    "infos": report.count("info"), "accepted": report.accepted,
                    "exit_code": report.exit_code(strict)},
        "findings": findings,
    }


def render(report: Report, strict: bool = False) -> str:
    return json.dumps(as_data(report, strict), indent=2, ensure_ascii=False) + "\n"
