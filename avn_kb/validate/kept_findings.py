"""Incremental validation, level 3 for the plain checks: what each per-recommendation check found
in each recommendation, kept between runs.

Most plain checks judge one recommendation at a time against what every recommendation shares:
the vocabulary, the bibliography, the manifest, the day reviews are judged on, and what the loader
could not build. Such a check is registered as a judge of one recommendation
(avn_kb/validate/checks/__init__.py `_each`), and its findings for a recommendation are a pure
function of that recommendation (all of it, as built, where it is written included) and of those
shared parts. So the table is kept under a digest of the shared parts (the check context without the
recommendations, golden cases and --base knowledge base, which is all a judge is given: another
vocabulary or bibliography and nothing in the table is found) and the names of the judges, and
holds, per digest of a whole recommendation (`content_digest`), each judge's findings for it,
before they are located (the runner locates them in the file as it is now). After an edit of one
recommendation only that recommendation is judged again.

Findings are kept in the order each judge gave them and read back per judge and recommendation
in the order of the knowledge base, so the raw findings, and so the report, are the cold run's. The table lives
in its own entry of the cache's store (avn_kb/validate/cache.py), named by the tool and the
knowledge directory, and holds only the recommendations of the last run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import Recommendation
from avn_kb.util.canonical import digest
from avn_kb.util.memo import remembered
from avn_kb.validate.units import recommendation_digest

Judge = Callable[[Recommendation], Iterator[Finding]]
# Per recommendation, each judge's findings in the order of the table's names; () when none found any.
Judged = tuple[tuple[Finding, ...], ...]
# The shared parts' digest, the judges' names, the entries, and the recommendations the verdict said no to.
Table = tuple[bytes, tuple[str, ...], dict[bytes, Judged], frozenset[bytes]]
_CONTENT = "_avn_kb_content_digest"


def content_digest(rec: Recommendation) -> bytes:
    """A digest of the whole of `rec` (kept on it; stored with its loaded file). It extends the
    digest of what the searching checks read of it (avn_kb/validate/units.py: its id, place,
    condition, action, status, dates and links) with the rest, so the condition's tree is not
    walked twice."""
    return remembered(rec, _CONTENT, lambda: hashlib.sha256(recommendation_digest(rec) + digest((
        rec.version, rec.title, rec.statement, rec.plain_language, rec.topic, rec.population, rec.strength,
        rec.direction, rec.certainty, rec.indirect, rec.indirect_reason, rec.expert_opinion, rec.citations,
        rec.evidence_summary, rec.review, rec.acceptances, rec.rationale, rec.retired_reason,
        rec.when_json))).digest())


class KeptFindingsStore(Protocol):
    """Where the table is kept between runs (avn_kb/validate/cache.py)."""

    def read(self) -> Table | None:
        """The table the run before kept, or None when there is none."""

    def write(self, kept: Table) -> None:
        """Keep this run's table, for the next."""


class Verdict(Protocol):
    """A yes or no about one recommendation that several checks ask, a function of the
    recommendation and the shared context alone (whether its condition is well formed): kept in
    the table beside the findings, and told to the recommendation when it comes from there."""

    def judge(self, rec: Recommendation) -> bool: ...

    def known(self, rec: Recommendation, verdict: bool) -> None: ...


def judge_each(recs: Iterable[Recommendation], judges: dict[str, Judge], store: KeptFindingsStore | None = None,
               context: bytes = b"", verdict: Verdict | None = None) -> dict[str, list[Finding]]:
    """Each judge's findings over `recs`, in their order: per recommendation, kept from the run
    before (when `store` holds a table for the same `context` and judges) or judged now; the
    table of this run, with the recommendations `verdict` says no to, is written back to `store`
    when it differs."""
    found: dict[str, list[Finding]] = {name: [] for name in judges}
    if store is None:
        for rec in recs:
            for name, judge in judges.items():
                found[name].extend(judge(rec))
        return found
    names = tuple(judges)
    table = store.read()
    kept = table is not None and table[:2] == (context, names)
    previous, refused = (table[2], table[3]) if kept and table is not None else ({}, frozenset())
    lists, used, judged = list(found.values()), {}, 0
    said_no: set[bytes] = set()
    for rec in recs:
        key = content_digest(rec)
        entry = previous.get(key)
        if entry is None:
            entry = tuple(tuple(judge(rec)) for judge in judges.values())
            judged += 1
            if not any(entry):
                entry = ()  # most recommendations: one small shared value to store and to read
            if verdict is not None and not verdict.judge(rec):
                said_no.add(key)
        elif verdict is not None:
            verdict.known(rec, key not in refused)
            if key in refused:
                said_no.add(key)
        used[key] = entry
        for into, findings in zip(lists, entry):
            into.extend(findings)
    if judged or used.keys() != previous.keys():
        store.write((context, names, used, frozenset(said_no)))
    return found
