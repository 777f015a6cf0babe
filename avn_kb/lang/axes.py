"""The axes of a case search: which facts to assign, each with the values that stand for all
others (avn_kb.lang.domains says why they cover every case), in the order the search tries them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from avn_kb.lang.derive import definitions
from avn_kb.lang.domains import candidate_values, expanded_tests
from avn_kb.model.conditions import All, AnyOf, Condition, Not, Test, tests
from avn_kb.model.knowledge import Vocabulary
from avn_kb.util.memo import Bounded, remembered

Axes = list[tuple[str, list[Any]]]

# Distinct sets of tested facts remembered per vocabulary; then it starts again, so memory stays bounded.
MAX_REMEMBERED = 4_096


def search_axes(vocabulary: Vocabulary, conditions: Sequence[Condition], complete: bool = True) -> Axes:
    """`find_axes`, remembered per vocabulary by all it depends on: which facts the conditions
    test, with the elements a set's tests name and a number's bounds (an enum's axis is all its
    values, whichever a test names). Every recommendation's condition is asked for its axes by
    several checks, and thousands of conditions test the same few facts. A new list each time:
    callers may narrow it."""
    key = (complete, _tested(vocabulary, conditions))
    known: Bounded[tuple[Any, ...], Axes] = remembered(vocabulary, "_search_axes", lambda: Bounded(MAX_REMEMBERED))
    axes = known.get(key)
    if axes is None:
        axes = known.keep(key, find_axes(vocabulary, conditions, complete))
    return list(axes)


def _tested(vocabulary: Vocabulary, conditions: Sequence[Condition]) -> frozenset[tuple[Any, ...]]:
    """What `find_axes` reads of each test of the conditions (a stack, not tests(): this runs
    for every condition)."""
    kinds: dict[str, str] = remembered(vocabulary, "_fact_kinds",
                                       lambda: {fact.name: fact.type for fact in vocabulary.facts.values()})
    found: set[tuple[Any, ...]] = set()
    pending: list[Condition] = list(conditions)
    while pending:
        part = pending.pop()
        if isinstance(part, Test):
            kind = kinds.get(part.fact)
            if kind == "set":
                found.add((part.fact, part.values))
            elif kind == "number":
                found.add((part.fact, part.low, part.high))
            else:
                found.add((part.fact,))
        elif isinstance(part, Not):
            pending.append(part.part)
        elif isinstance(part, (All, AnyOf)):
            pending.extend(part.parts)
    return frozenset(found)


def find_axes(vocabulary: Vocabulary, conditions: Sequence[Condition], complete: bool = True) -> Axes:
    """The facts to assign and the values that stand for all others. `complete`: the cases
    are to be judged complete over the facts the conditions read (a search with `not_apply`),
    so the facts a `defined_for` reads are assigned too, for they decide whether a fact read
    may be missing. Otherwise they may stay missing: a case with them missing holds the same
    conditions and is real whenever a case with them is (Kleene monotonicity), so they only
    lend their thresholds to the facts already assigned."""
    by_fact: dict[str, list[Test]] = {}
    read = expanded_tests(vocabulary, conditions)
    found = validity_tests(vocabulary, list(read), with_definitions=True)
    if not complete and definitions(vocabulary):
        assigned = {test.fact for test in validity_tests(vocabulary, list(read), with_definitions=False)}
        found = [test for test in found if test.fact in assigned]
    for test in found:
        if test.fact in vocabulary.facts:
            by_fact.setdefault(test.fact, []).append(test)
    axes = [(fact, candidate_values(vocabulary, fact, found)) for fact, found in by_fact.items()]
    defined = {name for name, _, _ in definitions(vocabulary)}
    # Few values first: cuts happen earlier. Name breaks ties so the search is deterministic.
    # Facts with a `defined_for` come after the others, so that when one is reached the facts
    # its definition reads usually have their values and an undefined one is passed at once.
    axes.sort(key=lambda axis: (axis[0] in defined, len(axis[1]), axis[0]))
    return axes


def validity_tests(vocabulary: Vocabulary, found: list[Test], with_definitions: bool) -> list[Test]:
    """`found` plus the tests that decide whether a case over its facts is a real case, up to a
    fixed point: every derived fact reading one of the facts can make the case's facts
    disagree, and (with `with_definitions`) the `defined_for` of a fact read can make it undefined;
    either removes the case, so their tests must choose the values too, even if no condition
    reads them."""
    reads = {test.fact for test in found}
    readers: set[str] = set()  # derived facts whose cases are added
    defined: set[str] = set()  # facts whose `defined_for` is added
    while True:
        more: list[Condition] = []
        for derived in vocabulary.derived.values():
            if derived.name not in readers and any(t.fact in reads for _, when in derived.cases
                                                   for t in tests(when)):
                readers.add(derived.name)
                reads.add(derived.name)
                more.extend(when for _, when in derived.cases)
        for name, condition, _ in definitions(vocabulary) if with_definitions else ():
            if name in reads and name not in defined:
                defined.add(name)
                more.append(condition)
        if not more:
            return found
        extra = expanded_tests(vocabulary, more)
        found.extend(extra)
        reads.update(test.fact for test in extra)
