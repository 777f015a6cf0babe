"""What every check receives: the model plus what the loader knows about entries it could not build."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from avn_kb.model.knowledge import KnowledgeBase


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
