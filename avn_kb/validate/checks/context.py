"""What every check receives: the model plus what the loader knows about entries it could not build."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import KnowledgeBase, Recommendation

# What a per-recommendation check gives for one recommendation (avn_kb/validate/checks/__init__.py).
Judge = Callable[[Recommendation], Iterator[Finding]]


def judges_nothing(_rec: Recommendation) -> Iterator[Finding]:
    """The judge of a check that has nothing to judge by (no vocabulary, say)."""
    return iter(())


@dataclass(frozen=True)
class CheckContext:
    kb: KnowledgeBase
    as_of: dt.date
    unbuilt_ids: frozenset[str] = frozenset()
    unbuilt_citations: frozenset[str] = frozenset()
    declared_names: frozenset[str] = field(default_factory=frozenset)
    unloaded_kinds: frozenset[str] = frozenset()
    # With `validate --base REF`: the knowledge base at that git revision, for the version rules.
    base: KnowledgeBase | None = None
    base_ref: str | None = None

    def shared(self) -> CheckContext:
        """What a judge of one recommendation is given besides it (avn_kb/validate/kept_findings.py):
        this context without the recommendations, the golden cases and the --base knowledge base,
        so that its findings can depend on nothing the kept table's key leaves out."""
        return replace(self, kb=replace(self.kb, recommendations=(), cases=(), files=()), base=None, base_ref=None)
