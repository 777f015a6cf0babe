"""Start-up of the pre-commit path, for step e. (benchmarks/incremental.py): avn-kb installed as
pre-commit installs the hook (`language: python`: `pip install .` into an environment of its own,
not editable), the same install without the package's bytecode, and what a run imports before it
reads a file (`python -X importtime`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a clone of the repository does not have (generated, installed or cached in this checkout).
LEFT_OUT = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".avn-kb-cache", "node_modules",
            ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis")


def hook_install(work: Path) -> tuple[Path | None, str]:
    """(the bin folder of a fresh virtual environment with avn-kb installed from this checkout as
    pre-commit installs it, "") or (None, why it could not be built)."""
    venv, source = work / "hook-venv", work / "hook-source"
    for folder in (venv, source):
        shutil.rmtree(folder, ignore_errors=True)
    # From a copy of the checkout, as pre-commit clones it: setuptools builds in the source tree,
    # and a build/ left there from before could put modules since removed into the wheel.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*LEFT_OUT))
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              str(source)]]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=1200, check=False)
        except subprocess.TimeoutExpired:
            return None, f"`{' '.join(step[:4])}` took over 20 minutes"
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return None, f"`{' '.join(step[:4])}` failed: {last}"
    return venv / "bin", ""


def remove_bytecode(bin_folder: Path) -> None:
    """Delete the compiled modules of avn_kb in that environment, as an editable install has none
    under PYTHONDONTWRITEBYTECODE until something compiles them (`make install` does)."""
    for package in (bin_folder.parent / "lib").glob("python*/site-packages/avn_kb"):
        for cached in package.rglob("__pycache__"):
            shutil.rmtree(cached, ignore_errors=True)


def without_bytecode_writes() -> dict[str, str]:
    """The environment for runs that must not write bytecode (so that each run compiles again)."""
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def import_times(python: Path, argv: list[str], cwd: Path, runs: int = 5) -> list[tuple[str, float]]:
    """The modules a process imports at the top level (the script's own imports, those its
    functions make, and `site`'s), each with its cumulative import time in seconds, the best of
    `runs` processes (-X importtime adds a little to each); largest first."""
    best: dict[str, float] = {}
    for _ in range(runs):
        trace = subprocess.run([str(python), "-X", "importtime", *argv], capture_output=True, text=True, cwd=cwd,
                               check=False).stderr
        for line in trace.splitlines():
            parts = line.split("|")
            if len(parts) != 3 or not parts[1].strip().isdigit():
                continue
            name = parts[2].rstrip()
            if name.startswith(" ") and not name.startswith("  "):  # one space after the bar: the top level
                value = int(parts[1]) / 1e6
                best[name.strip()] = min(value, best.get(name.strip(), value))
    return sorted(best.items(), key=lambda item: item[1], reverse=True)
