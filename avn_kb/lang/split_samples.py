"""Samples of a condition that reads derived facts, without a search of the whole condition.

The direct samples of `CaseSearch` take each base fact's values from the parts of the condition
on that fact alone; a condition reading a derived fact (`collapse: post-collapse`) fell to a
search of the whole condition, twice (whether it can apply, and its samples). Split instead: a
conjunct reading one base fact that no derivation reads (`deciding_facts`: the phase, the pain
score) is independent of every other part, for neither the derived facts nor whether the case is
real depend on that fact, and takes its values as in the direct samples; the other conjuncts
(the derived facts and the facts they are derived from) are searched on their own. Their
witnesses depend only on those conjuncts, which thousands of conditions share (a few derived
values with a few sites), so they are remembered per vocabulary.

That small search draws nothing from the validation's budget: it stops at `MAX_STEPS` partial
cases (then the whole condition is searched, as before), so what a run decides never depends on
which condition asked first. Every sample made so is still checked on the whole
condition by the caller."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from avn_kb.model.conditions import All, AnyOf, Condition, Not, Test
from avn_kb.model.knowledge import Vocabulary
from avn_kb.util.memo import Bounded, remembered

MAX_REMEMBERED = 4_096  # distinct sets of searched conjuncts per vocabulary; then it starts again
WITNESSES = 3  # as many as the redundancy check's samples (avn_kb/validate/checks/logic.py SAMPLES)
# The steps one search of the searched conjuncts may take. There is at most one such search per
# recommendation (one set of searched conjuncts each), so together they take at most what the
# budget grants per recommendation again (SearchBudget.PER_RECOMMENDATION).
MAX_STEPS = 400

Witnesses = list[dict[str, Any]]


def structure(condition: Condition) -> tuple[Any, ...]:
    """The condition as a key: its tree without where it is written, a test's values by their
    identity (the model shares one frozenset among the tests that list the same values; the key
    keeps it alive) and its bounds with their types (1, 1.0 and True are equal in a key)."""
    if isinstance(condition, Test):
        low, high = condition.low, condition.high
        return ("test", condition.fact, condition.op, id(condition.values), condition.values,
                type(low), low, type(high), high)
    if isinstance(condition, Not):
        return ("not", structure(condition.part))
    kind = "all" if isinstance(condition, All) else "any"
    assert isinstance(condition, (All, AnyOf))
    return (kind, tuple(structure(part) for part in condition.parts))


def part_witnesses(vocabulary: Vocabulary, parts: Sequence[Condition], count: int,
                   search: Callable[[Sequence[Condition], int], Witnesses]) -> Witnesses:
    """Up to `count` partial cases on which every part holds: the first of those `search(parts,
    n)` gives, remembered per vocabulary by the parts' structure. `n` is at least `WITNESSES`, so
    that whether a condition can apply and its samples ask one search."""
    known: Bounded[tuple[Any, ...], Witnesses] = remembered(vocabulary, "_part_witnesses",
                                                            lambda: Bounded(MAX_REMEMBERED))
    wanted = max(count, WITNESSES)
    key = (wanted, tuple(structure(part) for part in parts))
    found = known.get(key)
    if found is None:
        found = known.keep(key, search(parts, wanted))
    return found[:count]
