"""What a process that ends after one run keeps to its end instead of freeing.

`avn-kb validate` exits as soon as its report is written. Freeing what the run loaded, object by
object, is work nobody waits for: a third of a second at 100,000 recommendations, the loaded
knowledge base and the tables of kept results (benchmarks/, docs/performance.md). The command says
that the process ends after this run (`ends_after_run`); the runner then hands what it built to
`outlive`, which keeps it in a reference cycle. The collector's generations are frozen as the
process exits (`gc.freeze()`, at exit): the collector never visits that cycle, not even while the
interpreter shuts down, and the operating system takes the memory back at once.
Library callers (the service, tests) never say so: what they load is freed as usual."""

from __future__ import annotations

import atexit
import gc

_kept: list[object] | None = None


def ends_after_run() -> None:
    """Say that this process exits after the run it is about to make."""
    global _kept
    if _kept is None:
        _kept = []
        _kept.append(_kept)  # the cycle: a module's globals cleared at exit do not free the list
        # Nor any collection until then: the run pauses the collector anyway (util/gcpause), and
        # after it, with all it loaded still standing, each collection would walk millions of
        # objects that cannot be garbage (4 s at 100,000 recommendations while writing the report).
        gc.disable()
        # Handlers run before the interpreter clears the modules: from then on the collector
        # leaves every object standing, the cycle too, whichever way the command exits.
        atexit.register(gc.freeze)


def process_ends_after_run() -> bool:
    """Whether `ends_after_run` was said: this process is a command that exits after one run."""
    return _kept is not None


def outlive(*values: object) -> None:
    """Keep `values` alive to the end of the process, when `ends_after_run` was said; else nothing."""
    if _kept is not None:
        _kept.extend(values)
