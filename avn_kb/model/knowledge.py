"""The typed model of a knowledge base. Built by the loader from schema-valid documents; read by
checks, the resolver and the formatters. Every object remembers where it came from (`path` and
`pointer`) so that findings can name the file and line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from avn_kb.model.conditions import Condition
from avn_kb.model.source import Pointer, Source
from avn_kb.model.types import ActionKind

# The vocabulary's classes live in model/vocabulary.py; importing them from here stays valid.
from avn_kb.model.vocabulary import DerivedFact, DoseParameter, Exercise, Fact, Intervention, Vocabulary
from avn_kb.util.slot_state import quick_state

__all__ = ["Acceptance", "Action", "Citation", "DerivedFact", "DoseParameter", "Exercise", "Fact", "GoldenCase",
           "Intervention", "KnowledgeBase", "Manifest", "Pointer", "Recommendation", "Reference", "Source",
           "Vocabulary"]


@quick_state  # read back from the cache as fast as an object with a dictionary
@dataclass(frozen=True, slots=True)  # one per recommendation or more: no instance dictionary (issue 17)
class Citation:
    ref: str
    locator: str | None
    note: str | None
    where: Source


@quick_state  # read back from the cache as fast as an object with a dictionary
@dataclass(frozen=True, slots=True)  # one per recommendation or more: no instance dictionary (issue 17)
class Acceptance:
    """A finding code the editors accept on one recommendation, with their reason."""

    code: str
    reason: str
    where: Source = Source("")


@quick_state  # read back from the cache as fast as an object with a dictionary
@dataclass(frozen=True, slots=True)  # one per recommendation or more: no instance dictionary (issue 17)
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
    # The condition as the author wrote it, as JSON text (`when_written`): only exports read it, and
    # as a mapping it would cost some 1.5 KB a recommendation (docs/performance.md, "Locating
    # findings and memory").
    when_json: str = field(default="{}", compare=False, hash=False, repr=False)

    @property
    def when_written(self) -> dict[str, Any]:
        """The condition as the author wrote it (JSON-shaped), for exports that carry it verbatim."""
        written: dict[str, Any] = json.loads(self.when_json)
        return written

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
