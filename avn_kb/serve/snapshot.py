"""One whole, loaded knowledge base as the service answers from it: the Readiness of `avn-kb
query` (the same loading and the same refusal of knowledge that did not load), the resolver's
index built once, and a digest of exactly the bytes that were read, so that a client behind a
load balancer can tell which knowledge answered. A snapshot never changes; a reload makes a new
one and swaps it in whole (avn_kb/serve/reload.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from avn_kb import __version__
from avn_kb.load.knowledge import DirectorySource
from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.resolve.resolver import Index
from avn_kb.validate.readiness import Readiness, load_for_answers


class DigestingSource(DirectorySource):
    """The knowledge directory's files, each one hashed (its relative path and its bytes) as the
    loader reads it: the digest is of what was loaded, not of the files a moment later."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.hash = hashlib.sha256()

    def read(self, relative: str, shown: str) -> tuple[bytes | None, Finding | None]:
        data, problem = super().read(relative, shown)
        if data is not None:
            self.hash.update(relative.encode("utf-8") + b"\0" + len(data).to_bytes(8, "big") + data)
        return data, problem


@dataclass(frozen=True)
class Snapshot:
    """A knowledge base the service may answer from, with its index and identity."""

    ready: Readiness
    index: Index | None  # None when the vocabulary did not load (never usable then)
    digest: str          # "sha256:<hex>" of the files read
    loaded_at: str       # when it was loaded, ISO 8601 UTC
    # The resolver's index keeps small caches (eligibility by day) that are not made for threads:
    # one case at a time resolves on a snapshot. Under the GIL that costs no throughput.
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def kb(self) -> KnowledgeBase:
        return self.ready.kb

    @property
    def usable(self) -> bool:
        """Loaded whole: a manifest, a vocabulary and no loading error (what `query` requires)."""
        return (not self.ready.problems and self.kb.manifest is not None and self.kb.vocabulary is not None
                and self.index is not None)

    @property
    def version(self) -> str:
        return self.kb.manifest.version if self.kb.manifest else "unknown"

    def headers(self) -> dict[str, str]:
        """The headers every response carries: which knowledge answered and which tool."""
        manifest = self.kb.manifest
        return {"AVN-KB-Knowledge-Id": manifest.id if manifest else self.kb.root,
                "AVN-KB-Knowledge-Version": self.version,
                "AVN-KB-Knowledge-Digest": self.digest,
                "AVN-KB-Tool-Version": __version__}


def load_snapshot(root: Path, shown_root: str) -> Snapshot:
    """Load `root` as `avn-kb query` does and build its index; the caller judges `usable`."""
    source = DigestingSource(root)
    ready = load_for_answers(source, shown_root)
    index = Index(ready.kb) if ready.kb.vocabulary is not None else None
    loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return Snapshot(ready, index, "sha256:" + source.hash.hexdigest(), loaded_at)


def problems_text(snapshot: Snapshot) -> list[str]:
    """Why a snapshot is not usable, one line each (the findings as validate words them)."""
    lines = [finding.describe() for finding in snapshot.ready.problems]
    if snapshot.kb.manifest is None or snapshot.kb.vocabulary is None:
        lines.append(f"{snapshot.kb.root}: its manifest or vocabulary did not load")
    return lines
