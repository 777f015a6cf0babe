"""The registry of checks: an explicit table, no import-time discovery. Each check is a pure
generator `check(ctx) -> Iterator[Finding]`; a check that searches the case space is
`check(ctx, run)` and is given the run's SearchRun explicitly by the runner: its search budget,
which the searching checks draw from in the order of this table, and the results kept from the
run before (avn_kb/validate/units.py). The runner locates findings and stamps severities."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
from avn_kb.validate.checks.context import CheckContext
from avn_kb.validate.units import SearchRun

Check = Callable[[CheckContext], Iterator[Finding]]
SearchingCheck = Callable[[CheckContext, SearchRun], Iterator[Finding]]


@dataclass(frozen=True)
class Registered:
    """One entry of the registry: the check, given the run's SearchRun (a plain check ignores it).
    `quiet_when_unloaded`: the check judges what is absent from the documents of that kind (a gap
    is a missing recommendation, a dangling link one that does not exist); when a file or folder
    of that kind could not be read, the absence is the reader's, not the knowledge's, and the
    loading finding already says what to fix."""

    check: SearchingCheck
    quiet_when_unloaded: str | None = None

    def run(self, ctx: CheckContext, search: SearchRun) -> Iterator[Finding]:
        if self.quiet_when_unloaded in ctx.unloaded_kinds:
            return iter(())
        return self.check(ctx, search)


def _plain(check: Check, quiet_when_unloaded: str | None = None) -> Registered:
    return Registered(lambda ctx, _search: check(ctx), quiet_when_unloaded)


def _searching(check: SearchingCheck, quiet_when_unloaded: str | None = None) -> Registered:
    return Registered(check, quiet_when_unloaded)


CHECKS: dict[str, Registered] = {
    "duplicate-ids": _plain(identity.check_duplicate_ids),
    "citations-resolve": _plain(references.check_citations_resolve),
    "unused-references": _plain(references.check_unused_references),
    "reference-identifiers": _plain(references.check_identifiers),
    "conditions": _plain(terms.check_conditions),
    "actions": _plain(terms.check_actions),
    "declared-terms": _plain(terms.check_declared_terms),
    "golden-cases": _plain(terms.check_golden_cases),
    "terminology-codes": _plain(terminology.check_terminology),
    "citation-fit": _plain(evidence.check_citation_fit),
    "indirectness": _plain(evidence.check_indirectness),
    "certainty": _plain(evidence.check_certainty),
    "direction": _plain(logic.check_direction),
    "unsatisfiable": _searching(logic.check_unsatisfiable),
    "conflicts": _searching(logic.check_conflicts),
    "redundancy": _searching(redundancy.check_redundancy),
    "loading-exercises": _searching(exercises.check_loading_exercises),
    "gaps": _searching(logic.check_gaps, quiet_when_unloaded="recommendations"),
    "dose-wording": _plain(wording.check_dose_wording),
    "link-cycles": _plain(graphs.check_link_cycles),
    "derivation-cycles": _plain(graphs.check_derivation_cycles),
    "definition-cycles": _plain(graphs.check_definition_cycles),
    "dangling-links": _plain(graphs.check_dangling_links, quiet_when_unloaded="recommendations"),
    "superseded-still-approved": _plain(graphs.check_superseded_still_approved),
    "approval": _plain(lifecycle.check_approval),
    "review-due": _plain(lifecycle.check_review_due),
    "links-to-retired": _plain(lifecycle.check_links_to_retired),
    "effective-period": _plain(lifecycle.check_effective_period),
    "accepted-codes": _plain(lifecycle.check_accepted_codes),
    "severity-codes": _plain(lifecycle.check_severity_codes),
    "versions": _plain(versions.check_versions),
}

__all__ = ["CHECKS", "Check", "CheckContext", "Registered", "SearchingCheck"]
