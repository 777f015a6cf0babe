"""Identifiers defined more than once (AVN120).

Passing:  RT-001 in resistive-training.yaml, PR-001 in precautions.yaml.
Failing:  RT-001 defined in both resistive-training.yaml and precautions.yaml; two references
          with id mont-1996; two golden cases CASE-001.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Source
from avn_kb.validate.checks.context import CheckContext


def _duplicates(kind: str, items: Iterable[tuple[str, Source]]) -> Iterator[Finding]:
    first: dict[str, Source] = {}
    for item_id, where in items:
        if item_id in first:
            earlier = first[item_id]
            yield issue("AVN120", where.path, where.pointer + ("id",),
                        f"{kind} id {item_id!r} is already defined in {earlier.path}: give this one a new id",
                        ids=(item_id,))
        else:
            first[item_id] = where


def check_duplicate_ids(ctx: CheckContext) -> Iterator[Finding]:
    kb = ctx.kb
    yield from _duplicates("recommendation", ((r.id, r.where) for r in kb.recommendations))
    yield from _duplicates("reference", ((r.id, r.where) for r in kb.references))
    yield from _duplicates("case", ((c.id, c.where) for c in kb.cases))
