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

Loading is not shared this way. A worker parsing half the files and sending back what it built
made the load at 100,000 recommendations 12.4 s instead of 15.7, but the checks slower by more
than that (the whole run 51.8 s against 44.8): the objects a pickle gives back share nothing with
this process's (the frozensets, compiled checks and strings that equal tests share, and that the
checks' memos find by identity).
"""

from __future__ import annotations

from avn_kb.lang.domains import SearchBudget
from avn_kb.util import forked
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


def worth_forking(ctx: CheckContext, names: tuple[str, ...], jobs: int | None, kept_units: bool) -> bool:
    """Whether this run shares `AHEAD` with a worker (module docstring)."""
    if ctx.kb.vocabulary is None or not any(name in names for name in AHEAD) or not forked.may_fork(jobs):
        return False
    return jobs is not None or (not kept_units and MIN_RECOMMENDATIONS <= len(ctx.kb.recommendations)
                                <= MAX_RECOMMENDATIONS)


class Worker:
    """A forked process answering the units of `AHEAD` from the last; `get` takes what it has sent."""

    def __init__(self, ctx: CheckContext, names: tuple[str, ...]) -> None:
        self.names = tuple(name for name in AHEAD if name in names)
        self._units: dict[LocalKey, Entry] = {}
        self._worker = forked.Worker(lambda write: _answer(ctx, self.names, write))

    def get(self, key: LocalKey) -> Entry | None:
        """The unit, if the worker has sent it by now: never waits."""
        if key not in self._units and self._worker.open:
            self._units.update(self._worker.frames())
        return self._units.get(key)

    def close(self) -> None:
        """Stop the worker (whatever it is still answering, this process has answered)."""
        self._worker.close()


def _answer(ctx: CheckContext, names: tuple[str, ...], write: int) -> None:
    """In the worker: list the checks' units, answer them from the last and send each."""
    run = SearchRun(SearchBudget.for_size(len(ctx.kb.recommendations)), ctx.kb.vocabulary)
    run.deferred = []
    for name in names:
        for _finding in CHECKS[name].run(ctx, run):
            pass
    for unit in run.answered_deferred():
        forked.write_frame(write, unit)
