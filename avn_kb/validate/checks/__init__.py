"""The registry of checks: an explicit table, no import-time discovery. Each check is a pure
generator `check(ctx) -> Iterator[Finding]`; the engine locates findings and stamps severities."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

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

Check = Callable[[CheckContext], Iterator[Finding]]


def _quiet_when_unloaded(kind: str, check: Check) -> Check:
    """`check` judges what is absent from the documents of `kind` (a gap is a missing
    recommendation, a dangling link one that does not exist): when a file or folder of that kind
    could not be read, the absence is the reader's, not the knowledge's, and the loading finding
    already says what to fix."""
    @functools.wraps(check)
    def guarded(ctx: CheckContext) -> Iterator[Finding]:
        if kind not in ctx.unloaded_kinds:
            yield from check(ctx)
    return guarded


CHECKS: dict[str, Check] = {
    "duplicate-ids": identity.check_duplicate_ids,
    "citations-resolve": references.check_citations_resolve,
    "unused-references": references.check_unused_references,
    "reference-identifiers": references.check_identifiers,
    "conditions": terms.check_conditions,
    "actions": terms.check_actions,
    "declared-terms": terms.check_declared_terms,
    "golden-cases": terms.check_golden_cases,
    "terminology-codes": terminology.check_terminology,
    "citation-fit": evidence.check_citation_fit,
    "indirectness": evidence.check_indirectness,
    "certainty": evidence.check_certainty,
    "direction": logic.check_direction,
    "unsatisfiable": logic.check_unsatisfiable,
    "conflicts": logic.check_conflicts,
    "redundancy": redundancy.check_redundancy,
    "loading-exercises": exercises.check_loading_exercises,
    "gaps": _quiet_when_unloaded("recommendations", logic.check_gaps),
    "dose-wording": wording.check_dose_wording,
    "link-cycles": graphs.check_link_cycles,
    "derivation-cycles": graphs.check_derivation_cycles,
    "definition-cycles": graphs.check_definition_cycles,
    "dangling-links": _quiet_when_unloaded("recommendations", graphs.check_dangling_links),
    "superseded-still-approved": graphs.check_superseded_still_approved,
    "approval": lifecycle.check_approval,
    "review-due": lifecycle.check_review_due,
    "links-to-retired": lifecycle.check_links_to_retired,
    "effective-period": lifecycle.check_effective_period,
    "accepted-codes": lifecycle.check_accepted_codes,
    "severity-codes": lifecycle.check_severity_codes,
    "versions": versions.check_versions,
}

__all__ = ["CHECKS", "Check", "CheckContext"]
