"""Incremental validation at the largest size (issue 17: 100,000 recommendations, warm after a
one-recommendation edit under 5 s): `avn-kb validate` as pre-commit runs it, on a copy of the
generated knowledge base, filling the cache once and then after one edit (benchmarks/incremental.py
does the same for the shipped knowledge base and 10,000)."""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks import measure
from benchmarks.incremental import default_location, edit_one


def warm_after_edit(binary: Path, origin: Path, work: Path, timeout: float) -> dict[str, measure.Run]:
    """Runs by setting: filling an empty cache, then two warm runs each after one edit."""
    parent = work / f"edit-{origin.name}"
    shutil.rmtree(parent, ignore_errors=True)
    kb = parent / "knowledge"
    shutil.copytree(origin, kb)
    runs: dict[str, measure.Run] = {}
    try:
        with default_location():
            runs["filling an empty cache"] = measure.run_command([str(binary), "validate"], timeout, cwd=parent)
            for number in (1, 2):
                edit_one(kb, number)
                runs[f"warm after a one-recommendation edit ({number})"] = measure.run_command(
                    [str(binary), "validate"], timeout, cwd=parent)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    return runs
