"""What the resolver prepares once per knowledge base: the bitset filters and compiled conditions
(avn_kb.lang.index), the shared not-applicable outcomes, and which recommendations may apply for a
set of statuses on a day (the others excluded, each with why)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from avn_kb.lang.index import CandidateIndex, bitset, positions_of
from avn_kb.lang.readings import AnswerKey, Readings, answer_key, answer_reads, shown_reads
from avn_kb.model.conditions import Condition, tests
from avn_kb.model.knowledge import KnowledgeBase, Recommendation, Vocabulary
from avn_kb.resolve.outcomes import Exclusion, Outcome, PendingOverride
from avn_kb.util.digraph import cyclic_nodes, topological_order
from avn_kb.util.gcpause import collector_paused
from avn_kb.util.memo import Bounded, remembered

if TYPE_CHECKING:
    from avn_kb.resolve.decision import Decision


# Why a recommendation is undecided on a case: (reason, missing facts, pending overrides, the
# applying overriders it would lose to if it held).
Undecided = tuple[str, tuple[str, ...], tuple[PendingOverride, ...], tuple[str, ...]]


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
    MEMO_LIMIT = 4096

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.vocabulary: Vocabulary | None = kb.vocabulary
        self.recommendations = tuple(kb.recommendations)
        with collector_paused():
            self.filters = CandidateIndex(self.recommendations, self.vocabulary)
            self.not_applicable = tuple(Outcome(rec, "not-applicable") for rec in self.recommendations)
            self.reads = [reads_of(rec.when) for rec in self.recommendations]
        self.position = {rec.id: i for i, rec in reversed(list(enumerate(self.recommendations)))}
        self.overriding = bitset((i for i, rec in enumerate(self.recommendations) if rec.overrides),
                                 len(self.recommendations))
        self._eligibility: dict[tuple[tuple[str, ...], str], _Eligibility] = {}
        self._on_override_cycles: frozenset[str] | None = None
        # What the resolver decides from a case's truth bitsets alone, and the facts that would
        # settle a condition given which facts a case has: pure functions of their keys (and of
        # this knowledge base), which many cases share.
        self.decisions: Bounded[tuple[int, int], Decision] = Bounded(self.MEMO_LIMIT)
        self.missing: Bounded[tuple[int, frozenset[str]], tuple[str, ...]] = Bounded(self.MEMO_LIMIT)
        self.truths: Bounded[tuple[AnswerKey, int], tuple[int, int]] = Bounded(self.MEMO_LIMIT)
        self.undecided: Bounded[tuple[int, int, int, frozenset[str]], Undecided] = Bounded(4 * self.MEMO_LIMIT)

    def on_override_cycles(self) -> frozenset[str]:
        """The recommendations on a cycle of overrides in the whole knowledge base, and those a
        cycle reaches (AVN310 reports them). Fixed for the knowledge base, not for the case: which
        links are ignored must not depend on the facts, or a missing fact could change an
        outcome reported as decided."""
        if self._on_override_cycles is None:
            graph = {rec.id: set(rec.overrides) for rec in self.recommendations if rec.overrides}
            self._on_override_cycles = frozenset(cyclic_nodes(graph) if topological_order(graph) is None else ())
        return self._on_override_cycles

    @cached_property
    def readings(self) -> Readings | None:
        """The derived facts of the cases this index is asked about, kept by the values of the
        facts that decide them."""
        return Readings(self.vocabulary) if self.vocabulary is not None else None

    @cached_property
    def answer_reads(self) -> tuple[str, ...]:
        """The facts whose values `answer_key` looks at (avn_kb.lang.readings)."""
        if self.vocabulary is None:
            return tuple(sorted({fact for read in self.reads for fact in read}))
        return answer_reads(self.vocabulary, (rec.when for rec in self.recommendations))

    @cached_property
    def shown_reads(self) -> tuple[str, ...]:
        """The facts an answer reads besides through the conditions (avn_kb.lang.readings)."""
        return shown_reads(self.vocabulary) if self.vocabulary is not None else ()

    def answer_key(self, case: Mapping[str, Any], facts: Mapping[str, Any]) -> AnswerKey | None:
        """What decides a case's answer here, but for its own facts and loads (avn_kb.lang.readings);
        `facts`: the case with its derived facts. None when it cannot be kept by it."""
        return answer_key(case, facts, self.answer_reads)

    @cached_property
    def overrides(self) -> OverridePlan | None:
        """The overrides graph of the whole knowledge base, prepared once (links on a cycle left
        out, as `settle` ignores them), so a case only filters it by which recommendations are
        alive. None when two recommendations share an id: `settle` then builds its graph per case."""
        return _override_plan(self.recommendations, self.position, self.on_override_cycles())

    def eligibility(self, statuses: tuple[str, ...], day: str) -> _Eligibility:
        key = (statuses, day)
        found = self._eligibility.get(key)
        if found is None:
            if len(self._eligibility) >= self.ELIGIBILITY_CACHE:
                self._eligibility.pop(next(iter(self._eligibility)))
            found = self._eligibility[key] = _eligibility(self.recommendations, statuses, day)
        return found

    def truth(self, facts: Mapping[str, Any], statuses: tuple[str, ...], day: str,
              key: AnswerKey | None = None) -> tuple[int, int]:
        """Bitsets of the eligible recommendations whose condition holds on these facts, and of
        those it leaves open. `key`: the facts' `answer_key`, which covers every fact a condition
        reads, so that the truth is kept by it."""
        allowed = self.eligibility(statuses, day).allowed
        if key is None:
            return self.filters.truth(facts, allowed)
        found = self.truths.get((key, allowed))
        if found is None:
            found = self.truths.keep((key, allowed), self.filters.truth(facts, allowed))
        return found

    def candidates(self, facts: Mapping[str, Any], statuses: tuple[str, ...], day: str) -> set[int]:
        """Positions of the eligible recommendations whose condition holds or is open."""
        holds, open_ = self.truth(facts, statuses, day)
        return set(positions_of(holds | open_))


@dataclass(frozen=True)
class OverridePlan:
    """For each overridden position: its overriders as (id, position), sorted by id, and the
    bitset of them; the bitset of every overridden position; and a rank per position in one
    topological order of the whole graph (an overrider ranks before what it overrides)."""

    targeted: int
    rivals: Mapping[int, tuple[tuple[str, int], ...]]
    rival_bits: Mapping[int, int]
    rank: Mapping[int, int]


def _override_plan(recs: tuple[Recommendation, ...], position: Mapping[str, int],
                   blocked: frozenset[str]) -> OverridePlan | None:
    if len(position) != len(recs):
        return None
    beaten_by: dict[int, list[tuple[str, int]]] = {}
    graph: dict[str, set[str]] = {}
    for rec in recs:
        for other in rec.overrides:
            if other in position and not (rec.id in blocked and other in blocked):
                graph.setdefault(rec.id, set()).add(other)
    for source, targets in graph.items():
        for target in targets:
            beaten_by.setdefault(position[target], []).append((source, position[source]))
    order = topological_order(graph) or []
    rank = {position[rec_id]: n for n, rec_id in enumerate(order)}
    rivals = {j: tuple(sorted(found)) for j, found in beaten_by.items()}
    rival_bits = {j: bitset((p for _, p in found), len(recs)) for j, found in rivals.items()}
    return OverridePlan(bitset(rivals, len(recs)), rivals, rival_bits, rank)


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



def reads_of(condition: Condition) -> tuple[str, ...]:
    """The facts a condition tests, in order of first test (once per condition object: the
    resolver asks for those of derived facts at every undecided outcome)."""
    return remembered(condition, "_reads", lambda: tuple(dict.fromkeys(t.fact for t in tests(condition))))
