"""e. Incremental validation (issue 17): `avn-kb validate` as pre-commit runs it (the default
knowledge directory, the cache in its default place), whole processes from start to exit, medians:

- the shipped knowledge base without the cache, filling an empty cache, warm with nothing changed,
  and warm after one recommendation was edited (the per-file level: one file parsed again), with
  the harness's own install (editable, as `make install` makes it, bytecode compiled); warm once
  more through click (`avn-kb --debug validate`), which the plain form skips (avn_kb/__main__.py);
- the same cold and warm with avn-kb installed as pre-commit installs the hook (`pip install .`
  into a fresh environment: not editable), and with that install's bytecode removed; the
  interpreter alone in each environment, and what the warm and cold runs import (-X importtime);
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import measure, startup
from benchmarks.report import hotspot_table, seconds, table

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"shipped warm": 0.100, "shipped cold": 0.200, "edited warm": 1.0}
HOOK = "shipped, hook's install"  # the settings measured with avn-kb installed as pre-commit installs it


@dataclass
class Incremental:
    """What step e. measured: setting -> the runs, and the profile of one warm run after an edit."""

    size: int = 0
    runs: dict[str, list[measure.Run]] = field(default_factory=dict)
    profile: tuple[float, list[measure.Hotspot]] | None = None
    imports: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # setting -> top-level imports
    hook_problem: str = ""  # why the hook's install could not be built, if it could not


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


def _timed(binary: Path, parent: Path, runs: int, *extra: str, before: object = None,
           env: dict[str, str] | None = None) -> list[measure.Run]:
    done = []
    for number in range(runs):
        if callable(before):
            before(number)
        done.append(measure.run_command([str(binary), *extra], 600, cwd=parent, env=env))
    return done


def _fresh_copy(work: Path, name: str, origin: Path) -> Path:
    parent = work / f"incremental-{name}"
    shutil.rmtree(parent, ignore_errors=True)
    shutil.copytree(origin, parent / "knowledge")
    return parent


def measure_incremental(binary: Path, generated: Path | None, size: int, work: Path, runs: int) -> Incremental:
    found = Incremental(size=size)
    with default_location():
        _measure_shipped(found, binary, work, runs)
        if generated is not None:
            name, count = f"{size:,}", max(3, runs // 2)
            parent = _fresh_copy(work, name, generated)
            kb = parent / "knowledge"
            found.runs[f"{name}: --no-cache"] = _timed(binary, parent, 1, "validate", "--no-cache")
            _timed(binary, parent, 1, "validate")  # fills the cache
            found.runs[f"{name}: warm after a one-recommendation edit"] = _timed(
                binary, parent, count, "validate", before=lambda number: edit_one(kb, number))
            found.runs[f"{name}: warm, nothing changed"] = _timed(binary, parent, count, "validate")
            found.profile = _profile_after_edit(kb)
    return found


def _measure_shipped(found: Incremental, binary: Path, work: Path, runs: int) -> None:
    """The shipped knowledge base with the harness's install (editable, bytecode compiled) and with
    the hook's, each setting's runs of the two interleaved (the load of a shared machine changes
    from minute to minute); then the hook's install without its bytecode."""
    hook, found.hook_problem = startup.hook_install(work)
    installs = {"shipped": (binary, _fresh_copy(work, "shipped", ROOT / "knowledge"))}
    if hook is not None:
        installs[HOOK] = (hook / "avn-kb", _fresh_copy(work, "shipped-hook", ROOT / "knowledge"))

    def empty(parent: Path) -> Callable[[int], None]:
        return lambda _: shutil.rmtree(parent / ".avn-kb-cache", ignore_errors=True)

    def edit(parent: Path) -> Callable[[int], None]:
        return lambda number: edit_one(parent / "knowledge", number)

    settings: list[tuple[str, list[str], Callable[[Path], Callable[[int], None]] | None]] = [
        ("--no-cache", ["validate", "--no-cache"], None),
        ("filling an empty cache", ["validate"], empty),
        ("warm after a one-recommendation edit", ["validate"], edit),
        ("warm, nothing changed", ["validate"], None),
        ("warm, nothing changed, through click (--debug)", ["--debug", "validate"], None)]
    for setting, args, before in settings:
        for number in range(runs):
            for name, (program, parent) in installs.items():
                if before is not None:
                    before(parent)(number)
                found.runs.setdefault(f"{name}: {setting}", []).append(
                    measure.run_command([str(program), *args], 600, cwd=parent))
    for name, (program, parent) in installs.items():
        found.runs[f"python -c pass, in the environment of {name}"] = _timed(
            program.parent / "python", parent, runs, "-c", "pass")
    if hook is not None:
        _measure_hook_install(found, hook, installs[HOOK][1], runs)


def _measure_hook_install(found: Incremental, hook: Path, parent: Path, runs: int) -> None:
    """What the hook's install imports, and its runs without bytecode."""
    binary, python = hook / "avn-kb", hook / "python"
    found.imports[f"{HOOK}: warm, nothing changed"] = startup.import_times(python, [str(binary), "validate"], parent)
    found.imports[f"{HOOK}: --no-cache"] = startup.import_times(python, [str(binary), "validate", "--no-cache"],
                                                                 parent)
    startup.remove_bytecode(hook)
    plain = startup.without_bytecode_writes()
    found.runs[f"{HOOK} without bytecode: --no-cache"] = _timed(binary, parent, runs, "validate", "--no-cache",
                                                               env=plain)
    found.runs[f"{HOOK} without bytecode: warm, nothing changed"] = _timed(binary, parent, runs, "validate",
                                                                          env=plain)


def _profile_after_edit(kb: Path) -> tuple[float, list[measure.Hotspot]]:
    from avn_kb.validate.cache import cache_location, cached_validation

    edit_one(kb, 999)
    return measure.profile(lambda: cached_validation(kb, "knowledge", location=cache_location(kb)), top=12)


def _median(runs: list[measure.Run]) -> float:
    return statistics.median(r.wall for r in runs)


def verdicts(found: Incremental) -> list[tuple[str, str, str]]:
    size = f"{found.size:,}"
    rows = [("shipped, hook's install, warm < 100 ms", f"{HOOK}: warm, nothing changed", TARGETS["shipped warm"]),
            ("shipped, hook's install, cold < 200 ms", f"{HOOK}: --no-cache", TARGETS["shipped cold"]),
            ("shipped, hook's install, filling an empty cache < 200 ms", f"{HOOK}: filling an empty cache",
             TARGETS["shipped cold"]),
            ("shipped, editable install, warm < 100 ms", "shipped: warm, nothing changed", TARGETS["shipped warm"]),
            ("shipped, editable install, cold < 200 ms", "shipped: --no-cache", TARGETS["shipped cold"]),
            (f"{size} recommendations, warm after a one-recommendation edit < 1 s",
             f"{size}: warm after a one-recommendation edit", TARGETS["edited warm"])][:None if found.size else -1]
    judged = []
    for target, setting, limit in rows:
        runs = found.runs.get(setting)
        if not runs or any(r.code is None or r.timed_out for r in runs):
            judged.append((target, "not measured", "-", "-"))
            continue
        median, cpu = _median(runs), statistics.median(r.cpu for r in runs)
        judged.append((target, seconds(median), seconds(cpu), "met" if median < limit else "missed"))
    return judged


def incremental_section(found: Incremental | None) -> list[str]:
    if found is None or not found.runs:
        return []
    rows = [(setting, seconds(_median(runs)), seconds(min(r.wall for r in runs)),
             seconds(statistics.median(r.cpu for r in runs)), seconds(min(r.cpu for r in runs)),
             f"{statistics.median(r.peak_mb for r in runs):.0f} MB", len(runs),
             ", ".join(sorted({str(r.code) for r in runs})))
            for setting, runs in found.runs.items()]
    lines = ["", "## e. Incremental validation (issue 17)", "",
             "`avn-kb validate` as the pre-commit hook runs it (default knowledge directory, the cache in its "
             "default place beside it), whole processes from start to exit. An edit changes one recommendation's "
             "statement, differently before each run, so the report level misses and only that file misses at the "
             "file level.", "",
             "The shipped knowledge base is validated with two installs, their runs interleaved: the harness's own "
             "(`make install`: editable, bytecode compiled by the Makefile) and *the hook's install*, avn-kb "
             "installed as pre-commit installs the hook (`language: python`: `pip install .` into a fresh "
             "environment, not editable, bytecode compiled by pip). The plain `validate [KB_DIR] [--no-cache]` "
             "runs without importing click (avn_kb/__main__.py); *through click* is the same run by the click "
             "group (`--debug` is not the plain form). *Without bytecode* is the hook's install with avn_kb's "
             "compiled modules removed and `PYTHONDONTWRITEBYTECODE=1`, as an editable install is on these "
             "machines unless something compiles it.", ""]
    lines += table(["setting", "median wall", "best wall", "CPU", "best CPU", "peak", "runs", "exit"], rows)
    if found.hook_problem:
        lines += ["", f"The hook's install was not measured: {found.hook_problem}."]
    lines += ["", *table(["target", "measured (median wall)", "CPU (median)", "verdict"], verdicts(found))]
    if found.imports:
        lines += ["", "What the shipped runs with the hook's install import at the top level (`python -X importtime`, "
                      "cumulative, best of 5 processes, modules of 1 ms or more; the interpreter's own start is "
                      "not included):", ""]
        for setting, imports in found.imports.items():
            shown = [(f"`{name}`", seconds(value)) for name, value in imports if value >= 0.001]
            total = sum(value for _, value in imports)
            lines += [f"*{setting}*: {seconds(total)} in all.", "", *table(["module", "cumulative"], shown), ""]
        lines.pop()
    if found.profile is not None:
        total, spots = found.profile
        lines += ["", f"### cProfile: warm after a one-recommendation edit at {found.size:,}", "",
                  f"{seconds(total)} under the profiler.", "", *hotspot_table(spots)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000, help="generated recommendations (0: the shipped only)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    from benchmarks.generate import generate

    binary = Path(sys.executable).parent / "avn-kb"
    # As benchmarks.run does: an editable install under PYTHONDONTWRITEBYTECODE has no bytecode.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "avn_kb")], check=False)
    with tempfile.TemporaryDirectory(prefix="avn-kb-incremental-") as scratch:
        work = Path(scratch)
        generated = work / f"kb-{args.size}" if args.size else None
        if generated is not None:
            generate(args.size, generated)
        start = os.getloadavg()
        found = measure_incremental(binary, generated, args.size, work, args.runs)
    end = os.getloadavg()
    print("\n".join(incremental_section(found)))
    print(f"\nLoad average (1, 5, 15 min) at start: {start[0]:.2f} {start[1]:.2f} {start[2]:.2f}; "
          f"at end: {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
