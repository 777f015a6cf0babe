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
    if {"self", "state", "_set"} & set(names):
        raise TypeError(f"{cls.__qualname__}: a field's name is one the written-out functions use")
    # Written out per class, as dataclasses writes __init__: a loop over the names took twice as long.
    source = (f"def get_state(self):\n    return ({''.join(f'self.{name}, ' for name in names)})\n"
              f"def set_state(self, state):\n    ({''.join(f'{name}, ' for name in names)}) = state\n"
              + "".join(f"    _set(self, {name!r}, {name})\n" for name in names))
    made: dict[str, Any] = {"_set": _set, "__name__": __name__}  # the functions name this module as theirs
    exec(source, made)  # noqa: S102 - the names are the class's own fields, identifiers
    get_state, set_state = made["get_state"], made["set_state"]
    setattr(cls, "__getstate__", get_state)  # noqa: B010 - the class exists already: set, not defined
    setattr(cls, "__setstate__", set_state)  # noqa: B010
    return cls
