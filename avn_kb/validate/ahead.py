"""The costliest checks shared with a second process, on a second core.

The searching checks (unsatisfiable, conflicts, redundancy) are half of a cold validation of a
large knowledge base (at 10,000 recommendations about 1.6 s of some 3.4 s, docs/performance.md),
and they read only the loaded knowledge base. So once the files are loaded, the run forks a
worker, which lists their units (avn_kb/validate/units.py) as the checks ask them and answers
them from the last, with a search budget of its own, sending through a pipe each one answered
without a refusal, with the steps it spent. Meanwhile this process runs the checks in their
order, answering the units from the first and taking each one the worker has sent by then as a
kept table's unit is taken: only where the budget left covers its steps, which are charged again. The two meet in the
middle, and this process never waits for the worker. The findings, and the budget every later
question sees, are a one-process run's exactly; a unit the worker did not answer, or could not
have answered with this run's budget, is computed here. If the worker fails in any way (killed,
out of memory, a broken pipe), this process computes what it did not get.

Only where it pays and is safe: a knowledge base of `MIN_RECOMMENDATIONS` to
`MAX_RECOMMENDATIONS`, more than one usable core, a POSIX fork, a process with one thread that
ends after the run (the command line, avn_kb/util/lifetime.py; not the service, which reloads
and must free what it replaced), and no table of kept units to answer from (a warm run computes
few units). `jobs=1` never forks;
`jobs>=2` forks whatever the size (`avn-kb validate --jobs 2`, tests).

The cost is memory: the worker reads every recommendation, and each object it reads has its
reference count written, so copy-on-write gives it its own copy of most of the loaded model. At
100,000 recommendations the two processes' proportional set sizes summed to 1,426 MB against
706 MB for one (for 40.1 s against 46.3 s, measured while polling them), so a knowledge base that
large stays in one process unless `--jobs 2` asks.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import threading

from avn_kb.lang.domains import SearchBudget
from avn_kb.util import lifetime
from avn_kb.validate.checks import CHECKS, CheckContext
from avn_kb.validate.units import Entry, LocalKey, SearchRun

# The checks the worker shares: they must only search and yield their units' findings (the
# worker's `once` answers nothing at first), and read nothing but the context.
AHEAD = ("unsatisfiable", "conflicts", "redundancy")
# Below this a fork costs more than it saves (1,000 recommendations: some 0.1 s of redundancy).
MIN_RECOMMENDATIONS = 2_000
# Above this the second copy of the model costs more memory than the time saved is worth (module
# docstring): 30,000 recommendations peak near 250 MB in one process.
MAX_RECOMMENDATIONS = 30_000
_FRAME = struct.Struct(">I")  # each unit: its pickle's length, then the pickle
_PIPE_BYTES = 1 << 20  # room for the units sent before this process reads them (Linux: F_SETPIPE_SZ)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worth_forking(ctx: CheckContext, names: tuple[str, ...], jobs: int | None, kept_units: bool) -> bool:
    """Whether this run shares `AHEAD` with a worker (module docstring)."""
    if jobs == 1 or not hasattr(os, "fork") or ctx.kb.vocabulary is None:
        return False
    if not any(name in names for name in AHEAD) or threading.active_count() != 1:
        return False
    if jobs is None:
        return (lifetime.process_ends_after_run() and not kept_units and usable_cores() > 1
                and MIN_RECOMMENDATIONS <= len(ctx.kb.recommendations) <= MAX_RECOMMENDATIONS)
    return True


class Worker:
    """A forked process answering the units of `AHEAD` from the last; `get` takes what it has sent."""

    def __init__(self, ctx: CheckContext, names: tuple[str, ...]) -> None:
        self.names = tuple(name for name in AHEAD if name in names)
        read, write = os.pipe()
        try:
            import fcntl

            fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        except (ImportError, AttributeError, OSError):  # pragma: no cover - a smaller pipe only waits more
            pass
        self.pid = os.fork()
        if self.pid == 0:  # the worker: never returns
            os.close(read)
            _answer(ctx, self.names, write)
        os.close(write)
        os.set_blocking(read, False)
        self._read: int | None = read
        self._pending = bytearray()
        self._units: dict[LocalKey, Entry] = {}

    def get(self, key: LocalKey) -> Entry | None:
        """The unit, if the worker has sent it by now: never waits."""
        if key not in self._units:
            self._drain()
        return self._units.get(key)

    def _drain(self) -> None:
        while self._read is not None:
            try:
                chunk = os.read(self._read, _PIPE_BYTES)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:  # the worker is done, or gone: what it sent whole stays usable
                self.close()
                break
            self._pending += chunk
        while len(self._pending) >= _FRAME.size:
            (size,) = _FRAME.unpack_from(self._pending)
            if len(self._pending) < _FRAME.size + size:
                break
            try:
                key, entry = pickle.loads(self._pending[_FRAME.size:_FRAME.size + size])
            except Exception:  # noqa: BLE001 - never from this program's worker; then nothing more is taken
                self.close()
                self._pending.clear()
                break
            del self._pending[:_FRAME.size + size]
            self._units[key] = entry

    def close(self) -> None:
        """Stop the worker (whatever it is still answering, this process has answered)."""
        if self._read is not None:
            os.close(self._read)
            self._read = None
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):  # pragma: no cover - already reaped
                pass


def _answer(ctx: CheckContext, names: tuple[str, ...], write: int) -> None:
    """In the worker: list the checks' units, answer them from the last and send each, then exit
    without running anything of the parent's (no atexit handler, no buffered output written twice)."""
    code = 1
    try:
        budget = SearchBudget.for_size(len(ctx.kb.recommendations))
        run = SearchRun(budget, ctx.kb.vocabulary)
        run.deferred = []
        for name in names:
            for _finding in CHECKS[name].run(ctx, run):
                pass
        for key, compute in reversed(run.deferred):
            left, refusals = budget.left, budget.refusals
            result = compute()
            if budget.refusals == refusals:
                frame = pickle.dumps((key, (result, left - budget.left)), protocol=pickle.HIGHEST_PROTOCOL)
                _write_all(write, _FRAME.pack(len(frame)) + frame)
        code = 0
    except BaseException:  # noqa: BLE001, S110 - whatever happens, the parent computes what it did not get
        pass
    finally:
        os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
