"""The level-3 tables of the cache, one store entry each per knowledge directory and tool (named
by avn_kb/validate/cache.py `units_key`): the searching checks' units (avn_kb/validate/units.py),
the per-recommendation checks' findings (kept_findings.py) and the findings' places (places.py).
A table read back is checked for the shape this version writes; any other is a miss."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from avn_kb.util.store import Store
from avn_kb.validate.cache_codec import store_value, unpickled

if TYPE_CHECKING:
    from avn_kb.validate.kept_findings import Table
    from avn_kb.validate.places import Table as PlacesTable
    from avn_kb.validate.units import Entry, SearchRun


class _TableEntry:
    """One table's entry in the store: read back only if it has the shape `_shaped` accepts."""

    def __init__(self, store: Store, key: str) -> None:
        self.store = store
        self.key = key

    def _read(self, kind: type) -> Any:
        table = unpickled(self.store.get(self.key), kind)
        return table if table is not None and self._shaped(table) else None

    def _shaped(self, table: Any) -> bool:
        raise NotImplementedError

    def _write(self, table: object) -> None:
        store_value(self.store, self.key, table)


class UnitCache(_TableEntry):
    """The searching checks' table, as the runner's KeptUnits."""

    def read(self) -> dict[bytes, Entry]:
        table: dict[bytes, Entry] | None = self._read(dict)
        return table if table is not None else {}  # absent or not a table this version writes: every unit is a miss

    def _shaped(self, table: dict[Any, Any]) -> bool:
        return all(isinstance(key, bytes) and isinstance(entry, tuple) and len(entry) == 2
                   and type(entry[1]) is int and entry[1] >= 0 for key, entry in table.items())

    def write(self, search: SearchRun) -> None:
        if search.changed():
            self._write(search.used)


class FindingsCache(_TableEntry):
    """The per-recommendation checks' table, as the runner's KeptFindingsStore."""

    def read(self) -> Table | None:
        table: Table | None = self._read(tuple)
        return table

    def _shaped(self, table: tuple[Any, ...]) -> bool:
        from avn_kb.model.findings import Finding

        if (len(table) != 4 or not isinstance(table[0], bytes) or not isinstance(table[2], dict)
                or not isinstance(table[3], frozenset) or not all(isinstance(key, bytes) for key in table[3])):
            return False
        names = table[1]
        if not isinstance(names, tuple) or not all(isinstance(name, str) for name in names):
            return False
        return all(isinstance(key, bytes) and isinstance(entry, tuple)
                   and (not entry or (len(entry) == len(names) and all(
                       isinstance(found, tuple) and all(isinstance(f, Finding) for f in found) for found in entry)))
                   for key, entry in table[2].items())

    def write(self, table: Table) -> None:
        self._write(table)


class PlacesCache(_TableEntry):
    """The findings' places, as the runner's KeptPlacesStore."""

    def read(self) -> PlacesTable | None:
        table: PlacesTable | None = self._read(dict)
        return table

    def _shaped(self, table: dict[Any, Any]) -> bool:
        return all(_is_place(key, place) for key, place in table.items())

    def write(self, table: PlacesTable) -> None:
        self._write(table)


def _is_place(key: object, place: object) -> bool:
    """Whether an entry has the shape avn_kb/validate/places.py writes (a table with any other is a miss)."""
    if not (isinstance(key, tuple) and len(key) == 3 and isinstance(key[0], bytes)):
        return False
    if not (isinstance(key[1], int) and isinstance(key[2], int)) and not (
            isinstance(key[1], tuple) and all(type(step) in (str, int) for step in key[1]) and type(key[2]) is bool):
        return False
    return (isinstance(place, tuple) and len(place) == 2
            and all(type(number) is int and number >= 1 for number in place))
