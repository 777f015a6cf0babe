"""What the case search enumerates, and how much of it: the values of each fact that conditions
can tell apart (enum values, subsets of the set elements tested, one number per class the
thresholds make), the limits of one question, and the budget one validation shares between its
questions (passed explicitly to each search).

Every fact has a finite set of values that matter. An enum or boolean has its declared values. A
set fact matters only through the elements some test names, so the subsets of those elements are
enough. A number matters only through the thresholds some test names: each threshold and one point
in each interval between them (inside the declared bounds, a whole number where the fact is an
integer) stand for every number. Derived facts are not assigned: they are computed from the base
facts exactly as the resolver computes them. So enumerating those values over the facts that the
conditions (and the derived facts they use) read covers every case the resolver could see, and a
case found is a real case, evaluated by the resolver's own three-valued logic. A case whose facts
disagree on a derived fact, or that gives a fact outside the cases it is `defined_for`, is refused
by the case checks, so it is no case here either: the search cuts it like a false condition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from avn_kb.model.conditions import Condition, Test, tests
from avn_kb.model.knowledge import Vocabulary
from avn_kb.util.memo import remembered


@dataclass(frozen=True)
class SearchLimits:
    """How many partial cases one question may visit before it gives up (reported, never silent)."""

    max_steps: int = 30_000  # about a second in the worst case: a pre-commit hook must not hang


class SearchTooLarge(Exception):
    """The question needed more steps than allowed; the caller reports that it could not decide."""


class SearchBudget:
    """Partial cases that all the questions of one validation may visit together. Each question
    is bounded by SearchLimits; this bounds their sum, so that a knowledge base asking many hard
    questions still finishes in bounded time (a pre-commit hook must not hang). It grows with the
    knowledge base: a large one asks more questions, each of them usually small."""

    BASE = 40_000  # about as long as one question at its limit and a third: well inside 2 s
    PER_RECOMMENDATION = 400
    FREE_STEPS = 1_000  # every question may take this many whatever is left: small ones always finish

    def __init__(self, steps: int) -> None:
        self.total = steps
        self.left = steps
        self.refusals = 0  # questions refused because the budget was spent (a kept result must have none)

    @classmethod
    def for_size(cls, recommendations: int) -> SearchBudget:
        return cls(cls.BASE + cls.PER_RECOMMENDATION * recommendations)

    def spent(self) -> SearchTooLarge:
        self.refusals += 1
        return SearchTooLarge(f"the search budget of this validation ({self.total:,} partial cases in all, "
                              "for this number of recommendations) is spent")


def expanded_tests(vocabulary: Vocabulary, conditions: Sequence[Condition]) -> list[Test]:
    """The tests of the conditions plus those of every derived fact they depend on."""
    found: list[Test] = []
    pending = [t for c in conditions for t in tests(c)]
    seen_derived: set[str] = set()
    while pending:
        test = pending.pop()
        found.append(test)
        derived = vocabulary.derived.get(test.fact)
        if derived is not None and derived.name not in seen_derived:
            seen_derived.add(derived.name)
            pending.extend(t for _, when in derived.cases for t in tests(when))
    return found


def _number_candidates(vocabulary: Vocabulary, fact: str, thresholds: set[float]) -> list[float]:
    """Each threshold and one value inside each interval between thresholds and bounds. For an
    integer fact only whole numbers are real values: a threshold of 2.5 splits the integers into
    ..2 and 3.., represented by 2 and 3."""
    declared = vocabulary.facts[fact]
    low, high = declared.low, declared.high
    inside = sorted(t for t in thresholds if (low is None or t >= low) and (high is None or t <= high))
    if declared.integer:
        lo = math.ceil(low) if low is not None else math.floor(min(inside, default=0)) - 1
        hi = math.floor(high) if high is not None else math.ceil(max(inside, default=0)) + 1
        critical = {lo, hi} | {v for t in inside for v in (math.floor(t), math.ceil(t)) if lo <= v <= hi}
        ordered = sorted(critical)
        between = {a + 1 for a, b in zip(ordered, ordered[1:]) if a + 1 < b}
        return sorted(critical | between)
    edges = ([low] if low is not None else [inside[0] - 1 if inside else 0]) + inside + \
        ([high] if high is not None else [inside[-1] + 1 if inside else 1])
    candidates = set(inside) | {(a + b) / 2 for a, b in zip(edges, edges[1:]) if a < b}
    candidates.update(bound for bound in (low, high) if bound is not None)
    return sorted(candidates)


def candidate_values(vocabulary: Vocabulary, fact: str, fact_tests: list[Test]) -> list[Any]:
    """The values of `fact` that stand for all others, given the tests that read it. The same
    list for the same values of the tests (kept on the vocabulary; callers never change it), so
    what is derived from it can be remembered by its identity (search.CaseSearch.accepted)."""
    kind = vocabulary.fact_type(fact)
    if kind == "set":
        key: Any = frozenset(v for t in fact_tests for v in t.values if v in vocabulary.fact_values(fact))
    elif kind == "number":
        key = frozenset(b for t in fact_tests for b in (t.low, t.high) if b is not None)
    else:
        key = None
    known: dict[tuple[str, Any], list[Any]] = remembered(vocabulary, "_candidate_values", dict)
    values = known.get((fact, key))
    if values is None:
        values = known[(fact, key)] = _candidates(vocabulary, fact, kind, key)
    return values


def _candidates(vocabulary: Vocabulary, fact: str, kind: str | None, key: Any) -> list[Any]:
    if kind == "enum":
        return list(vocabulary.fact_values(fact))
    if kind == "boolean":
        return [False, True]
    if kind == "set":
        named = sorted(key)
        return [list(subset) for size in range(len(named) + 1) for subset in combinations(named, size)]
    if kind == "number":
        return _number_candidates(vocabulary, fact, set(key))
    return []
