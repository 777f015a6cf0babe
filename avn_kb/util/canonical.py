"""A digest of plain data and frozen dataclasses that is the same in every process.

pickle would be faster but is no key: a frozenset is written in iteration order, which depends on
the string hashes, and those are salted per process (PYTHONHASHSEED), so the same condition pickles
differently from run to run. Here every value becomes a tree of tuples of strings and numbers,
with sets and mappings in a sorted order and each dataclass under its class name, and the digest
is that tree's repr. Two values with the same digest are equal (same types, same fields);
equal values built differently always have the same digest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import hashlib
from typing import Any

_SCALARS = frozenset({str, int, float, bool, type(None)})
_WRITTEN = frozenset({dt.date, decimal.Decimal})  # kept as their class name and text
_FIELDS: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """`value` as nested tuples of scalars, in an order that does not depend on the process."""
    # map() and list comprehensions rather than generators: this runs on every recommendation.
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        return (kind.__name__, *map(plain, value))
    if kind is frozenset or kind is set:
        return ("set", *sorted(map(plain, value), key=repr))
    if kind is dict:
        return ("dict", *sorted([(plain(k), plain(v)) for k, v in value.items()], key=repr))
    if kind in _WRITTEN:
        return (kind.__name__, str(value))
    names = _FIELDS.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(value):
            raise TypeError(f"no canonical form for {kind.__qualname__}")
        names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(value))
    return (kind.__qualname__, *[plain(getattr(value, name)) for name in names])


def digest(value: Any) -> bytes:
    """The SHA-256 of `value`'s canonical form (see the module docstring)."""
    return hashlib.sha256(repr(plain(value)).encode("utf-8", "surrogateescape")).digest()
