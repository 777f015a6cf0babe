"""Where findings are, kept between runs: the line and column of a node (or its key) and where its
token ends are a pure function of the file's text and the pointer (avn_kb/load/positions.py), so a
file that did not change has its findings at the places the run before found. Kept per digest of
the text (with how it was read: the fast path or not, loaded or not), so a file edited above a
finding is located again. The table lives in one entry of the cache's store, named by the tool and
the knowledge directory (avn_kb/validate/cache.py), and holds only the places this run used."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol

from avn_kb.load.positions import Positions
from avn_kb.util.memo import remembered

Pointer = tuple[str | int, ...]
Place = tuple[int, int]
# (text digest, pointer, at the key) -> line, column; (text digest, line, column) -> end line, end column
Table = dict[tuple[bytes, Pointer, bool] | tuple[bytes, int, int], Place]
_DIGEST = "_avn_kb_text_digest"


class KeptPlacesStore(Protocol):
    """Where the table is kept between runs (avn_kb/validate/cache.py)."""

    def read(self) -> Table | None:
        """The table the run before kept, or None when there is none."""

    def write(self, table: Table) -> None:
        """Keep this run's table, for the next."""


def _text_digest(document: Positions) -> bytes:
    return remembered(document, _DIGEST, lambda: hashlib.sha256(
        b"%d%d" % (document.plain, document.readable)
        + document.text.encode("utf-8", "surrogateescape")).digest())


class KeptPlaces:
    """One run's places: looked up in the table read, found in the document otherwise. Without a
    store nothing is looked up or kept."""

    def __init__(self, store: KeptPlacesStore | None = None) -> None:
        self.store = store
        self.previous: Table = (store.read() or {}) if store is not None else {}
        self.used: Table = {}
        self.found = 0

    def locate(self, document: Positions, pointer: Pointer, key: bool) -> Place:
        if self.store is None:
            return document.locate(pointer, key=key)
        return self._kept((_text_digest(document), pointer, key), lambda: document.locate(pointer, key=key))

    def end(self, document: Positions, line: int, column: int) -> Place:
        if self.store is None:
            return document.end(line, column)
        return self._kept((_text_digest(document), line, column), lambda: document.end(line, column))

    def _kept(self, key: tuple[bytes, Pointer, bool] | tuple[bytes, int, int], find: Callable[[], Place]) -> Place:
        place = self.previous.get(key)
        if place is None:
            place = find()
            self.found += 1
        self.used[key] = place
        return place

    def write(self) -> None:
        if self.store is not None and (self.found or self.used.keys() != self.previous.keys()):
            self.store.write(self.used)
