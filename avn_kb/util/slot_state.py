"""Pickling frozen dataclasses that have slots, quickly.

A frozen dataclass with slots is pickled through dataclasses' own __getstate__ and __setstate__,
which ask dataclasses.fields() again for every object: reading a large knowledge base's files back
from the cache spent about a second there at 100,000 recommendations (a model object with an
instance dictionary is read back by pickle itself, but takes more memory). `quick_state` gives
the class a state of its field values in order, set back with object.__setattr__ (a frozen class
refuses its own), which pickle reads back faster than either."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T", bound=type)
_set = object.__setattr__


def quick_state(cls: T) -> T:
    """`cls` (a frozen dataclass with slots), pickled as the tuple of its field values."""
    names = tuple(field.name for field in fields(cls))

    def get_state(self: Any) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in names])

    def set_state(self: Any, state: tuple[Any, ...]) -> None:
        for name, value in zip(names, state, strict=True):
            _set(self, name, value)

    setattr(cls, "__getstate__", get_state)  # noqa: B010 - the class exists already: set, not defined
    setattr(cls, "__setstate__", set_state)  # noqa: B010
    return cls
