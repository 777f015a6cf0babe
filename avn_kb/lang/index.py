"""The resolver's index: which recommendations a case can still satisfy, found with bitsets.

A recommendation's condition is a conjunction at its top. Each conjunct that reads a single fact
is a filter: on a case whose value of that fact makes the conjunct false, the recommendation
cannot apply. The index precomputes, per fact, which recommendations each value rules out, as one
Python integer used as a bitset (bit i is the i-th recommendation):

- enum, boolean and derived facts (finite domains): a bitset per value of the domain;
- numbers: the lower and upper bounds of range conjuncts, sorted, with cumulative bitsets, so a
  value rules out "every bound above it" with one bisection;
- sets: `has` / `lacks` conjuncts (under `any`, `all`, `not` too), a bitset per subset of the
  values they name.

A case's candidates are then the eligible recommendations minus the union of what its facts rule
out: a few integer operations whatever the size of the knowledge base. A recommendation all of
whose conjuncts are indexed ("exact") is not even evaluated: it holds unless ruled out, or is
undecided when a fact it reads is missing. The rest, and any whose fact has a value no filter can
judge (outside the domain), are evaluated with compiled conditions. So the index never changes an
answer (a property test holds it to plain evaluation): it only saves evaluations. Bitsets are
built from position lists in one pass (never by OR-ing one bit at a time, which is quadratic).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import combinations
from typing import Any

from avn_kb.lang.compiled import Check, compiled
from avn_kb.model.conditions import Condition, Test, conjuncts, facts_of, tests
from avn_kb.model.knowledge import Recommendation, Vocabulary
from avn_kb.util.memo import Bounded

# Numeric facts with more distinct bounds than this are not indexed: the cumulative bitsets cost
# memory proportional to bounds x recommendations, and so many bounds hardly ever occur.
MAX_BOUNDS = 256


def bitset(positions: Iterable[int], size: int) -> int:
    """The integer whose set bits are `positions` (each below `size`), built in linear time."""
    buffer = bytearray((size + 7) // 8)
    for position in positions:
        buffer[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(buffer, "little")


def positions_of(bits: int) -> list[int]:
    """The set bits of `bits`, lowest first."""
    # One regex scan of the binary digits (least significant first, without '0b'): about a third
    # faster than a loop of str.find, and a case walks hundreds of positions.
    return [found.start() for found in _ONE.finditer(bin(bits)[:1:-1])]


_ONE = re.compile("1")


def value_key(value: Any) -> Any:
    # True == 1 in a dict; a boolean must only meet a boolean.
    return (bool, value) if value is True or value is False else value


class _FiniteFilter:
    """A fact with a finite domain (enum, boolean, derived): the recommendations each value rules
    out. Any single-fact conjunct is indexed, `any` and `not` included: it is evaluated once per
    value of the domain."""

    def __init__(self, domain: Sequence[Any]) -> None:
        self.domain = tuple(domain)
        self.ruled_out: dict[Any, list[int]] = {value_key(value): [] for value in self.domain}
        self.masks: dict[Any, int] = {}

    def add(self, position: int, conjunct: Condition, fact: str) -> bool:
        for key in _ruling(("finite", compiled(conjunct), fact, self.domain), lambda check: [
                value_key(value) for value in self.domain if check({fact: value}) is False]):
            self.ruled_out[key].append(position)
        return True

    def freeze(self, size: int) -> None:
        self.masks = {key: bitset(found, size) for key, found in self.ruled_out.items()}
        self.ruled_out = {}

    def rule_out(self, value: Any) -> int | None:
        """The recommendations this value rules out; None for a value outside the domain (its
        conjuncts are then evaluated one by one)."""
        try:
            return self.masks.get(value_key(value))
        except TypeError:  # unhashable
            return None


class _RangeFilter:
    """A number fact: recommendations whose range conjunct a value falls below or above."""

    def __init__(self) -> None:
        self.lows: dict[float, list[int]] = {}
        self.highs: dict[float, list[int]] = {}
        self.low_bounds: list[float] = []
        self.above: list[int] = []  # above[j]: every recommendation whose low is low_bounds[j] or more
        self.high_bounds: list[float] = []
        self.below: list[int] = []  # below[j]: every recommendation whose high is below high_bounds[j]

    def add(self, position: int, conjunct: Condition, fact: str) -> bool:
        if not isinstance(conjunct, Test) or conjunct.op != "range":
            return False
        if conjunct.low is not None:
            self.lows.setdefault(conjunct.low, []).append(position)
        if conjunct.high is not None:
            self.highs.setdefault(conjunct.high, []).append(position)
        return True

    def usable(self) -> bool:
        return len(self.lows) + len(self.highs) <= MAX_BOUNDS

    def freeze(self, size: int) -> None:
        self.low_bounds = sorted(self.lows)
        running, self.above = 0, []
        for bound in reversed(self.low_bounds):
            running |= bitset(self.lows[bound], size)
            self.above.append(running)
        self.above.reverse()
        self.high_bounds = sorted(self.highs)
        running, self.below = 0, [0]
        for bound in self.high_bounds:
            running |= bitset(self.highs[bound], size)
            self.below.append(running)
        self.lows, self.highs = {}, {}

    def rule_out(self, value: Any) -> int | None:
        kind = type(value)
        if kind is not int and kind is not float or math.isnan(value):
            return None  # booleans, other types, NaN: evaluated one by one
        out = 0
        first_above = bisect_right(self.low_bounds, value)  # lows strictly above the value
        if first_above < len(self.above):
            out = self.above[first_above]
        return out | self.below[bisect_left(self.high_bounds, value)]  # highs strictly below


class _SetFilter:
    """A set fact. A conjunct reading only this fact depends only on which of the values it names
    (at most MAX_NAMED) the case's set holds: it is evaluated once per subset of them at build
    time, and a case looks up its own subset, once per distinct group of named values."""

    MAX_NAMED = 6

    def __init__(self) -> None:
        self.groups: dict[frozenset[Any], dict[frozenset[Any], list[int]]] = {}
        self.masks: list[tuple[frozenset[Any], dict[frozenset[Any], int]]] = []

    def add(self, position: int, conjunct: Condition, fact: str) -> bool:
        named = frozenset(value for test in tests(conjunct) for value in test.values)
        if len(named) > self.MAX_NAMED or any(test.op not in ("has", "lacks") for test in tests(conjunct)):
            return False
        group = self.groups.get(named)
        if group is None:
            group = self.groups[named] = {frozenset(subset): [] for subset in _subsets(sorted(named, key=repr))}
        for ruled in _ruling(("set", compiled(conjunct), fact, named), lambda check: [
                subset for subset in group if check({fact: subset}) is False]):
            group[ruled].append(position)
        return True

    def freeze(self, size: int) -> None:
        self.masks = [(named, {subset: bitset(ruled, size) for subset, ruled in group.items() if ruled})
                      for named, group in self.groups.items()]
        self.groups = {}

    def rule_out(self, value: Any) -> int | None:
        try:
            present = frozenset(value) if isinstance(value, (list, tuple, set, frozenset)) else frozenset([value])
        except TypeError:
            return None
        out = 0
        for named, by_subset in self.masks:
            out |= by_subset.get(named & present, 0)
        return out


# What each filter's conjuncts rule out, by the conjunct's compiled check (one closure for every
# conjunct of its shape: avn_kb/lang/compiled.py) and the values it is judged on: a large knowledge
# base repeats a few dozen conjuncts in thousands of conditions, and every group of recommendations
# the validator indexes would judge them again on every value. Emptied when it grows past any
# knowledge base's needs.
_RULINGS: Bounded[tuple[Any, ...], list[Any]] = Bounded(65_536)


def _ruling(key: tuple[Any, ...], judge: Callable[[Check], list[Any]]) -> list[Any]:
    """`judge(check)` for the check in `key` (its second item), remembered by the key."""
    found = _RULINGS.get(key)
    return found if found is not None else _RULINGS.keep(key, judge(key[1]))


def _subsets(values: list[Any]) -> Iterator[tuple[Any, ...]]:
    for size in range(len(values) + 1):
        yield from combinations(values, size)


class CandidateIndex:
    """Compiled conditions and per-fact filters for one list of recommendations.

    A recommendation is *exact* when every conjunct at the top of its condition is indexed: on a
    case whose facts are all in their filters' domains, its truth is then read off the bitsets
    (false if a fact rules it out, unknown if a fact it reads is missing, true otherwise) without
    evaluating it."""

    def __init__(self, recommendations: Sequence[Recommendation], vocabulary: Vocabulary | None) -> None:
        self.size = len(recommendations)
        self.everyone = (1 << self.size) - 1
        self.checks = [compiled(rec.when) for rec in recommendations]
        self.filters: dict[str, _FiniteFilter | _RangeFilter | _SetFilter] = {}
        readers: dict[str, list[int]] = {}
        exact: list[int] = []
        for position, rec in enumerate(recommendations):
            indexed = [self._add(position, conjunct, vocabulary) for conjunct in conjuncts(rec.when)]
            for fact in filter(None, indexed):
                readers.setdefault(fact, []).append(position)
            if all(indexed):
                exact.append(position)
        dropped: set[str] = set()
        for fact, found in list(self.filters.items()):
            if isinstance(found, _RangeFilter) and not found.usable():
                del self.filters[fact]
                dropped.add(fact)
            else:
                found.freeze(self.size)
        if dropped:  # their recommendations are no longer exact
            lost = {p for fact in dropped for p in readers.pop(fact, ())}
            exact = [p for p in exact if p not in lost]
        self.readers = {fact: bitset(found, self.size) for fact, found in readers.items()}
        self.exact = bitset(exact, self.size)

    def _add(self, position: int, conjunct: Condition, vocabulary: Vocabulary | None) -> str | None:
        """Index one conjunct; the fact it reads if it was indexed."""
        read = facts_of(conjunct)
        if vocabulary is None or len(read) != 1:
            return None
        (fact,) = read
        found = self.filters.get(fact)
        if found is None:
            kind = vocabulary.fact_type(fact)
            if kind in ("enum", "boolean"):
                found = _FiniteFilter((True, False) if kind == "boolean" else vocabulary.fact_values(fact))
            elif kind == "number":
                found = _RangeFilter()
            elif kind == "set":
                found = _SetFilter()
            else:
                return None
            self.filters[fact] = found
        return fact if found.add(position, conjunct, fact) else None

    def classify(self, facts: Mapping[str, Any]) -> tuple[int, int, int]:
        """Three bitsets for a case: the recommendations its facts rule out; those reading a fact
        it lacks; those reading a fact whose value no filter can judge (to be evaluated)."""
        ruled = absent = unsure = 0
        readers = self.readers
        for fact, found in self.filters.items():
            value = facts.get(fact)
            if value is None:
                absent |= readers.get(fact, 0)
                continue
            out = found.rule_out(value)
            if out is None:
                unsure |= readers.get(fact, 0)
            else:
                ruled |= out
        return ruled, absent, unsure

    def truth(self, facts: Mapping[str, Any], among: int) -> tuple[int, int]:
        """Two bitsets over the recommendations in `among`: those whose condition holds on these
        facts, and those it leaves open. Exact recommendations are read off the filters; the
        others (and any whose fact the filters cannot judge) are evaluated."""
        ruled, absent, unsure = self.classify(facts)
        live = among & ~ruled
        exact = live & self.exact & ~unsure
        holds, open_ = exact & ~absent, exact & absent
        checks = self.checks
        for i in positions_of(live & ~exact):
            result = checks[i](facts)
            if result is True:
                holds |= 1 << i
            elif result is None:
                open_ |= 1 << i
        return holds, open_
