"""Pause Python's cyclic garbage collector while large, long-lived structures are built.

Loading a knowledge base, building the resolver's index and running the checks allocate millions
of objects that all survive. Each allocation burst triggers collections that walk the survivors
again and again: at 10,000 recommendations the index took 4.3 s with the collector running and
0.7 s with it paused (measured in benchmarks/, see docs/performance.md). Reference counting still
frees everything acyclic while paused; cycles made in the meantime are collected when it resumes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; nested uses restore the outer state."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
