"""The registry of checks: an explicit table, no import-time discovery. Each check is a pure
generator `check(ctx) -> Iterator[Finding]`; a check that searches the case space is
`check(ctx, run)` and is given the run's SearchRun explicitly by the runner: its search budget,
which the searching checks draw from in the order of this table, and the results kept from the
run before (avn_kb/validate/units.py). A check that judges one recommendation at a time is
`judge_of(shared) -> judge`, `judge(rec) -> Iterator[Finding]`, given only the context shared by
every recommendation (CheckContext.shared), optionally with a `rest(ctx)` for what is not a
recommendation's: the runner looks each recommendation's findings up in the kept table
(avn_kb/validate/kept_findings.py) before judging it. The runner locates findings and stamps
severities."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from avn_kb.model.findings import Finding
from avn_kb.validate.checks import (
    evidence,
    exercises,
    graphs,
    identity,
    lifecycle,
    logic,
    redundancy,
    references,
    terminology,
    terms,
    versions,
    wording,
)
from avn_kb.validate.checks.context import CheckContext, Judge
from avn_kb.validate.units import SearchRun

Check = Callable[[CheckContext], Iterator[Finding]]
SearchingCheck = Callable[[CheckContext, SearchRun], Iterator[Finding]]
JudgeOf = Callable[[CheckContext], Judge]


@dataclass(frozen=True)
class Registered:
    """One entry of the registry: the check, given the run's SearchRun (a plain check ignores it).
    `quiet_when_unloaded`: the check judges what is absent from the documents of that kind (a gap
    is a missing recommendation, a dangling link one that does not exist); when a file or folder
    of that kind could not be read, the absence is the reader's, not the knowledge's, and the
    loading finding already says what to fix."""

    check: SearchingCheck | None
    quiet_when_unloaded: str | None = None
    judge_of: JudgeOf | None = None  # the part judged one recommendation at a time

    def run(self, ctx: CheckContext, search: SearchRun,
            judged: Sequence[Finding] | None = None) -> Iterator[Finding]:
        """The findings of this check; `judged`: its judge's findings over every recommendation,
        already made by the runner (avn_kb/validate/kept_findings.py judge_each)."""
        if self.quiet_when_unloaded in ctx.unloaded_kinds:
            return
        if self.judge_of is not None:
            if judged is None:
                judge = self.judge_of(ctx.shared())
                for rec in ctx.kb.recommendations:
                    yield from judge(rec)
            else:
                yield from judged
        if self.check is not None:
            yield from self.check(ctx, search)


def _plain(check: Check, quiet_when_unloaded: str | None = None) -> Registered:
    return Registered(lambda ctx, _search: check(ctx), quiet_when_unloaded)


def _searching(check: SearchingCheck, quiet_when_unloaded: str | None = None) -> Registered:
    return Registered(check, quiet_when_unloaded)


def _each(judge_of: JudgeOf, rest: Check | None = None) -> Registered:
    return Registered(None if rest is None else (lambda ctx, _search: rest(ctx)), judge_of=judge_of)


CHECKS: dict[str, Registered] = {
    "duplicate-ids": _plain(identity.check_duplicate_ids),
    "citations-resolve": _each(references.judge_citations_resolve, references.check_fact_sources_resolve),
    "unused-references": _plain(references.check_unused_references),
    "reference-identifiers": _plain(references.check_identifiers),
    "conditions": _each(terms.judge_conditions, terms.check_vocabulary_conditions),
    "actions": _each(terms.judge_actions),
    "declared-terms": _each(terms.judge_declared_terms, terms.check_declared_terms),
    "golden-cases": _plain(terms.check_golden_cases),
    "terminology-codes": _plain(terminology.check_terminology),
    "citation-fit": _each(evidence.judge_citation_fit),
    "indirectness": _each(evidence.judge_indirectness),
    "certainty": _each(evidence.judge_certainty),
    "direction": _each(logic.judge_direction),
    "unsatisfiable": _searching(logic.check_unsatisfiable),
    "conflicts": _searching(logic.check_conflicts),
    "redundancy": _searching(redundancy.check_redundancy),
    "loading-exercises": _searching(exercises.check_loading_exercises),
    "gaps": _searching(logic.check_gaps, quiet_when_unloaded="recommendations"),
    "dose-wording": _each(wording.judge_dose_wording, wording.check_ambiguous_dose_words),
    "link-cycles": _plain(graphs.check_link_cycles),
    "derivation-cycles": _plain(graphs.check_derivation_cycles),
    "definition-cycles": _plain(graphs.check_definition_cycles),
    "dangling-links": _plain(graphs.check_dangling_links, quiet_when_unloaded="recommendations"),
    "superseded-still-approved": _plain(graphs.check_superseded_still_approved),
    "approval": _each(lifecycle.judge_approval),
    "review-due": _each(lifecycle.judge_review_due),
    "links-to-retired": _plain(lifecycle.check_links_to_retired),
    "effective-period": _each(lifecycle.judge_effective_period),
    "accepted-codes": _each(lifecycle.judge_accepted_codes),
    "severity-codes": _plain(lifecycle.check_severity_codes),
    "versions": _plain(versions.check_versions),
}

__all__ = ["CHECKS", "Check", "CheckContext", "Judge", "JudgeOf", "Registered", "SearchingCheck"]
