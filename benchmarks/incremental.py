"""e. Incremental validation (issue 17): `avn-kb validate` as pre-commit runs it (the default
knowledge directory, the cache in its default place), whole processes from start to exit, medians:

- the shipped knowledge base without the cache, filling an empty cache, warm with nothing changed,
  and warm after one recommendation was edited (the per-file level: one file parsed again);
- the generated 10,000 recommendations the same way (without the cache once, warm after an edit
  of one recommendation, warm with nothing changed);
- a cProfile of a warm run after an edit at 10,000, for what stands in the way.

Run alone with `python -m benchmarks.incremental [--size N] [--runs R]` (prints the section), or
as step e. of `python -m benchmarks.run`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import measure
from benchmarks.report import hotspot_table, seconds, table

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"shipped warm": 0.100, "shipped cold": 0.200, "edited warm": 1.0}


@dataclass
class Incremental:
    """What step e. measured: setting -> the runs, and the profile of one warm run after an edit."""

    size: int = 0
    runs: dict[str, list[measure.Run]] = field(default_factory=dict)
    profile: tuple[float, list[measure.Hotspot]] | None = None


@contextmanager
def default_location() -> Iterator[None]:
    """The cache where a user's would be: beside the knowledge directory (no XDG or explicit one)."""
    saved = {name: os.environ.pop(name) for name in ("XDG_CACHE_HOME", "AVN_KB_CACHE_DIR") if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def edit_one(kb: Path, number: int) -> None:
    """Change the statement of the first recommendation of the first file, differently each time,
    in place, as an editor would (the rest of the file stays as it was written)."""
    path = sorted((kb / "recommendations").glob("*.yaml"))[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("statement:"))
    if lines[at].rstrip().endswith((">-", ">", "|", "|-")):
        at += 1  # a block scalar: its text starts on the next line
    lines[at] = re.sub(r" \[edit \d+\]$", "", lines[at]) + f" [edit {number}]"
    path.write_text("\n".join(lines), encoding="utf-8")


def _timed(binary: Path, parent: Path, runs: int, *extra: str, before: object = None) -> list[measure.Run]:
    done = []
    for number in range(runs):
        if callable(before):
            before(number)
        done.append(measure.run_command([str(binary), "validate", *extra], 600, cwd=parent))
    return done


def measure_incremental(binary: Path, generated: Path | None, size: int, work: Path, runs: int) -> Incremental:
    found = Incremental(size=size)
    with default_location():
        for name, origin, count in (("shipped", ROOT / "knowledge", runs), (f"{size:,}", generated, max(3, runs // 2))):
            if origin is None:
                continue
            parent = work / f"incremental-{name}"
            shutil.rmtree(parent, ignore_errors=True)
            kb, store = parent / "knowledge", parent / ".avn-kb-cache"
            shutil.copytree(origin, kb)
            found.runs[f"{name}: --no-cache"] = _timed(binary, parent, 1 if name != "shipped" else count, "--no-cache")
            if name == "shipped":
                found.runs[f"{name}: filling an empty cache"] = _timed(
                    binary, parent, count, before=lambda _, store=store: shutil.rmtree(store, ignore_errors=True))
            _timed(binary, parent, 1)  # fills the cache
            found.runs[f"{name}: warm after a one-recommendation edit"] = _timed(
                binary, parent, count, before=lambda number, kb=kb: edit_one(kb, number))
            found.runs[f"{name}: warm, nothing changed"] = _timed(binary, parent, count)
            if name != "shipped":
                found.profile = _profile_after_edit(kb)
    return found


def _profile_after_edit(kb: Path) -> tuple[float, list[measure.Hotspot]]:
    from avn_kb.validate.cache import cache_location, cached_validation

    edit_one(kb, 999)
    return measure.profile(lambda: cached_validation(kb, "knowledge", location=cache_location(kb)), top=12)


def _median(runs: list[measure.Run]) -> float:
    return statistics.median(r.wall for r in runs)


def verdicts(found: Incremental) -> list[tuple[str, str, str]]:
    size = f"{found.size:,}"
    rows = [("shipped, pre-commit path, warm < 100 ms", "shipped: warm, nothing changed", TARGETS["shipped warm"]),
            ("shipped, pre-commit path, cold < 200 ms", "shipped: --no-cache", TARGETS["shipped cold"]),
            (f"{size} recommendations, warm after a one-recommendation edit < 1 s",
             f"{size}: warm after a one-recommendation edit", TARGETS["edited warm"])]
    judged = []
    for target, setting, limit in rows:
        runs = found.runs.get(setting)
        if not runs or any(r.code is None or r.timed_out for r in runs):
            judged.append((target, "not measured", "-"))
            continue
        median = _median(runs)
        judged.append((target, seconds(median), "met" if median < limit else "missed"))
    return judged


def incremental_section(found: Incremental | None) -> list[str]:
    if found is None or not found.runs:
        return []
    rows = [(setting, seconds(_median(runs)), seconds(min(r.wall for r in runs)),
             seconds(statistics.median(r.cpu for r in runs)), f"{statistics.median(r.peak_mb for r in runs):.0f} MB",
             len(runs), ", ".join(sorted({str(r.code) for r in runs})))
            for setting, runs in found.runs.items()]
    lines = ["", "## e. Incremental validation (issue 17)", "",
             "`avn-kb validate` as the pre-commit hook runs it (default knowledge directory, the cache in its "
             "default place beside it), whole processes from start to exit. An edit changes one recommendation's "
             "statement, differently before each run, so the report level misses and only that file misses at the "
             "file level.", ""]
    lines += table(["setting", "median wall", "best", "CPU", "peak", "runs", "exit"], rows)
    lines += ["", *table(["target", "measured (median)", "verdict"], verdicts(found))]
    if found.profile is not None:
        total, spots = found.profile
        lines += ["", f"### cProfile: warm after a one-recommendation edit at {found.size:,}", "",
                  f"{seconds(total)} under the profiler.", "", *hotspot_table(spots)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    from benchmarks.generate import generate

    binary = Path(sys.executable).parent / "avn-kb"
    # As benchmarks.run does: an editable install under PYTHONDONTWRITEBYTECODE has no bytecode.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "avn_kb")], check=False)
    with tempfile.TemporaryDirectory(prefix="avn-kb-incremental-") as scratch:
        work = Path(scratch)
        generate(args.size, work / f"kb-{args.size}")
        found = measure_incremental(binary, work / f"kb-{args.size}", args.size, work, args.runs)
    load = os.getloadavg()
    print("\n".join(incremental_section(found)))
    print(f"\nLoad average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
