"""SARIF 2.1.0, for code-scanning dashboards. Accepted findings carry a suppression."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from avn_kb import __version__
from avn_kb.model.codes import CODES
from avn_kb.validate.report import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def as_data(report: Report, strict: bool = False) -> dict[str, Any]:
    used = sorted({f.code for f in report.findings})
    index = {code: i for i, code in enumerate(used)}
    rules = [{"id": code, "name": code,
              "shortDescription": {"text": CODES[code].summary},
              "defaultConfiguration": {"level": _LEVEL[CODES[code].severity]}} for code in used]
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.code, "ruleIndex": index[f.code], "level": _LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": quote(f.path.replace("\\", "/"))},
                "region": {"startLine": f.line, "startColumn": f.column}}}],
        }
        if f.accepted is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": f.accepted}]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "avn-kb", "version": __version__, "rules": rules}},
                  "results": results}],
    }


def render(report: Report, strict: bool = False) -> str:
    return json.dumps(as_data(report, strict), indent=2, ensure_ascii=False) + "\n"
