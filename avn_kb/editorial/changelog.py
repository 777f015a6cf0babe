"""The semantic changelog between two versions of a knowledge base: which recommendations were
added, removed, retired, changed or only re-worded, each changed field shown before and after in
words (conditions and actions through their readable forms), and which references came and went.

`changelog(old, new)` is pure; avn_kb/output/changelog.py renders it (JSON, Markdown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from avn_kb.editorial.versions import change_level
from avn_kb.lang import actions
from avn_kb.model import conditions
from avn_kb.model.knowledge import KnowledgeBase, Recommendation

# The order entries are listed in, and the heading of each kind in Markdown.
KINDS = {
    "added": "Added",
    "retired": "Retired",
    "changed": "Changed",
    "reworded": "Re-worded",
    "status": "Status changes",
    "metadata": "Review and effective dates",
    "removed": "Removed (not retired)",
}


@dataclass(frozen=True)
class FieldChange:
    """One field of a recommendation in words, before and after (None: absent on that side)."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Entry:
    """What happened to one recommendation."""

    id: str
    kind: str  # a key of KINDS
    title: str
    level: str  # the smallest version bump the change needs: none, patch, minor, major
    version: tuple[str | None, str | None]
    status: tuple[str | None, str | None]
    fields: tuple[FieldChange, ...]
    cited_added: tuple[str, ...] = ()
    cited_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Changelog:
    version: tuple[str | None, str | None]  # of the knowledge base (kb.yaml)
    released: tuple[str | None, str | None]
    entries: tuple[Entry, ...]
    references_added: tuple[tuple[str, str], ...]  # (id, title)
    references_removed: tuple[tuple[str, str], ...]
    references_changed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return (not self.entries and not self.references_added and not self.references_removed
                and not self.references_changed and self.version[0] == self.version[1])


def _joined(values: Iterable[Any]) -> str | None:
    shown = ", ".join(str(v) for v in values)
    return shown or None


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


# Each field a reader cares about, in the order they are listed, as a function of the
# recommendation giving its readable form (None when the field is not set).
FIELDS: tuple[tuple[str, Callable[[Recommendation], str | None]], ...] = (
    ("title", lambda r: r.title),
    ("statement", lambda r: r.statement),
    ("plain_language", lambda r: r.plain_language),
    ("topic", lambda r: r.topic),
    ("population", lambda r: r.population),
    ("when", lambda r: conditions.describe(r.when)),
    ("action", lambda r: actions.describe(r.action)),
    ("strength", lambda r: f"{r.strength} {r.direction}"),
    ("certainty", lambda r: r.certainty),
    ("evidence.indirect", lambda r: _yes_no(r.indirect)),
    ("evidence.reason", lambda r: r.indirect_reason),
    ("evidence.expert_opinion", lambda r: _yes_no(r.expert_opinion)),
    ("evidence.summary", lambda r: r.evidence_summary),
    ("rationale", lambda r: r.rationale),
    ("retired_reason", lambda r: r.retired_reason),
    ("overrides", lambda r: _joined(r.overrides)),
    ("supersedes", lambda r: _joined(r.supersedes)),
    ("effective.from", lambda r: r.effective_from),
    ("effective.until", lambda r: r.effective_until),
    ("review.approved_on", lambda r: r.review.get("approved_on")),
    ("review.last_reviewed", lambda r: r.review.get("last_reviewed")),
    ("review.next_review_due", lambda r: r.review.get("next_review_due")),
    ("review.reviewers", lambda r: _joined(r.review.get("reviewers", ()))),
    ("accepted", lambda r: _joined(sorted(r.accepted))),
)


def _citations(rec: Recommendation) -> dict[str, str | None]:
    """Reference id -> its locator and note in words, for each citation."""
    return {c.ref: "; ".join(p for p in (c.locator, c.note) if p) or None for c in rec.citations}


def field_changes(old: Recommendation, new: Recommendation) -> tuple[FieldChange, ...]:
    """Every field whose readable form differs, plus the notes of references cited on both sides."""
    found = [FieldChange(name, show(old), show(new)) for name, show in FIELDS if show(old) != show(new)]
    before, after = _citations(old), _citations(new)
    found += [FieldChange(f"citation {ref}", before[ref], after[ref])
              for ref in after if ref in before and before[ref] != after[ref]]
    return tuple(found)


def _kind(old: Recommendation, new: Recommendation, level: str, fields: tuple[FieldChange, ...]) -> str | None:
    if new.status == "retired" and old.status != "retired":
        return "retired"
    if level in ("minor", "major"):
        return "changed"
    if level == "patch":
        return "reworded"
    if old.status != new.status:
        return "status"
    # Review dates, effective dates and accepted findings need no version bump but are news.
    return "metadata" if fields or old.version != new.version else None


def _compare(old: Recommendation, new: Recommendation) -> Entry | None:
    level, _ = change_level(old, new)
    fields = field_changes(old, new)
    kind = _kind(old, new, level, fields)
    if kind is None:
        return None
    was, now = [c.ref for c in old.citations], [c.ref for c in new.citations]
    if was != now and set(was) == set(now):  # only the order changed: nothing else would show it
        fields += (FieldChange("citations", ", ".join(was), ", ".join(now)),)
    return Entry(new.id, kind, new.title, level, (old.version, new.version), (old.status, new.status), fields,
                 tuple(r for r in now if r not in was), tuple(r for r in was if r not in now))


def _added(rec: Recommendation) -> Entry:
    shown = ("when", "action", "strength", "certainty")
    fields = tuple(FieldChange(name, None, show(rec)) for name, show in FIELDS if name in shown)
    return Entry(rec.id, "added", rec.title, "none", (None, rec.version), (None, rec.status), fields,
                 tuple(c.ref for c in rec.citations))


def _removed(rec: Recommendation) -> Entry:
    return Entry(rec.id, "removed", rec.title, "none", (rec.version, None), (rec.status, None), ())


def changelog(old: KnowledgeBase, new: KnowledgeBase, unreadable: frozenset[str] = frozenset()) -> Changelog:
    """What changed from `old` to `new`, entries grouped by kind (in KINDS order), ids sorted.
    `unreadable` holds ids present on either side but not built (their entry failed its schema):
    they are left out rather than reported as added or removed."""
    before = {rec.id: rec for rec in old.recommendations}
    after = {rec.id: rec for rec in new.recommendations}
    entries: list[Entry] = [_added(after[i]) for i in after if i not in before and i not in unreadable]
    entries += [_removed(before[i]) for i in before if i not in after and i not in unreadable]
    for rec_id in after.keys() & before.keys():
        entry = _compare(before[rec_id], after[rec_id])
        if entry is not None:
            entries.append(entry)
    order = list(KINDS)
    entries.sort(key=lambda e: (order.index(e.kind), e.id))
    refs_before = {ref.id: ref for ref in old.references}
    refs_after = {ref.id: ref for ref in new.references}
    return Changelog(
        version=(old.manifest.version if old.manifest else None, new.manifest.version if new.manifest else None),
        released=(old.manifest.released if old.manifest else None, new.manifest.released if new.manifest else None),
        entries=tuple(entries),
        references_added=tuple((i, refs_after[i].title) for i in sorted(refs_after.keys() - refs_before.keys())),
        references_removed=tuple((i, refs_before[i].title) for i in sorted(refs_before.keys() - refs_after.keys())),
        references_changed=tuple(sorted(i for i in refs_after.keys() & refs_before.keys()
                                         if refs_after[i].csl != refs_before[i].csl)),
    )
