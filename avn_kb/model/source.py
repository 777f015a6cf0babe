"""Where a model object was written: a file and the key path inside it (findings name both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from avn_kb.util.slot_state import quick_state

Pointer = tuple[Any, ...]


@quick_state  # read back from the cache as fast as an object with a dictionary
@dataclass(frozen=True, slots=True)  # several per recommendation: no instance dictionary (issue 17)
class Source:
    """Where a model object was written: a file and the key path inside it."""

    path: str
    pointer: Pointer = ()

    def at(self, *more: Any) -> Source:
        return Source(self.path, self.pointer + more)
