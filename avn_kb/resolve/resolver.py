"""Which recommendations apply to a patient case, which do not, which are undecided, and why.

`resolve` is a pure function of (knowledge base, case, options). Each recommendation ends in one
outcome: `applies`, `overridden` (it applies, but an applying recommendation overrides it),
`undecided` (the case lacks a fact its condition needs; the facts that would decide it are listed),
`not-applicable`, or `excluded` (status not asked for, not in force on the date, or superseded).
Missing information never reads as false: evaluation is three-valued.

An Index built once per knowledge base holds the compiled conditions and bitset filters
(`resolve_index`): a case evaluates only its candidates, the recommendations its facts do not rule
out. The others are `not-applicable` without being evaluated (their trace is computed only if asked
for), and their outcome objects are shared, so a case costs what its candidates cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from avn_kb.lang import actions
from avn_kb.model.conditions import Condition, Not, Test, evaluate, tests
from avn_kb.lang.derive import NO_VALUE, undefined_here, with_derived
from avn_kb.lang.exercise_loads import loading_exercises
from avn_kb.util.gcpause import collector_paused
from avn_kb.util.digraph import cyclic_nodes, predecessors, topological_order
from avn_kb.model.knowledge import Action, KnowledgeBase, Recommendation, Vocabulary
from avn_kb.lang.index import CandidateIndex, bitset, positions_of

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
    outcome: str
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

    kind: str
    detail: str


@dataclass(frozen=True)
class PendingOverride:
    """An undecided recommendation that overrides an undecided one: if it turns out to apply, the
    other does not. `missing`: the facts that would decide it."""

    id: str
    title: str
    missing: tuple[str, ...]


class Resolution:
    """The outcome of every recommendation for one case.

    `resolve` decides which recommendations apply, are undecided or overridden, as positions;
    the Outcome objects (with loads, missing facts and traces) are made when first asked for, and
    the outcomes of everything else (not applicable, excluded) are shared objects of the Index.
    A program that only wants the applying ids pays for nothing more."""

    def __init__(self, kb: KnowledgeBase, case: Mapping[str, Any], facts: Mapping[str, Any], as_of: dt.date,
                 statuses: tuple[str, ...], index: Index, decision: _Decision, explain: bool) -> None:
        self.case = case
        self.facts = facts  # the case plus derived facts
        self.as_of = as_of
        self.statuses = statuses
        self._kb = kb
        self._index = index
        self._decision = decision
        self._explain = explain

    @cached_property
    def _decided(self) -> dict[int, Outcome]:
        """Position -> outcome for every recommendation that applies, is overridden or undecided
        (and, when explaining, every not-applicable one with its trace)."""
        kb, facts, explain, decision = self._kb, self.facts, self._explain, self._decision
        recs = self._index.recommendations
        decided: dict[int, Outcome] = {}

        def trace(i: int) -> tuple[TermTrace, ...]:
            return trace_of(recs[i].when, facts) if explain else ()

        for i in decision.applies:
            decided[i] = Outcome(recs[i], "applies", trace=trace(i), load_kg=_loads(kb, recs[i], facts),
                                 conflicts_with=decision.conflicts.get(i, ()),
                                 doses_differ_with=decision.doses_differ.get(i, ()),
                                 loading_exercises=self._loading(recs[i]))
        for i in decision.undecided:
            decided[i] = replace(self._undecided(i, trace(i)), loading_exercises=self._loading(recs[i]))
        for i, winners in decision.overridden.items():
            decided[i] = Outcome(recs[i], "overridden", f"overridden by {', '.join(winners)}",
                                 overridden_by=winners, trace=trace(i))
        if explain:
            excluded = self._index.eligibility(self.statuses, self.as_of.isoformat()).excluded
            for i, rec in enumerate(recs):
                if i not in decided and i not in excluded:
                    decided[i] = Outcome(rec, "not-applicable", trace=trace_of(rec.when, facts))
        return decided

    def _undecided(self, i: int, trace: tuple[TermTrace, ...]) -> Outcome:
        """An undecided outcome: the facts its own condition lacks, and each undecided overrider
        with the facts that would decide it."""
        index, decision = self._index, self._decision
        rec = index.recommendations[i]
        own = self._open_facts(i)
        pending = tuple(PendingOverride(rival, index.recommendations[index.position[rival]].title,
                                        self._deciding_facts(index.position[rival]))
                        for rival in decision.pending.get(i, ()))
        winners = decision.would_lose.get(i, ())
        parts = []
        if own:
            beaten = f" (it cannot apply: if it holds, {', '.join(winners)} overrides it)" if winners else ""
            parts.append(f"give {' or '.join(own)}{beaten}")
        parts += [f"{p.id} ({p.title}) overrides it if it applies: give {' or '.join(p.missing)}" for p in pending]
        missing = tuple(dict.fromkeys((*own, *(f for p in pending for f in p.missing))))
        return Outcome(rec, "undecided", "; ".join(parts), missing=missing, trace=trace, pending_overrides=pending,
                       would_be_overridden_by=winners)

    def _loading(self, rec: Recommendation) -> tuple[tuple[str, bool | None], ...]:
        vocabulary = self._kb.vocabulary
        return loading_exercises(vocabulary, rec.action, self.facts) if vocabulary and rec.action.exercises else ()

    def _open_facts(self, i: int) -> tuple[str, ...]:
        """The facts whose absence leaves recommendation i's own condition open ((): it holds)."""
        if self._decision.holds >> i & 1:
            return ()
        return _missing(self._kb.vocabulary, self._index.reads[i], self.facts)

    def _deciding_facts(self, i: int) -> tuple[str, ...]:
        """The facts that would settle whether recommendation i applies: those its condition
        lacks, and those its own undecided overriders need."""
        index = self._index
        own = self._open_facts(i)
        rivals = self._decision.pending.get(i, ())
        return tuple(dict.fromkeys((*own, *(f for r in rivals for f in self._deciding_facts(index.position[r])))))

    @cached_property
    def outcomes(self) -> tuple[Outcome, ...]:
        """Every recommendation's outcome, in knowledge-base order."""
        decided, default = self._decided, self._index.not_applicable
        excluded = self._index.eligibility(self.statuses, self.as_of.isoformat()).excluded
        return tuple(decided.get(i) or excluded.get(i) or default[i] for i in range(len(default)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resolution):
            return NotImplemented
        return ((self.case, self.facts, self.as_of, self.statuses, self.outcomes)
                == (other.case, other.facts, other.as_of, other.statuses, other.outcomes))

    __hash__ = None  # type: ignore[assignment]  # compared by value, never hashed

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(self.ids(name))}" for name in OUTCOMES)
        return f"Resolution(case={dict(self.case)!r}, as_of={self.as_of}, {counts})"

    def by_outcome(self, outcome: str) -> list[Outcome]:
        if outcome in ("not-applicable", "excluded"):
            return [o for o in self.outcomes if o.outcome == outcome]
        decided = self._decided
        return [decided[i] for i in self._positions(outcome)]

    def ids(self, outcome: str) -> list[str]:
        if outcome in ("not-applicable", "excluded"):
            return [o.rec.id for o in self.by_outcome(outcome)]
        recs = self._index.recommendations
        return [recs[i].id for i in self._positions(outcome)]

    def _positions(self, outcome: str) -> list[int]:
        decision = self._decision
        if outcome == "overridden":
            return sorted(decision.overridden)
        return decision.applies if outcome == "applies" else decision.undecided


@dataclass(frozen=True)
class _Decision:
    """What `resolve` decided, by position: the applying and the undecided recommendations
    (ascending, final: neither overridden), the overridden ones with their winners, the ones
    left undecided by an undecided overrider (with those overriders' ids), the open ones that
    an applying recommendation would override, and the applying ones in conflict with others."""

    holds: int  # bitset: the recommendations whose own condition holds
    applies: list[int]
    undecided: list[int]
    overridden: dict[int, tuple[str, ...]]
    pending: dict[int, tuple[str, ...]]
    would_lose: dict[int, tuple[str, ...]]
    conflicts: dict[int, tuple[str, ...]] = field(default_factory=dict)
    doses_differ: dict[int, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Eligibility:
    """For one (statuses, day): the recommendations that may apply, and the others' outcomes."""

    allowed: int  # bitset
    excluded: Mapping[int, Outcome]


class Index:
    """Everything about a knowledge base the resolver needs that does not depend on the case:
    compiled conditions and per-fact bitset filters (see `resolve_index`), the shared
    not-applicable outcomes, and the eligibility for each (statuses, day) asked so far."""

    ELIGIBILITY_CACHE = 16

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.vocabulary: Vocabulary | None = kb.vocabulary
        self.recommendations = tuple(kb.recommendations)
        with collector_paused():
            self.filters = CandidateIndex(self.recommendations, self.vocabulary)
            self.not_applicable = tuple(Outcome(rec, "not-applicable") for rec in self.recommendations)
            self.reads = [_reads(rec.when) for rec in self.recommendations]
        self.position = {rec.id: i for i, rec in reversed(list(enumerate(self.recommendations)))}
        self.overriding = bitset((i for i, rec in enumerate(self.recommendations) if rec.overrides),
                                 len(self.recommendations))
        self._eligibility: dict[tuple[tuple[str, ...], str], _Eligibility] = {}

    def eligibility(self, statuses: tuple[str, ...], day: str) -> _Eligibility:
        key = (statuses, day)
        found = self._eligibility.get(key)
        if found is None:
            if len(self._eligibility) >= self.ELIGIBILITY_CACHE:
                self._eligibility.pop(next(iter(self._eligibility)))
            found = self._eligibility[key] = _eligibility(self.recommendations, statuses, day)
        return found

    def truth(self, facts: Mapping[str, Any], statuses: tuple[str, ...], day: str) -> tuple[int, int]:
        """Bitsets of the eligible recommendations whose condition holds on these facts, and of
        those it leaves open."""
        return self.filters.truth(facts, self.eligibility(statuses, day).allowed)

    def candidates(self, facts: Mapping[str, Any], statuses: tuple[str, ...], day: str) -> set[int]:
        """Positions of the eligible recommendations whose condition holds or is open."""
        holds, open_ = self.truth(facts, statuses, day)
        return set(positions_of(holds | open_))


def _eligibility(recs: tuple[Recommendation, ...], statuses: tuple[str, ...], day: str) -> _Eligibility:
    eligible = {rec.id for rec in recs if rec.status in statuses and rec.in_force(day)}
    superseded: dict[str, str] = {}
    for rec in recs:
        if rec.id in eligible:
            for old in rec.supersedes:
                superseded.setdefault(old, rec.id)
    excluded: dict[int, Outcome] = {}
    for i, rec in enumerate(recs):
        exclusion = None
        if rec.status not in statuses:
            exclusion = Exclusion("status", rec.status)
        elif rec.id not in eligible:
            ended = rec.effective_until is not None and rec.effective_until < day
            exclusion = Exclusion("ended", str(rec.effective_until)) if ended else Exclusion(
                "not-yet-in-force", str(rec.effective_from))
        elif rec.id in superseded:
            exclusion = Exclusion("superseded", superseded[rec.id])
        if exclusion is not None:
            excluded[i] = Outcome(rec, "excluded", _exclusion_reason(exclusion, day), exclusion=exclusion)
    allowed = bitset((i for i in range(len(recs)) if i not in excluded), len(recs))
    return _Eligibility(allowed, excluded)


def _exclusion_reason(exclusion: Exclusion, day: str) -> str:
    kind, detail = exclusion.kind, exclusion.detail
    if kind == "status":
        return f"status {detail}"
    if kind == "superseded":
        return f"superseded by {detail}"
    if kind == "ended":
        return f"not in force on {day}: ended on {detail}"
    return f"not in force on {day}: in force from {detail}"


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


def missing_facts(vocabulary: Vocabulary | None, condition: Condition, facts: Mapping[str, Any]) -> tuple[str, ...]:
    """The facts whose absence leaves the condition open, derived ones replaced by what they need."""
    return _missing(vocabulary, _reads(condition), facts)


def _reads(condition: Condition) -> tuple[str, ...]:
    """The facts a condition tests, in order of first test."""
    return tuple(dict.fromkeys(t.fact for t in tests(condition)))


def _missing(vocabulary: Vocabulary | None, reads: tuple[str, ...], facts: Mapping[str, Any]) -> tuple[str, ...]:
    needed: list[str] = []
    pending = [fact for fact in reads if fact not in facts]
    seen: set[str] = set()
    while pending:
        fact = pending.pop(0)
        if fact in seen:
            continue
        seen.add(fact)
        derived = vocabulary.derived.get(fact) if vocabulary else None
        if derived is None:
            needed.append(fact)
        else:
            pending.extend(t.fact for _, when in derived.cases for t in tests(when) if t.fact not in facts)
    return tuple(dict.fromkeys(needed))


def _loads(kb: KnowledgeBase, rec: Recommendation, facts: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    vocabulary = kb.vocabulary
    intervention = vocabulary.interventions.get(rec.action.target) if vocabulary else None
    if intervention is None:
        return {}
    loads = {}
    for name, (low, high) in rec.action.dose.items():
        parameter = intervention.dose.get(name)
        basis = facts.get(parameter.per_kg_of) if parameter and parameter.per_kg_of else None
        if isinstance(basis, (int, float)) and not isinstance(basis, bool):
            loads[name] = (round(low * basis / 100, 1), round(high * basis / 100, 1))
    return loads


def resolve(kb: KnowledgeBase, case: Mapping[str, Any], as_of: dt.date | None = None,
            statuses: tuple[str, ...] = ("approved",), index: Index | None = None,
            explain: bool = False) -> Resolution:
    """Resolve the knowledge base for one case (facts already checked against the vocabulary)."""
    day = (as_of or dt.date.today()).isoformat()
    vocabulary = kb.vocabulary
    facts = _case_facts(vocabulary, case) if vocabulary else dict(case)
    if index is None or index.kb is not kb:
        index = Index(kb)
    holds, open_ = index.truth(facts, statuses, day)
    decision = _settle(index, holds, open_)
    decision.conflicts.update(_conflicts(index.recommendations, decision.applies))
    decision.doses_differ.update(_doses_differ(index.recommendations, decision.applies))
    return Resolution(kb, dict(case), facts, dt.date.fromisoformat(day), statuses, index, decision, explain)


def _case_facts(vocabulary: Vocabulary, case: Mapping[str, Any]) -> dict[str, Any]:
    """The case plus its derived facts, with every fact the case cannot give (its `defined_for` is
    false here: ARCO at a site other than the femoral head) decided as empty, as the validator's
    search reads it: a test for a value of it is false, not open, and no answer asks for it.
    Repeated until nothing more is decided (an empty fact may decide a derived one)."""
    facts = with_derived(vocabulary, case)
    while True:
        empty = [name for name in undefined_here(vocabulary, facts) if name not in facts]
        if not empty:
            return facts
        facts = with_derived(vocabulary, {**facts, **dict.fromkeys(empty, NO_VALUE)})


def _settle(index: Index, holds: int, open_: int) -> _Decision:
    """Final outcomes under overrides, right whatever the missing facts turn out to be.

    R applies only when its condition holds and every recommendation overriding it is known not
    to apply (it does not apply, or is itself overridden). One that applies beats R: R is
    overridden. One that is undecided leaves R undecided, pending it. A recommendation whose
    condition is open stays undecided (overriders it would lose to are kept for the reason).
    Walk the overrides graph from the top so that each overrider is settled before what it
    overrides. Links on a cycle (reported by the validator) are ignored."""
    applies, undecided = list(positions_of(holds)), list(positions_of(open_))
    alive = holds | open_
    overriders = index.overriding & alive
    graph: dict[str, set[str]] = {}
    recs, position = index.recommendations, index.position
    for i in positions_of(overriders):
        targets = {other for other in recs[i].overrides if other in position and alive >> position[other] & 1}
        if targets:
            graph[recs[i].id] = targets
    if not graph:
        return _Decision(holds, applies, undecided, {}, {}, {})
    order = topological_order(graph)
    if order is None:
        blocked = cyclic_nodes(graph)
        graph = {a: {b for b in targets if not (a in blocked and b in blocked)} for a, targets in graph.items()}
        order = topological_order(graph) or []
    beaten_by = predecessors(graph)
    overridden: dict[int, tuple[str, ...]] = {}
    pending: dict[int, tuple[str, ...]] = {}
    would_lose: dict[int, tuple[str, ...]] = {}

    def settled_applies(p: int) -> bool:
        return bool(holds >> p & 1) and p not in overridden and p not in pending

    for rec_id in order:
        j = position[rec_id]
        rivals = sorted(beaten_by.get(rec_id, ()))
        if not rivals:
            continue
        winners = tuple(w for w in rivals if settled_applies(position[w]))
        open_rivals = tuple(w for w in rivals if position[w] not in overridden and not settled_applies(position[w]))
        if holds >> j & 1:
            if winners:
                overridden[j] = winners
            elif open_rivals:
                pending[j] = open_rivals
        else:
            if winners:
                would_lose[j] = winners
            if open_rivals:
                pending[j] = open_rivals
    final_applies = [i for i in applies if i not in overridden and i not in pending]
    final_undecided = sorted({*undecided, *(i for i in pending if holds >> i & 1)})
    return _Decision(holds, final_applies, final_undecided, overridden, pending, would_lose)


def _conflicts(recs: tuple[Recommendation, ...], applying: list[int]) -> dict[int, tuple[str, ...]]:
    """For each applying recommendation whose action contradicts another applying one on the
    same target, the ids of those others."""
    by_target: dict[str, list[int]] = {}
    for i in applying:
        by_target.setdefault(recs[i].action.target, []).append(i)
    clashes: dict[int, list[str]] = {}
    for group in by_target.values():
        if len(group) < 2 or not _may_clash([recs[i].action for i in group]):
            continue
        for n, i in enumerate(group):
            for j in group[n + 1:]:
                if actions.contradiction(recs[i].action, recs[j].action):
                    clashes.setdefault(i, []).append(recs[j].id)
                    clashes.setdefault(j, []).append(recs[i].id)
    return {i: tuple(others) for i, others in clashes.items()}


def _doses_differ(recs: tuple[Recommendation, ...],
                  applying: list[int]) -> dict[int, tuple[tuple[str, tuple[str, ...]], ...]]:
    """For each applying recommendation whose dose for a parameter differs from (but overlaps)
    another applying one's on the same target, the others with the parameters that differ."""
    by_target: dict[str, list[int]] = {}
    for i in applying:
        if recs[i].action.dose and recs[i].action.stance == "for":
            by_target.setdefault(recs[i].action.target, []).append(i)
    found: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
    for group in by_target.values():
        if len(group) < 2 or len({tuple(sorted(recs[i].action.dose.items())) for i in group}) < 2:
            continue  # one dose for all of them: nothing differs (the common case, in one pass)
        for n, i in enumerate(group):
            for j in group[n + 1:]:
                differ = actions.dose_differences(recs[i].action, recs[j].action)
                if differ:
                    found.setdefault(i, []).append((recs[j].id, differ))
                    found.setdefault(j, []).append((recs[i].id, differ))
    return {i: tuple(others) for i, others in found.items()}


def _may_clash(group: list[Action]) -> bool:
    """False when no two of these actions on one target can contradict: one stance, at most one
    level, and for each dose parameter every range overlapping every other (intervals meet
    pairwise exactly when the highest low is at most the lowest high), in one pass."""
    stances = {action.stance for action in group}
    if len(stances) > 1:
        return True
    if stances == {"against"}:
        return False
    if len({action.level for action in group if action.level is not None}) > 1:
        return True
    lows: dict[str, float] = {}
    highs: dict[str, float] = {}
    for action in group:
        for name, (low, high) in action.dose.items():
            lows[name] = max(lows.get(name, low), low)
            highs[name] = min(highs.get(name, high), high)
    return any(lows[name] > highs[name] for name in lows)
