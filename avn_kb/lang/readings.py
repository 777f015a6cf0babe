"""A case's derived facts, and what its answer depends on, remembered by the values that decide them.

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
result is those additions, and a case's facts are rebuilt from its own dictionary and them.

Once derived, a case's answer (besides its own facts, echoed, and its loads in kilograms) reads
only which facts the case has, the values of the facts its recommendations' conditions read
(through the truth of those conditions), and the values of `shown_reads`: what the exercises'
`loads` read and the derived facts. `answer_key` is those, the conditions' facts by value: the
resolver keeps the truth by it. A rendered answer (avn_kb.cli.batch_answers) is kept by the truth
itself instead, so that two patients whose platelet counts differ but fall on the same side of
every threshold share it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from avn_kb.lang.derive import NO_VALUE, definitions, derive_values, outside_definitions, undefined_here
from avn_kb.lang.real_cases import deciding_facts
from avn_kb.model.conditions import Condition, facts_of
from avn_kb.model.knowledge import Vocabulary
from avn_kb.util.memo import Bounded

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_SCALARS = (str, bool, int, float)
Additions = tuple[tuple[str, Any], ...]
AnswerKey = tuple[frozenset[str], frozenset[str], tuple[Any, ...]]
# The longest key kept: the facts derivation reads are terms, numbers and lists of terms, a few
# hundred characters; a longer key is a case that fails its checks (or one no batch repeats).
MAX_KEY = 4096


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

    def __init__(self, vocabulary: Vocabulary, limit: int = 4096) -> None:
        self.vocabulary = vocabulary
        self.reads = tuple(sorted(deciding_facts(vocabulary)))
        self._kept: Bounded[str, _Kept] = Bounded(limit)

    def read(self, case: Mapping[str, Any]) -> Reading:
        """This case's reading: its key, and its derived facts as asked for."""
        return Reading(self, case, self.key(case))

    def key(self, case: Mapping[str, Any]) -> str | None:
        """The names and values of the facts in `reads` that the case gives, as JSON text; None
        when one of them is not a plain value, or the text is longer than MAX_KEY (the case is
        read before it is checked, and a kept key must not hold a megabyte a line)."""
        chosen: list[Any] = []
        for name in self.reads:
            if name in case:
                value = case[name]
                kind = type(value)
                if not (value is None or kind in _SCALARS
                        or (kind is list and all(type(item) is str for item in value))):
                    return None
                chosen += (name, value)
        text = _ENCODE(chosen)
        return text if len(text) <= MAX_KEY else None

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
                    derived = _rebuilt(self.case, kept.values)
                    kept.facts = _added(self.case, case_facts(self.readings.vocabulary, self.case, derived))
                self._facts = _rebuilt(self.case, kept.facts)
        return dict(self._facts)


def case_facts(vocabulary: Vocabulary, case: Mapping[str, Any],
               derived: dict[str, Any] | None = None) -> dict[str, Any]:
    """What `Reading.facts` says, computed afresh (`derived`: `derive_values`' facts, if known)."""
    facts = derive_values(vocabulary, case)[0] if derived is None else derived
    while True:
        empty = [name for name in undefined_here(vocabulary, facts) if name not in facts]
        if not empty:
            return facts
        facts = derive_values(vocabulary, {**facts, **dict.fromkeys(empty, NO_VALUE)})[0]


def shown_reads(vocabulary: Vocabulary) -> tuple[str, ...]:
    """The facts whose values an answer reads besides through its recommendations' conditions:
    those the exercises' `loads` read, the derived facts (shown), and the facts that declare where
    they are defined (decided empty where not)."""
    reads: set[str] = {*vocabulary.derived, *(name for name, _, _ in definitions(vocabulary))}
    for intervention in vocabulary.interventions.values():
        for exercise in intervention.exercise_details.values():
            if exercise.loads is not None:
                reads |= facts_of(exercise.loads)
    return tuple(sorted(reads))


def answer_reads(vocabulary: Vocabulary, conditions: Iterable[Condition]) -> tuple[str, ...]:
    """What `answer_key` looks at, besides which facts a case has: `shown_reads` and the facts
    `conditions` (the recommendations') read."""
    reads = set(shown_reads(vocabulary))
    for condition in conditions:
        reads |= facts_of(condition)
    return tuple(sorted(reads))


def answer_key(case: Mapping[str, Any], facts: Mapping[str, Any], reads: tuple[str, ...]) -> AnswerKey | None:
    """Which facts the case gives (an answer shows as derived only those it does not), which it
    has once derived (what it lacks is what an answer asks for), and `values_of` those in `reads`
    (`facts`: with the derived ones). None when a value cannot be part of a key."""
    values = values_of(facts, reads)
    return None if values is None else (frozenset(case), frozenset(facts), values)


def values_of(facts: Mapping[str, Any], reads: tuple[str, ...]) -> tuple[Any, ...] | None:
    """The names, types and values of the facts in `reads` that `facts` has, as one tuple: equal
    for two cases exactly when every test of those facts says the same on both (types are kept, so
    that 1, 1.0 and true differ; 0.0 and -0.0 are equal, as every test finds them). None when a
    value is not a plain scalar, a list of strings or a decided empty value."""
    chosen: list[Any] = []
    for name in reads:
        if name in facts:
            value = facts[name]
            kind = type(value)
            if kind is list:
                if not all(type(item) is str for item in value):
                    return None
                value = tuple(value)
            elif not (value is None or value is NO_VALUE or kind in _SCALARS):
                return None
            chosen += (name, kind, value)
    return tuple(chosen)


def _added(case: Mapping[str, Any], result: Mapping[str, Any]) -> Additions:
    """What `result` holds beyond the case's own facts that are not None (which come first in it)."""
    return tuple((name, value) for name, value in result.items() if name not in case or case[name] is None)


def _rebuilt(case: Mapping[str, Any], additions: Additions) -> dict[str, Any]:
    facts = {name: value for name, value in case.items() if value is not None}
    facts.update(additions)
    return facts
