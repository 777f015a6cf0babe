"""Which recommendations apply to a patient case, which do not, which are undecided, and why.

`resolve` is a pure function of (knowledge base, case, options). Each recommendation ends in one
outcome: `applies`, `overridden` (it applies, but an applying recommendation overrides it),
`undecided` (the case lacks a fact its condition needs; the facts that would decide it are listed),
`not-applicable`, or `excluded` (status not asked for, not in force on the date, or superseded).
Missing information never reads as false: evaluation is three-valued.

An index built once per knowledge base maps the enum facts tested at the top of each condition to
the recommendations that allow each value, so a case only evaluates its candidates; the others are
`not-applicable` without being evaluated (their trace is computed only if asked for).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from avn_kb import actions
from avn_kb.conditions import All, Condition, Not, Test, evaluate, tests
from avn_kb.derive import with_derived
from avn_kb.digraph import cyclic_nodes, predecessors, topological_order
from avn_kb.model import KnowledgeBase, Recommendation, Vocabulary

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
    trace: tuple[TermTrace, ...] = ()
    load_kg: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolution:
    case: Mapping[str, Any]
    facts: Mapping[str, Any]  # the case plus derived facts
    as_of: dt.date
    statuses: tuple[str, ...]
    outcomes: tuple[Outcome, ...]

    def by_outcome(self, outcome: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome == outcome]

    def ids(self, outcome: str) -> list[str]:
        return [o.rec.id for o in self.outcomes if o.outcome == outcome]


class Index:
    """Recommendations keyed by one discriminating enum fact of their condition."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.vocabulary: Vocabulary | None = kb.vocabulary
        self.always: list[Recommendation] = []
        self.keyed: dict[str, dict[Any, list[Recommendation]]] = {}
        self.on_fact: dict[str, list[Recommendation]] = {}
        for rec in kb.recommendations:
            key = self._discriminator(rec.when)
            if key is None:
                self.always.append(rec)
                continue
            fact, values = key
            self.on_fact.setdefault(fact, []).append(rec)
            for value in values:
                self.keyed.setdefault(fact, {}).setdefault(value, []).append(rec)

    def _discriminator(self, condition: Condition) -> tuple[str, frozenset[Any]] | None:
        if self.vocabulary is None:
            return None
        parts = condition.parts if isinstance(condition, All) else (condition,)
        best: tuple[str, frozenset[Any]] | None = None
        for part in parts:
            if isinstance(part, Test) and part.op == "in" and self.vocabulary.fact_type(part.fact) == "enum":
                if best is None or len(part.values) < len(best[1]):
                    best = (part.fact, part.values)
        return best

    def candidates(self, facts: Mapping[str, Any]) -> set[str]:
        """Ids of the recommendations whose condition might hold on these facts."""
        found = {rec.id for rec in self.always}
        for fact, recs in self.on_fact.items():
            if fact not in facts:
                found.update(rec.id for rec in recs)
            else:
                found.update(rec.id for rec in self.keyed[fact].get(facts[fact], ()))
        return found


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
    needed: list[str] = []
    pending = [t.fact for t in tests(condition) if t.fact not in facts]
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
    facts = with_derived(vocabulary, case) if vocabulary else dict(case)
    index = index or Index(kb)
    candidates = index.candidates(facts)
    eligible = {rec.id: rec for rec in kb.recommendations if rec.status in statuses and rec.in_force(day)}
    superseded = {old: rec.id for rec in eligible.values() for old in rec.supersedes}
    results: dict[str, Outcome] = {}
    for rec in kb.recommendations:
        if rec.status not in statuses:
            results[rec.id] = Outcome(rec, "excluded", f"status {rec.status}")
        elif rec.id not in eligible:
            results[rec.id] = Outcome(rec, "excluded", f"not in force on {day}")
        elif rec.id in superseded:
            results[rec.id] = Outcome(rec, "excluded", f"superseded by {superseded[rec.id]}")
        elif rec.id not in candidates:
            trace = trace_of(rec.when, facts) if explain else ()
            results[rec.id] = Outcome(rec, "not-applicable", trace=trace)
        else:
            results[rec.id] = _evaluate(kb, rec, facts, explain)
    _apply_overrides(results)
    _flag_conflicts(results)
    return Resolution(dict(case), facts, dt.date.fromisoformat(day), statuses,
                      tuple(results[rec.id] for rec in kb.recommendations))


def _evaluate(kb: KnowledgeBase, rec: Recommendation, facts: Mapping[str, Any], explain: bool) -> Outcome:
    held = evaluate(rec.when, facts)
    trace = trace_of(rec.when, facts) if explain or held is None else ()
    if held is True:
        return Outcome(rec, "applies", trace=trace, load_kg=_loads(kb, rec, facts))
    if held is None:
        missing = missing_facts(kb.vocabulary, rec.when, facts)
        return Outcome(rec, "undecided", f"give {' or '.join(missing)}", missing=missing, trace=trace)
    return Outcome(rec, "not-applicable", trace=trace)


def _apply_overrides(results: dict[str, Outcome]) -> None:
    """An applying recommendation overrides those it names (when they apply or are undecided).
    Only winners override: walk the overrides graph from the top. Links on a cycle (reported by
    the validator) are ignored."""
    graph: dict[str, set[str]] = {}
    for rec_id, outcome in results.items():
        if outcome.outcome == "applies" and outcome.rec.overrides:
            graph[rec_id] = {other for other in outcome.rec.overrides if other in results}
    if not graph:
        return
    order = topological_order(graph)
    if order is None:
        blocked = cyclic_nodes(graph)
        graph = {a: {b for b in targets if not (a in blocked and b in blocked)} for a, targets in graph.items()}
        order = topological_order(graph) or []
    overriders = predecessors(graph)
    for rec_id in order:
        outcome = results[rec_id]
        if outcome.outcome not in ("applies", "undecided"):
            continue
        winners = tuple(sorted(w for w in overriders.get(rec_id, ()) if results[w].outcome == "applies"))
        if winners:
            results[rec_id] = Outcome(outcome.rec, "overridden", f"overridden by {', '.join(winners)}",
                                      overridden_by=winners, trace=outcome.trace)


def _flag_conflicts(results: dict[str, Outcome]) -> None:
    by_target: dict[str, list[Outcome]] = {}
    for outcome in results.values():
        if outcome.outcome == "applies":
            by_target.setdefault(outcome.rec.action.target, []).append(outcome)
    clashes: dict[str, list[str]] = {}
    for applying in by_target.values():
        for i, a in enumerate(applying):
            for b in applying[i + 1:]:
                if actions.contradiction(a.rec.action, b.rec.action):
                    clashes.setdefault(a.rec.id, []).append(b.rec.id)
                    clashes.setdefault(b.rec.id, []).append(a.rec.id)
    for rec_id, others in clashes.items():
        results[rec_id] = replace(results[rec_id], conflicts_with=tuple(others))
