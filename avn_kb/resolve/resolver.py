"""Which recommendations apply to a patient case, which do not, which are undecided, and why.

`resolve` is a pure function of (knowledge base, case, options). Each recommendation ends in one
outcome: `applies`, `overridden` (it applies, but an applying recommendation overrides it),
`undecided` (the case lacks a fact its condition needs; the facts that would decide it are listed),
`not-applicable`, or `excluded` (status not asked for, not in force on the date, or superseded).
Missing information never reads as false: evaluation is three-valued.

An Index built once per knowledge base holds the compiled conditions and bitset filters
(`avn_kb.lang.index`): a case evaluates only its candidates, the recommendations its facts do not rule
out. The others are `not-applicable` without being evaluated (their trace is computed only if asked
for), and their outcome objects are shared, so a case costs what its candidates cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from avn_kb.lang.exercise_loads import loading_exercises
from avn_kb.lang.readings import Reading
from avn_kb.model.knowledge import KnowledgeBase, Recommendation, Vocabulary
from avn_kb.resolve.decision import Decision, settle
from avn_kb.resolve.index import Index, Undecided, reads_of
from avn_kb.resolve.outcomes import OUTCOMES, Outcome, PendingOverride, TermTrace, trace_of


class Resolution:
    """The outcome of every recommendation for one case.

    `resolve` decides which recommendations apply, are undecided or overridden, as positions;
    the Outcome objects (with loads, missing facts and traces) are made when first asked for, and
    the outcomes of everything else (not applicable, excluded) are shared objects of the Index.
    A program that only wants the applying ids pays for nothing more."""

    def __init__(self, kb: KnowledgeBase, case: Mapping[str, Any], facts: Mapping[str, Any], as_of: dt.date,
                 statuses: tuple[str, ...], index: Index, decision: Decision, explain: bool) -> None:
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
            decided[i] = Outcome(recs[i], "applies", trace=trace(i), load_kg=load_kg(kb, recs[i], facts),
                                 conflicts_with=decision.conflicts.get(i, ()),
                                 doses_differ_with=decision.doses_differ.get(i, ()),
                                 loading_exercises=self._loading(recs[i]))
        for i in decision.undecided:
            decided[i] = self._undecided(i, trace(i))
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
        with the facts that would decide it. Those follow from the decision (itself from the two
        truth bitsets) and from which facts the case has, so they are remembered by those."""
        decision = self._decision
        key = (i, decision.holds, decision.open_, self._given)
        why = self._index.undecided.get(key)
        if why is None:
            why = self._index.undecided.keep(key, self._why_undecided(i))
        reason, missing, pending, winners = why
        return Outcome(self._index.recommendations[i], "undecided", reason, missing=missing, trace=trace,
                       pending_overrides=pending, would_be_overridden_by=winners,
                       loading_exercises=self._loading(self._index.recommendations[i]))

    def _why_undecided(self, i: int) -> Undecided:
        """(reason, missing facts, pending overrides, overriders it would lose to) of undecided i."""
        index, decision = self._index, self._decision
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
        return "; ".join(parts), missing, pending, winners

    def _loading(self, rec: Recommendation) -> tuple[tuple[str, bool | None], ...]:
        vocabulary = self._kb.vocabulary
        if vocabulary is None or not rec.action.exercises:
            return ()
        return loading_exercises(vocabulary, rec.action, self.facts, derived=True)

    def _open_facts(self, i: int) -> tuple[str, ...]:
        """The facts whose absence leaves recommendation i's own condition open ((): it holds)."""
        if self._decision.holds >> i & 1:
            return ()
        key = (i, self._given)
        found = self._index.missing.get(key)
        if found is None:
            found = self._index.missing.keep(key, _missing(self._kb.vocabulary, self._index.reads[i], self.facts))
        return found

    @cached_property
    def _given(self) -> frozenset[str]:
        """The facts this case has a value for (or has decided empty): all `_missing` looks at."""
        return frozenset(self.facts)

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
            pending.extend(fact for _, when in derived.cases for fact in reads_of(when) if fact not in facts)
    return tuple(dict.fromkeys(needed))


def load_kg(kb: KnowledgeBase, rec: Recommendation, facts: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """The recommendation's dose parameters given per kilogram of a fact of the case, in kilograms
    for this case's value of it (those whose fact the case lacks left out)."""
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
            explain: bool = False, reading: Reading | None = None) -> Resolution:
    """Resolve the knowledge base for one case (facts already checked against the vocabulary).
    `reading`: the case as the index's readings read it, when the caller has it already."""
    day = (as_of or dt.date.today()).isoformat()
    if index is None or index.kb is not kb:
        index = Index(kb)
    if reading is None and index.readings is not None:
        reading = index.readings.read(case)
    facts = reading.facts() if reading is not None else dict(case)
    holds, open_ = index.truth(facts, statuses, day, index.answer_key(case, facts))
    decision = index.decisions.get((holds, open_))
    if decision is None:
        decision = index.decisions.keep((holds, open_), settle(index, holds, open_))
    return Resolution(kb, dict(case), facts, dt.date.fromisoformat(day), statuses, index, decision, explain)
