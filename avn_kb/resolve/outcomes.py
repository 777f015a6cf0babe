"""The outcome of one recommendation for one case, as the resolver reports it: what it is
(OUTCOMES), why (the reason, the missing facts, the pending overrides, the exclusion), and the
trace of each test of its condition when explaining."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from avn_kb.model.conditions import Condition, Not, Test, evaluate
from avn_kb.model.knowledge import Recommendation
from avn_kb.model.types import ExclusionKind
from avn_kb.model.types import Outcome as OutcomeName

OUTCOMES = ("applies", "overridden", "undecided", "not-applicable", "excluded")


@dataclass(frozen=True)
class TermTrace:
    """One test of a condition on this case: the fact, its value in the case, whether it held."""

    test: str
    fact: str
    value: Any
    held: bool | None


@dataclass(frozen=True)
class Outcome:
    rec: Recommendation
    outcome: OutcomeName
    reason: str = ""
    missing: tuple[str, ...] = ()
    overridden_by: tuple[str, ...] = ()
    conflicts_with: tuple[str, ...] = ()
    # Applying recommendations on the same target whose dose ranges differ but overlap (AVN307 in
    # the validator): the clinician would be given two doses. (other id, parameters that differ)
    doses_differ_with: tuple[tuple[str, tuple[str, ...]], ...] = ()
    trace: tuple[TermTrace, ...] = ()
    load_kg: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    pending_overrides: tuple[PendingOverride, ...] = ()
    would_be_overridden_by: tuple[str, ...] = ()
    exclusion: Exclusion | None = None
    # Prescribed exercises that load the affected part on this case: True, or None while a missing
    # fact leaves it open (avn_kb.lang.exercise_loads).
    loading_exercises: tuple[tuple[str, bool | None], ...] = ()


EXCLUSIONS = ("not-yet-in-force", "ended", "superseded", "status")


@dataclass(frozen=True)
class Exclusion:
    """Why a recommendation is left out of the answer: `kind` is one of EXCLUSIONS; `detail` the
    date it comes into force or ended, the id superseding it, or its status."""

    kind: ExclusionKind
    detail: str


@dataclass(frozen=True)
class PendingOverride:
    """An undecided recommendation that overrides an undecided one: if it turns out to apply, the
    other does not. `missing`: the facts that would decide it."""

    id: str
    title: str
    missing: tuple[str, ...]



def trace_of(condition: Condition, facts: Mapping[str, Any], negated: bool = False) -> tuple[TermTrace, ...]:
    """Each test with the case's value and whether it counted for the recommendation: pertinent
    positives and negatives. A test under `not` is shown negated, with the negated result."""
    if isinstance(condition, Test):
        held = evaluate(condition, facts)
        if negated:
            return (TermTrace(f"not ({condition.describe()})", condition.fact, facts.get(condition.fact),
                              None if held is None else not held),)
        return (TermTrace(condition.describe(), condition.fact, facts.get(condition.fact), held),)
    if isinstance(condition, Not):
        return trace_of(condition.part, facts, not negated)
    return tuple(trace for part in condition.parts for trace in trace_of(part, facts, negated))
