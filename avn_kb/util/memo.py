"""Remembering a pure function's result on the object it was computed from.

The model's objects are frozen dataclasses: plain data, built once per knowledge base and never
changed. What the language layer derives from them (compiled conditions, the order of derived
facts) is asked for at every step of a case search, so it is computed once and kept on the object
itself, as functools.cached_property would keep it, without the model having to know the
language layer (imports go one way: docs/architecture.md)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def remembered(owner: Any, name: str, make: Callable[[], T]) -> T:
    """`make()`, computed once per `owner` and kept in its instance dictionary under `name`."""
    store = owner.__dict__
    if name not in store:
        store[name] = make()
    result: T = store[name]
    return result


K = TypeVar("K")


class Bounded(dict[K, T]):
    """A memo of a pure function's results by their arguments that never holds more than `limit`
    of them: when full it starts again, empty (the next results fill it; no eviction order to
    keep). Safe for threads that share it: a reader of the old contents sees whole entries."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def keep(self, key: K, value: T) -> T:
        """`value`, remembered as the result for `key`."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


class Sized(Generic[K, T]):
    """A memo that holds results up to a total size (what `keep` is told each costs), dropping the
    oldest first. An OrderedDict, not a dict: a dict whose oldest entries are popped one by one
    makes finding the next oldest slower each time (it steps over the holes they leave)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._entries: OrderedDict[K, tuple[T, int]] = OrderedDict()

    def get(self, key: K) -> T | None:
        found = self._entries.get(key)
        return found[0] if found is not None else None

    def keep(self, key: K, value: T, size: int) -> T:
        """`value`, remembered for `key` as costing `size`."""
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= old[1]
        self._entries[key] = (value, size)
        self.size += size
        while self.size > self.limit and self._entries:
            self.size -= self._entries.popitem(last=False)[1][1]
        return value

    def __len__(self) -> int:
        return len(self._entries)
