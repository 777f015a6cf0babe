"""The registry of checks: an explicit list, no import-time discovery. Each check is a pure
generator `check(ctx) -> Iterator[Finding]`."""

from __future__ import annotations

from typing import Callable, Iterator

from avn_kb.checks import identity, references, terms
from avn_kb.checks.context import CheckContext
from avn_kb.findings import Finding

Check = Callable[[CheckContext], Iterator[Finding]]

CHECKS: dict[str, Check] = {
    "duplicate-ids": identity.check_duplicate_ids,
    "citations-resolve": references.check_citations_resolve,
    "unused-references": references.check_unused_references,
    "reference-identifiers": references.check_identifiers,
    "conditions": terms.check_conditions,
    "actions": terms.check_actions,
    "declared-terms": terms.check_declared_terms,
    "golden-cases": terms.check_golden_cases,
}

__all__ = ["CHECKS", "Check", "CheckContext"]
