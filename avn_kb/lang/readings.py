"""A case's derived facts, remembered by the values of the facts that decide them.

Deriving is most of what reading a case costs: every derived fact's conditions, then the facts
the case cannot give (their `defined_for` is false), then the derived facts again. Its result
depends only on the values of the facts those conditions read and on which derived facts the case
gives itself, and the cases of a batch share those values far more often than they share all their
facts (patients differ in weight and strength long before they differ in site and stage). So a
`Readings` keeps each result by the JSON text of those facts' names and values: text tells 1, 1.0
and true apart, as the conditions and the messages do. A case whose values are not plain JSON
scalars or lists of strings is derived afresh every time, never looked up.

What derivation adds is the same for every case with the same key: the case's own facts (those
not None, in its order) then the derived ones, in the order derivation writes them; so a kept
result is those additions, and a case's facts are rebuilt from its own dictionary and them. The
answer reads the facts that say which exercises load the affected part as well, so they are part
of the key: a key then says everything about a case that its answer reads besides the truth of
its recommendations' conditions (avn_kb.cli.batch_answers keeps rendered answers by it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from avn_kb.lang.derive import NO_VALUE, definitions, derive_values, outside_definitions, undefined_here
from avn_kb.model.conditions import facts_of
from avn_kb.model.knowledge import Vocabulary
from avn_kb.util.memo import Bounded

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_SCALARS = (str, bool, int, float)
Additions = tuple[tuple[str, Any], ...]


class _Kept:
    """What derivation made of the cases with one key: `derive_values`' additions and problems,
    and, once asked for, the additions of the facts the resolver reads (`case_facts`)."""

    __slots__ = ("values", "problems", "facts", "outside")

    def __init__(self, values: Additions, problems: tuple[str, ...]) -> None:
        self.values, self.problems = values, problems
        self.facts: Additions | None = None
        self.outside: tuple[tuple[str, str], ...] | None = None


class Readings:
    """The derived facts of the cases one vocabulary reads, kept by `key` (at most `limit`)."""

    def __init__(self, vocabulary: Vocabulary, also: frozenset[str] = frozenset(), limit: int = 4096) -> None:
        self.vocabulary = vocabulary
        self.reads = tuple(sorted(answer_reads(vocabulary) | also))
        self._kept: Bounded[str, _Kept] = Bounded(limit)

    def read(self, case: Mapping[str, Any]) -> Reading:
        """This case's reading: its key, and its derived facts as asked for."""
        return Reading(self, case, self.key(case))

    def key(self, case: Mapping[str, Any]) -> str | None:
        """The names and values of the facts in `reads` that the case gives, as JSON text; None
        when one of them is not a plain value (it is then never looked up)."""
        chosen: list[Any] = []
        for name in self.reads:
            if name in case:
                value = case[name]
                kind = type(value)
                if not (value is None or kind in _SCALARS
                        or (kind is list and all(type(item) is str for item in value))):
                    return None
                chosen += (name, value)
        return _ENCODE(chosen)

    def kept(self, key: str, case: Mapping[str, Any]) -> _Kept:
        found = self._kept.get(key)
        if found is None:
            result, problems = derive_values(self.vocabulary, case)
            found = self._kept.keep(key, _Kept(_added(case, result), tuple(problems)))
        return found


class Reading:
    """One case as read through its vocabulary's `Readings`."""

    __slots__ = ("readings", "case", "key", "_facts")

    def __init__(self, readings: Readings, case: Mapping[str, Any], key: str | None) -> None:
        self.readings, self.case, self.key = readings, case, key
        self._facts: dict[str, Any] | None = None  # a reading is of one case as it is now: made once

    def derived_values(self) -> tuple[dict[str, Any], list[str]]:
        """`derive_values(vocabulary, case)`: the same dictionary and problems."""
        if self.key is None:
            return derive_values(self.readings.vocabulary, self.case)
        kept = self.readings.kept(self.key, self.case)
        return _rebuilt(self.case, kept.values), list(kept.problems)

    def disagreements(self) -> list[str]:
        """`derive_values(vocabulary, case)[1]`: the derived facts the case's facts disagree on."""
        if self.key is None:
            return derive_values(self.readings.vocabulary, self.case)[1]
        return list(self.readings.kept(self.key, self.case).problems)

    def outside_definitions(self) -> list[tuple[str, str]]:
        """`outside_definitions(vocabulary, derived, case)` of the case's derived values."""
        vocabulary = self.readings.vocabulary
        if not definitions(vocabulary):
            return []
        if self.key is None:
            return outside_definitions(vocabulary, self.derived_values()[0], self.case)
        kept = self.readings.kept(self.key, self.case)
        if kept.outside is None:
            kept.outside = tuple(outside_definitions(vocabulary, self.derived_values()[0], self.case))
        return list(kept.outside)

    def facts(self) -> dict[str, Any]:
        """The case plus its derived facts, with every fact the case cannot give (its `defined_for`
        is false here: ARCO at a site other than the femoral head) decided as empty, as the
        validator's search reads it: a test for a value of it is false, not open, and no answer
        asks for it. Repeated until nothing more is decided (an empty fact may decide a derived one)."""
        if self._facts is None:
            if self.key is None:
                self._facts = case_facts(self.readings.vocabulary, self.case)
            else:
                kept = self.readings.kept(self.key, self.case)
                if kept.facts is None:
                    kept.facts = _added(self.case, case_facts(self.readings.vocabulary, self.case))
                self._facts = _rebuilt(self.case, kept.facts)
        return dict(self._facts)


def case_facts(vocabulary: Vocabulary, case: Mapping[str, Any]) -> dict[str, Any]:
    """What `Reading.facts` says, computed afresh."""
    facts = derive_values(vocabulary, case)[0]
    while True:
        empty = [name for name in undefined_here(vocabulary, facts) if name not in facts]
        if not empty:
            return facts
        facts = derive_values(vocabulary, {**facts, **dict.fromkeys(empty, NO_VALUE)})[0]


def answer_reads(vocabulary: Vocabulary) -> frozenset[str]:
    """Every fact whose value derivation or an exercise's `loads` reads, every derived fact (a
    case may give one itself) and every fact that declares where it is defined."""
    reads: set[str] = set(vocabulary.derived)
    for derived in vocabulary.derived.values():
        for _, when in derived.cases:
            reads |= facts_of(when)
    for name, condition, _ in definitions(vocabulary):
        reads.add(name)
        reads |= facts_of(condition)
    for intervention in vocabulary.interventions.values():
        for exercise in intervention.exercise_details.values():
            if exercise.loads is not None:
                reads |= facts_of(exercise.loads)
    return frozenset(reads)


def _added(case: Mapping[str, Any], result: Mapping[str, Any]) -> Additions:
    """What `result` holds beyond the case's own facts that are not None (which come first in it)."""
    return tuple((name, value) for name, value in result.items() if name not in case or case[name] is None)


def _rebuilt(case: Mapping[str, Any], additions: Additions) -> dict[str, Any]:
    facts = {name: value for name, value in case.items() if value is not None}
    facts.update(additions)
    return facts
