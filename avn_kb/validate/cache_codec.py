"""How the cache's values are written to its store and read back (avn_kb/validate/cache.py says
why pickle is safe here): an unpickler that accepts only the classes this package stores, and a
pickler that leaves a file's text out of the file's entry (the file's bytes, at hand whenever the
entry is read, decode to it)."""

from __future__ import annotations

import io
import pickle
from typing import Any

from avn_kb.util.store import Store

# Classes outside this package that stored values may hold.
_FOREIGN_CLASSES = frozenset({("datetime", "date"), ("datetime", "datetime"), ("decimal", "Decimal"),
                              ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex")})


_FILE_TEXT = "the file's text"  # the persistent id a file's entry holds in place of its text


class _Unpickler(pickle.Unpickler):
    def __init__(self, payload: bytes, text: str | None = None) -> None:
        super().__init__(io.BytesIO(payload))
        self.text = text

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("avn_kb.") or (module, name) in _FOREIGN_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a class avn-kb stores")

    def persistent_load(self, pid: Any) -> Any:
        if pid == _FILE_TEXT and self.text is not None:
            return self.text
        raise pickle.UnpicklingError("an entry names the text of a file it is not the entry of")


class _WithoutText(pickle.Pickler):
    """Pickles a file's result with its text (which the file's bytes decode to) left out: the
    entry is read back only with those bytes at hand. Matched by value as well as by identity: a
    large file's text is kept compressed (avn_kb/load/positions.py) and expanded anew when asked."""

    def __init__(self, file: io.BytesIO, text: str) -> None:
        super().__init__(file, pickle.HIGHEST_PROTOCOL)
        self.text = text

    def persistent_id(self, obj: Any) -> str | None:
        text = self.text
        if obj is text or (type(obj) is str and len(obj) == len(text) and obj == text):
            return _FILE_TEXT
        return None


def unpickled(payload: bytes | None, kind: type, text: str | None = None) -> Any:
    """The stored value if it is of `kind`, else None (a miss). `text`: the file's text, for a file's entry."""
    if payload is None:
        return None
    try:
        value = _Unpickler(payload, text).load()
    except Exception:  # noqa: BLE001 - a verified entry that still cannot be read back is a miss, never an error
        return None
    return value if isinstance(value, kind) else None


def store_value(store: Store, key: str, value: object, text: str | None = None) -> None:
    """Keep `value` under `key`; a value pickle cannot write is simply not kept. With `text`: that
    string is left out (_WithoutText)."""
    try:
        if text is None:
            payload = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        else:
            buffer = io.BytesIO()
            _WithoutText(buffer, text).dump(value)
            payload = buffer.getvalue()
    except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError):
        return
    store.put(key, payload)


def decoded(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
