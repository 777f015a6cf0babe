"""CDS Hooks output: cards from a resolved answer (`build.cards`), the discovery entry of the
`patient-view` service and the reading of its prefetch (`discovery`). The HTTP service calls these;
schema/cds-hooks-*.schema.json are the contracts the tests hold them to."""

from __future__ import annotations

from avn_kb.output.cards.build import cards
from avn_kb.output.cards.discovery import discovery, missing_prefetch, prefetch_templates, prefetched

__all__ = ["cards", "discovery", "missing_prefetch", "prefetch_templates", "prefetched"]
