"""The typed model of a knowledge base. Built by the loader from schema-valid documents; read by
checks, the resolver and the formatters. Every object remembers where it came from (`path` and
`pointer`) so that findings can name the file and line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from avn_kb.model.bindings import Coding, UnitConversion
from avn_kb.model.conditions import OPS_BY_TYPE, Condition, tests
from avn_kb.model.types import ActionKind, FactType

Pointer = tuple[Any, ...]


@dataclass(frozen=True)
class Source:
    """Where a model object was written: a file and the key path inside it."""

    path: str
    pointer: Pointer = ()

    def at(self, *more: Any) -> Source:
        return Source(self.path, self.pointer + more)


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    label: str
    values: tuple[str, ...] = ()
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False
    source_ref: str | None = None
    where: Source = Source("")
    # The cases the fact exists in (ARCO stages only at one site): a case giving it where this is
    # false is refused. None: defined everywhere.
    defined_for: Condition | None = None
    # Terminology bindings (model/bindings.py): value -> its codes (enum, set); the observation
    # codes (number); the codes that say a set is empty; codes that concern the fact without giving
    # a value (they keep it missing); the UCUM units a number is read from.
    value_codes: Mapping[str, tuple[Coding, ...]] = field(default_factory=dict, hash=False)
    codes: tuple[Coding, ...] = ()
    none_codes: tuple[Coding, ...] = ()
    unmapped_codes: tuple[Coding, ...] = ()
    units: tuple[UnitConversion, ...] = ()

    def every_coding(self) -> tuple[tuple[str | None, Coding], ...]:
        """Each declared code with the value it stands for (None: an observation, the empty set, no value)."""
        return (*((value, c) for value, codings in self.value_codes.items() for c in codings),
                *((None, c) for c in (*self.codes, *self.none_codes, *self.unmapped_codes)))


@dataclass(frozen=True)
class DerivedFact:
    name: str
    label: str
    values: tuple[str, ...]
    cases: tuple[tuple[str, Condition], ...]
    otherwise: str | None = None
    where: Source = Source("")
    defined_for: Condition | None = None  # as for Fact; holds for derived values too

    @property
    def type(self) -> str:
        return "enum"



@dataclass(frozen=True)
class DoseParameter:
    name: str
    unit: str
    low: float
    high: float
    per_kg_of: str | None = None
    written_as: tuple[str, ...] = ()  # words after a number of it in text ("% of 1RM"): checked by AVN308
    label: str | None = None


@dataclass(frozen=True)
class Exercise:
    """An exercise an action may name. `loads`: the cases in which it loads the part the case is
    about (None: declared to load nothing); checked against the conditions that prescribe it."""

    id: str
    label: str | None = None
    loads: Condition | None = None
    where: Source = Source("")


@dataclass(frozen=True)
class Intervention:
    name: str
    label: str
    dose: Mapping[str, DoseParameter] = field(default_factory=dict)
    levels: tuple[str, ...] = ()
    exercises: tuple[str, ...] = ()  # the ids, in order
    exercise_details: Mapping[str, Exercise] = field(default_factory=dict)  # id -> its declaration


@dataclass(frozen=True, eq=False)
class Vocabulary:
    topics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    populations: Mapping[str, str | None] = field(default_factory=dict)  # name -> parent
    facts: Mapping[str, Fact] = field(default_factory=dict)
    derived: Mapping[str, DerivedFact] = field(default_factory=dict)
    interventions: Mapping[str, Intervention] = field(default_factory=dict)
    where: Source = Source("")

    def fact_type(self, name: str) -> str | None:
        if name in self.facts:
            return self.facts[name].type
        return "enum" if name in self.derived else None

    def fact_values(self, name: str) -> tuple[str, ...]:
        if name in self.facts:
            return self.facts[name].values
        return self.derived[name].values if name in self.derived else ()

    def fits(self, condition: Condition) -> bool:
        """Whether every test of the condition names a declared fact, fits its type and uses
        declared values (the term checks report each way in which one does not)."""
        for test in tests(condition):
            kind = self.fact_type(test.fact)
            if kind is None or test.op not in OPS_BY_TYPE[kind]:
                return False
            if kind in ("enum", "set") and not test.values <= set(self.fact_values(test.fact)):
                return False
        return True

    def every_fact(self) -> tuple[Fact | DerivedFact, ...]:
        """The declared facts, base facts first, then derived ones."""
        return (*self.facts.values(), *self.derived.values())

    def topic_label(self, topic: str) -> str:
        """The topic's label, or its name when it has none (or is not declared)."""
        return str(self.topics.get(topic, {}).get("label", topic))

    def sections(self) -> list[str]:
        return [name for name, topic in self.topics.items() if topic.get("section")]

    def lineage(self, population: str) -> list[str]:
        """The population and its ancestors, nearest first (stops on a cycle)."""
        chain: list[str] = []
        current: str | None = population
        while current is not None and current not in chain:
            chain.append(current)
            current = self.populations.get(current)
        return chain


@dataclass(frozen=True)
class Citation:
    ref: str
    locator: str | None
    note: str | None
    where: Source


@dataclass(frozen=True)
class Acceptance:
    """A finding code the editors accept on one recommendation, with their reason."""

    code: str
    reason: str
    where: Source = Source("")


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    target: str
    dose: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    level: str | None = None
    exercises: tuple[str, ...] = ()

    @property
    def stance(self) -> str:
        return "against" if self.kind == "avoid" else "for"


@dataclass(frozen=True)
class Recommendation:
    id: str
    version: str
    status: str
    title: str
    statement: str
    plain_language: str
    topic: str
    population: str
    when: Condition
    action: Action
    strength: str
    direction: str
    certainty: str
    indirect: bool
    indirect_reason: str | None
    expert_opinion: bool
    citations: tuple[Citation, ...]
    evidence_summary: str | None = None
    overrides: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()
    effective_from: str | None = None
    effective_until: str | None = None
    review: Mapping[str, Any] = field(default_factory=dict)
    acceptances: tuple[Acceptance, ...] = ()  # in the order written, repeats kept (AVN406 reports them)
    rationale: str | None = None
    retired_reason: str | None = None
    where: Source = Source("")
    # The condition as the author wrote it (JSON-shaped), for exports that carry it verbatim.
    when_written: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def accepted(self) -> dict[str, str]:
        """Accepted code -> reason (a repeated code: its last reason)."""
        return {a.code: a.reason for a in self.acceptances}

    def in_force(self, day: str) -> bool:
        """Whether the effective period (both ends inclusive, ISO dates) covers `day`."""
        return (self.effective_from or "") <= day and (self.effective_until is None or day <= self.effective_until)

    def review_overdue_since(self, day: str) -> str | None:
        """The date its next review was due, when that is before `day` (ISO dates) and it is not
        retired; otherwise None."""
        due = self.review.get("next_review_due")
        return str(due) if self.status != "retired" and due and str(due) < day else None


@dataclass(frozen=True)
class Reference:
    id: str
    title: str
    population: str
    topics: tuple[str, ...]
    covers: tuple[str, ...] | None
    doi: str | None
    pmid: str | None
    pmcid: str | None
    design: str | None
    status: str
    where: Source
    csl: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class GoldenCase:
    id: str
    title: str
    facts: Mapping[str, Any]
    expect: Mapping[str, tuple[str, ...]]
    as_of: str | None
    where: Source


@dataclass(frozen=True)
class Manifest:
    id: str
    title: str
    version: str
    released: str
    board: Mapping[str, str]  # reviewer id -> role
    reviewers_required: int
    review_interval_months: int | None
    locator_required: bool
    decision_required: tuple[tuple[str, Condition], ...]  # (target, scope)
    severity: Mapping[str, str]
    where: Source
    notice: str | None = None  # shown at the top of every answer, page and export
    publisher: str | None = None  # who publishes it (the FHIR export's publisher)


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything loaded from one knowledge directory, including what failed to load."""

    root: str
    manifest: Manifest | None
    vocabulary: Vocabulary | None
    references: tuple[Reference, ...]
    recommendations: tuple[Recommendation, ...]
    cases: tuple[GoldenCase, ...]
    files: tuple[str, ...]

    def recommendation(self, rec_id: str) -> Recommendation | None:
        for rec in self.recommendations:
            if rec.id == rec_id:
                return rec
        return None

    def reference_ids(self) -> frozenset[str]:
        return frozenset(ref.id for ref in self.references)
