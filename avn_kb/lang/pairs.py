"""Which pairs of recommendations on one target could conflict, found with bitsets, not pair by pair.

A pair is a conflict candidate when (1) the two actions contradict, or (for `clashing_pairs`)
give the same dose parameter different but overlapping ranges, and (2) the top-level demands of
the two conditions are compatible (they might both hold). Both are computed per recommendation
as a bitset over the recommendations of its target, so a knowledge base with thousands of
recommendations per target costs a few integer operations per recommendation instead of a million
pair comparisons (1.26 million at 10,000 recommendations, 8 s):

- contradiction (see avn_kb.lang.actions.contradiction): the other stance; for `for` actions, another
  level, or a dose range of the same parameter lying wholly below or above (prefix and suffix
  bitsets over the sorted bounds);
- a dose difference (see avn_kb.lang.actions.dose_differences): another `for` action setting one of the
  parameters to a range that neither lies wholly below nor above ours, nor equals it;
- compatibility: for each enum or boolean fact the recommendation restricts, the recommendations
  allowing one of its values or not restricting the fact (an inverted index of bitsets).

Number and set demands are compared only for the candidates; the exact search decides the rest.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from typing import Any

from avn_kb.lang.index import bitset, positions_of, value_key
from avn_kb.model.conditions import Condition, Not, Test, conjuncts
from avn_kb.model.knowledge import Recommendation, Vocabulary


def allowed_values(vocabulary: Vocabulary, condition: Condition) -> dict[str, Any]:
    """What the top-level conjunction of a condition demands of single facts: for an enum or
    boolean fact the values it allows, for a number the interval, for a set the elements it must
    have and must lack. Two conditions whose demands on one fact are incompatible cannot both hold:
    a cheap filter before any search."""
    allowed: dict[str, Any] = {}
    for part in conjuncts(condition):
        negated = isinstance(part, Not)
        test = part.part if isinstance(part, Not) else part
        if not isinstance(test, Test):
            continue
        kind = vocabulary.fact_type(test.fact)
        derived = vocabulary.derived.get(test.fact)
        keep_only = (test.op == "in") != negated
        if derived is not None and derived.otherwise is None and not keep_only:
            continue  # a derived fact may have no value at all, which every exclusion lets through
        if kind in ("enum", "boolean") and test.op in ("in", "not_in"):
            domain = frozenset(vocabulary.fact_values(test.fact)) if kind == "enum" else frozenset([True, False])
            keep = (test.op == "in") != negated  # `not: {phase: acute}` allows every other phase
            values = test.values & domain if keep else domain - test.values
            allowed[test.fact] = allowed.get(test.fact, domain) & values
        elif kind == "number" and test.op == "range" and not negated:
            low, high = allowed.get(test.fact, (None, None))
            if test.low is not None:
                low = test.low if low is None else max(low, test.low)
            if test.high is not None:
                high = test.high if high is None else min(high, test.high)
            allowed[test.fact] = (low, high)
        elif kind == "set" and test.op in ("has", "lacks"):
            has, lacks = allowed.get(test.fact, (frozenset(), frozenset()))
            if (test.op == "has") != negated:
                has = has | test.values
            else:
                lacks = lacks | test.values
            allowed[test.fact] = (has, lacks)
    return allowed


def _incompatible(a: Any, b: Any) -> bool:
    if isinstance(a, frozenset):
        return not (a & b)
    if isinstance(a[0], frozenset):  # set fact: (must have, must lack)
        return bool(a[0] & b[1] or b[0] & a[1])
    (lo_a, hi_a), (lo_b, hi_b) = a, b
    return (lo_a is not None and hi_b is not None and lo_a > hi_b) or \
        (lo_b is not None and hi_a is not None and lo_b > hi_a)


class _Bounds:
    """The recommendations whose bound of one dose parameter lies strictly below or above a value."""

    def __init__(self, bounds: dict[float, list[int]], size: int) -> None:
        self.values = sorted(bounds)
        self.cumulative = [0]  # cumulative[k]: every recommendation whose bound is among values[:k]
        running = 0
        for value in self.values:
            running |= bitset(bounds[value], size)
            self.cumulative.append(running)

    def below(self, value: float) -> int:
        return self.cumulative[bisect_left(self.values, value)]

    def above(self, value: float) -> int:
        return self.cumulative[-1] & ~self.cumulative[bisect_right(self.values, value)]

    def overlapping(self, low: float, high: float, lows: _Bounds) -> int:
        """With self the upper bounds and `lows` the lower ones of the same parameter: the
        recommendations whose range meets [low, high] (ends below it nowhere, starts above it nowhere)."""
        return self.cumulative[-1] & ~self.below(low) & ~lows.above(high)


class _Contradictions:
    """For one target's recommendations: whose action contradicts whose, and whose dose differs
    from whose without contradicting it, as bitsets."""

    def __init__(self, group: list[Recommendation]) -> None:
        size = len(group)
        by_stance: dict[str, list[int]] = {}
        by_level: dict[str, list[int]] = {}
        lows: dict[str, dict[float, list[int]]] = {}
        highs: dict[str, dict[float, list[int]]] = {}
        ranges: dict[str, dict[tuple[float, float], list[int]]] = {}
        for i, rec in enumerate(group):
            action = rec.action
            by_stance.setdefault(action.stance, []).append(i)
            if action.stance == "for":
                if action.level is not None:
                    by_level.setdefault(action.level, []).append(i)
                for name, (low, high) in action.dose.items():
                    lows.setdefault(name, {}).setdefault(low, []).append(i)
                    highs.setdefault(name, {}).setdefault(high, []).append(i)
                    ranges.setdefault(name, {}).setdefault((low, high), []).append(i)
        self.stance = {stance: bitset(found, size) for stance, found in by_stance.items()}
        self.level = {level: bitset(found, size) for level, found in by_level.items()}
        self.leveled = bitset((i for found in by_level.values() for i in found), size)
        self.lows = {name: _Bounds(found, size) for name, found in lows.items()}
        self.highs = {name: _Bounds(found, size) for name, found in highs.items()}
        self.ranges = {name: {span: bitset(found, size) for span, found in by_span.items()}
                       for name, by_span in ranges.items()}

    def of(self, rec: Recommendation) -> int:
        """The recommendations whose action contradicts this one's."""
        action = rec.action
        other_stance = 0
        for stance, bits in self.stance.items():
            if stance != action.stance:
                other_stance |= bits
        if action.stance == "against":
            return other_stance
        found = other_stance
        if action.level is not None:
            found |= self.leveled & ~self.level.get(action.level, 0)
        for name, (low, high) in action.dose.items():
            # Another `for` action's range of this parameter ends below ours starts, or starts above ours ends.
            found |= self.highs[name].below(low) | self.lows[name].above(high)
        return found

    def differing_doses(self, rec: Recommendation) -> int:
        """The `for` recommendations giving one of this one's dose parameters another range that
        overlaps it: two doses for one patient, without a contradiction."""
        action = rec.action
        if action.stance != "for":
            return 0
        found = 0
        for name, (low, high) in action.dose.items():
            found |= self.highs[name].overlapping(low, high, self.lows[name]) & ~self.ranges[name][(low, high)]
        return found


class _Compatibility:
    """For one target's recommendations: whose enum demands leave room for whose."""

    def __init__(self, group: list[Recommendation], allowed: list[dict[str, Any]]) -> None:
        size = len(group)
        self.everyone = (1 << size) - 1
        allowing: dict[str, dict[Any, list[int]]] = {}
        restricting: dict[str, list[int]] = {}
        for i, demands in enumerate(allowed):
            for fact, demand in demands.items():
                if isinstance(demand, frozenset):
                    restricting.setdefault(fact, []).append(i)
                    by_value = allowing.setdefault(fact, {})
                    for value in demand:
                        by_value.setdefault(value_key(value), []).append(i)
        self.allowing = {fact: {value: bitset(found, size) for value, found in by_value.items()}
                         for fact, by_value in allowing.items()}
        self.unrestricted = {fact: self.everyone & ~bitset(found, size) for fact, found in restricting.items()}

    def of(self, demands: dict[str, Any]) -> int:
        found = self.everyone
        for fact, demand in demands.items():
            if isinstance(demand, frozenset):
                by_value = self.allowing[fact]
                room = self.unrestricted[fact]
                for value in demand:
                    room |= by_value.get(value_key(value), 0)
                found &= room
        return found


def contradicting_pairs(group: list[Recommendation],
                        vocabulary: Vocabulary) -> Iterator[tuple[Recommendation, Recommendation]]:
    """Pairs of one target's recommendations whose actions contradict and whose top-level demands
    are compatible: the only pairs that can conflict. Each pair once, (earlier, later) in the order
    of `group`, ordered by the earlier then the later."""
    return _compatible_pairs(group, vocabulary, _Contradictions.of)


def clashing_pairs(group: list[Recommendation],
                   vocabulary: Vocabulary) -> Iterator[tuple[Recommendation, Recommendation]]:
    """As `contradicting_pairs`, and also the pairs whose actions give a dose parameter different
    but overlapping ranges: every pair that could give one patient two different instructions."""
    return _compatible_pairs(group, vocabulary,
                             lambda found, rec: found.of(rec) | found.differing_doses(rec))


def _compatible_pairs(group: list[Recommendation], vocabulary: Vocabulary,
                      wanted: Callable[[_Contradictions, Recommendation], int],
                      ) -> Iterator[tuple[Recommendation, Recommendation]]:
    """The pairs (earlier, later) whose later member is among `wanted` of the earlier (a
    symmetric relation, as a bitset over `group`) and whose top-level demands are compatible."""
    allowed = [allowed_values(vocabulary, rec.when) for rec in group]
    contradictions = _Contradictions(group)
    compatibility = _Compatibility(group, allowed)
    for i, rec in enumerate(group):
        later = compatibility.everyone & ~((2 << i) - 1)
        candidates = wanted(contradictions, rec) & later
        if not candidates:
            continue
        for j in positions_of(candidates & compatibility.of(allowed[i])):
            mine, other = allowed[i], allowed[j]
            if not any(_incompatible(mine[f], other[f]) for f in mine.keys() & other.keys()
                       if not isinstance(mine[f], frozenset)):
                yield rec, group[j]
