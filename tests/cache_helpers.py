"""What the cache tests share: every view of a report (the four formats and the witnesses, which
findings do not compare), and validating with and without the cache."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from avn_kb.output.findings import FORMAT_NAMES, formatter
from avn_kb.validate.cache import cached_validation
from avn_kb.validate.report import Report
from avn_kb.validate.runner import validate
from tests.conftest import MINI, run_cli

AS_OF = dt.date(2026, 6, 1)
DAY = AS_OF.isoformat()


def failing_copy(tmp_path: Path) -> Path:
    """The mini knowledge base with an error (a citation of a reference that does not exist): exit 1."""
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    path = kb / "recommendations" / "offloading.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("ref: mont-1996", "ref: nobody-1999"), encoding="utf-8")
    return kb


def validate_cli(kb: Path, *extra: str) -> tuple[int, str]:
    """(exit code, JSON report) of `avn-kb validate` in process."""
    result = run_cli("validate", str(kb), "--as-of", DAY, "--format", "json", *extra)
    return result.exit_code, result.stdout


def views(report: Report) -> dict[str, Any]:
    """Everything a user can see of a report: each format, plain and strict, the exit codes, and
    each finding's fields with its witness."""
    seen: dict[str, Any] = {f"{name} strict={strict}": formatter(name)(report, strict)
                            for name in FORMAT_NAMES for strict in (False, True)}
    seen["exit codes"] = (report.exit_code(False), report.exit_code(True))
    seen["findings"] = [(f, f.witness) for f in report.findings]
    seen["counts"] = (report.knowledge_base, report.files, report.recommendations)
    return seen


def cold(root: Path, shown: str, as_of: dt.date = AS_OF) -> dict[str, Any]:
    return views(validate(root, shown, as_of=as_of))


def cached(root: Path, shown: str, cache_dir: Path, as_of: dt.date = AS_OF) -> dict[str, Any]:
    return views(cached_validation(root, shown, as_of=as_of, location=cache_dir))
