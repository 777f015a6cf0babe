"""Measurements: a command from process start to exit (wall, CPU, peak memory), the phases of a
validation in this process, and cProfile tops."""

from __future__ import annotations

import cProfile
import datetime as dt
import os
import pstats
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator


@dataclass(frozen=True)
class Run:
    """One process: wall seconds, CPU seconds (user + system), peak resident MB, exit code, last line."""

    wall: float
    cpu: float
    peak_mb: float
    code: int | None
    timed_out: bool
    last_line: str
    output: str


def run_command(argv: list[str], timeout: float, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `argv` to completion or until `timeout` seconds (then its process group is killed).

    Peak memory is the largest VmHWM of the process read from /proc every 5 ms: `wait4`'s
    ru_maxrss would count the memory of this (large) process, which the child holds between
    fork and exec. While the process has processes of its own (a worker it forked: `validate`'s
    shared checks, `query --batch --jobs`), it is the largest sum of all of their proportional
    set sizes instead, if larger (PSS: a page the worker still shares with its parent counts
    half in each, so the sum is the memory they hold together). CPU time comes from `wait4`
    (nothing is spent before exec); it includes the workers'."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True)
        killed = threading.Event()
        exited = threading.Event()
        peak = [0]

        def watch() -> None:
            status = Path(f"/proc/{proc.pid}/status")
            while not exited.is_set():
                try:
                    for line in status.read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            peak[0] = max(peak[0], int(line.split()[1]))
                except (OSError, ValueError):
                    pass
                family = _descendants(proc.pid)
                if family:
                    peak[0] = max(peak[0], sum(_pss_kb(pid) for pid in (proc.pid, *family)))
                exited.wait(0.005)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()

        def kill() -> None:
            killed.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            exited.set()
        wall = time.perf_counter() - started
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    lines = [line for line in text.splitlines() if line.strip()]
    return Run(wall, usage.ru_utime + usage.ru_stime, peak[0] / 1024, None if killed.is_set() else proc.returncode,
               killed.is_set(), lines[-1] if lines else "", text)


def _descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (Linux /proc/PID/task/TID/children)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    except (OSError, ValueError):
        pass
    return found


def _pss_kb(pid: int) -> int:
    """The proportional set size of `pid` in kB, 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class OverBudget(Exception):
    """A phase ran past its time budget and was stopped."""


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Stop the body with OverBudget after `seconds` (SIGALRM; main thread, pure-Python loops)."""
    def expire(signum: int, frame: Any) -> None:
        raise OverBudget()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    finished: bool
    detail: str = ""


def validation_phases(root: Path, as_of: dt.date, seconds_per_check: float) -> list[Phase]:
    """Where a validation spends its time: YAML parsing, schema validation, building the model,
    each check of the registry (each stopped after `seconds_per_check`), and locating findings.
    Mirrors avn_kb.validate.runner.validate step by step, timing the loader's calls by wrapping them, with
    the cyclic garbage collector paused as validate pauses it."""
    from avn_kb.util.gcpause import collector_paused

    with collector_paused():
        return _validation_phases(root, as_of, seconds_per_check)


def _validation_phases(root: Path, as_of: dt.date, seconds_per_check: float) -> list[Phase]:
    from avn_kb.validate import runner as engine
    from avn_kb.lang.domains import SearchBudget
    from avn_kb.validate.units import SearchRun
    from avn_kb.validate.checks import CHECKS, CheckContext
    from avn_kb.load import knowledge

    spent = {"parse": 0.0, "schema": 0.0}
    real_load, real_schema = knowledge.load_yaml, knowledge.schema_findings

    def timed_load(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_load(*args)
        finally:
            spent["parse"] += time.perf_counter() - started

    def timed_schema(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return iter(list(real_schema(*args)))
        finally:
            spent["schema"] += time.perf_counter() - started

    knowledge.load_yaml, knowledge.schema_findings = timed_load, timed_schema  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        loaded = knowledge.load_knowledge(root, str(root))
        total = time.perf_counter() - started
    finally:
        knowledge.load_yaml, knowledge.schema_findings = real_load, real_schema  # type: ignore[assignment]
    phases = [Phase("load: YAML parsing (safe_yaml)", spent["parse"], True),
              Phase("load: schema validation (schemas.schema_findings)", spent["schema"], True),
              Phase("load: building the model", total - spent["parse"] - spent["schema"], True)]
    ctx = CheckContext(kb=loaded.kb, as_of=as_of, unbuilt_ids=frozenset(loaded.unbuilt_ids),
                       unbuilt_citations=frozenset(loaded.unbuilt_citations),
                       declared_names=frozenset(loaded.declared_names))
    findings = list(loaded.findings)
    search_run = SearchRun(SearchBudget.for_size(len(loaded.kb.recommendations)))
    for name, check in CHECKS.items():
        started = time.perf_counter()
        produced: list[Any] = []
        try:
            with budget(seconds_per_check):
                for finding in check.run(ctx, search_run):
                    produced.append(finding)
            phases.append(Phase(f"check {name}", time.perf_counter() - started, True, f"{len(produced)} findings"))
        except OverBudget:
            phases.append(Phase(f"check {name}", time.perf_counter() - started, False,
                                f"stopped after {seconds_per_check:g} s"))
        findings.extend(produced)
    started = time.perf_counter()
    places = engine.KeptPlaces()
    located = [engine._placed(loaded, f, places) for f in findings]
    phases.append(Phase("locate findings and their ends (load/positions.py)", time.perf_counter() - started, True,
                        f"{len(located)} findings in {len({f.path for f in findings if not f.line})} files"))
    return phases


@dataclass(frozen=True)
class Hotspot:
    function: str
    calls: str
    own: float
    total: float


def profile(call: Callable[[], Any], top: int = 15) -> tuple[float, list[Hotspot]]:
    """Run `call` under cProfile; the functions with the most cumulative time (the whole run first)."""
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(call)
    seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    rows, ours = [], set()
    for (path, line, name), (primitive, calls, own, total, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(path).parent.name}/{Path(path).name}:{line}" if path != "~" else "built-in"
        shown_calls = str(calls) if calls == primitive else f"{calls}/{primitive}"
        rows.append(Hotspot(f"{name} ({where})", shown_calls, own, total))
        # The tool's own functions and the libraries it calls (by where they are written: the
        # name shown keeps only the file's folder), not the profiler's call of the whole.
        if any(part in path for part in ("avn_kb", "yaml", "jsonschema", "referencing", "networkx")):
            ours.add(rows[-1].function)
    rows.sort(key=lambda h: h.total, reverse=True)
    interesting = [h for h in rows if h.function in ours]
    by_own = sorted(rows, key=lambda h: h.own, reverse=True)[:top]
    return seconds, _dedupe(interesting[:top] + by_own)


def _dedupe(rows: list[Hotspot]) -> list[Hotspot]:
    seen: set[str] = set()
    out = []
    for row in rows:
        if row.function not in seen:
            seen.add(row.function)
            out.append(row)
    return out


__all__ = ["Run", "run_command", "Phase", "validation_phases", "Hotspot", "profile", "budget", "OverBudget", "replace"]
