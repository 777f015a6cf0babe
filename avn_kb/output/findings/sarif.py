"""SARIF 2.1.0, for GitHub code scanning and other dashboards.

Every code is a rule on every run (so that analyses compare), with help from docs/checks.md.
Locations are relative to the repository root (`SRCROOT`, given in `originalUriBaseIds`) and mark
the whole key or value; each result's fingerprint leaves out line numbers, so that an alert keeps
its identity when unrelated lines move. Accepted findings carry a suppression.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from avn_kb import REPOSITORY_URL, __version__
from avn_kb.model.findings import Finding
from avn_kb.output.findings.sarif_rules import LEVEL, rules
from avn_kb.util.source_root import absolute, source_root
from avn_kb.validate.report import Report

ROOT_ID = "SRCROOT"
FINGERPRINT = "avnKbFinding/v1"


def relative_uri(path: str, root: Path) -> str:
    """The finding's file as a URI reference relative to `root` (percent-encoded, forward slashes)."""
    # Only the system's own separator is one: on POSIX a backslash is part of a name (a misnamed
    # file's \\xff escapes: avn_kb/load/source.py), never a folder to invent.
    full = absolute(path.replace(os.sep, "/"))
    try:
        shown = full.relative_to(root).as_posix()
    except ValueError:
        shown = full.as_posix()
    return quote(shown)


def fingerprint(finding: Finding, uri: str, occurrence: int) -> str:
    """What identifies the finding apart from where its lines are: code, file, the ids and field
    path it is about, its message, and which of identical findings it is."""
    parts = [finding.code, uri, json.dumps(list(finding.pointer)), ",".join(finding.ids), finding.message,
             str(occurrence)]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _region(finding: Finding) -> dict[str, int]:
    end_line = finding.end_line or finding.line
    end_column = finding.end_column if finding.end_line else finding.column
    return {"startLine": finding.line, "startColumn": finding.column, "endLine": end_line, "endColumn": end_column}


def results(report: Report, root: Path, index: dict[str, int]) -> list[dict[str, Any]]:
    made = []
    seen: dict[str, int] = {}
    for f in report.findings:
        uri = relative_uri(f.path, root)
        first = fingerprint(f, uri, 0)
        seen[first] = seen.get(first, -1) + 1
        result: dict[str, Any] = {
            "ruleId": f.code, "ruleIndex": index[f.code], "level": LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": uri, "uriBaseId": ROOT_ID}, "region": _region(f)}}],
            "partialFingerprints": {FINGERPRINT: fingerprint(f, uri, seen[first])},
        }
        if f.accepted is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": f.accepted}]
        made.append(result)
    return made


def as_data(report: Report, strict: bool = False) -> dict[str, Any]:
    described = rules()
    index = {rule["id"]: i for i, rule in enumerate(described)}
    root = source_root(report.knowledge_base)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "avn-kb", "version": __version__, "semanticVersion": __version__,
                                "informationUri": REPOSITORY_URL, "rules": described}},
            "originalUriBaseIds": {ROOT_ID: {"uri": root.as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results(report, root, index),
        }],
    }


def render(report: Report, strict: bool = False) -> str:
    return json.dumps(as_data(report, strict), indent=2, ensure_ascii=False) + "\n"
