"""Run a validation: load, check, locate, stamp severities, apply acceptances, sort."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

from avn_kb.lang.domains import SearchBudget
from avn_kb.load.knowledge import FileMemo, KnowledgeSource, Loaded, load_knowledge
from avn_kb.model.findings import SEVERITIES, Finding
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.util.canonical import digest
from avn_kb.util.gcpause import collector_paused
from avn_kb.util.lifetime import outlive
from avn_kb.validate.ahead import Worker, worth_forking
from avn_kb.validate.checks import CHECKS, CheckContext
from avn_kb.validate.checks.terms import WellFormed
from avn_kb.validate.kept_findings import KeptFindingsStore, judge_each
from avn_kb.validate.places import KeptPlaces, KeptPlacesStore
from avn_kb.validate.report import Report
from avn_kb.validate.units import KeptUnits, SearchRun


@collector_paused()
def validate(root: Path, shown_root: str, as_of: dt.date | None = None, base: str | None = None,
             source: KnowledgeSource | None = None, memo: FileMemo | None = None,
             base_source: KnowledgeSource | None = None, units: KeptUnits | None = None,
             kept: KeptFindingsStore | None = None, places: KeptPlacesStore | None = None,
             jobs: int | None = None) -> Report:
    """Validate the knowledge directory `root` (shown in findings as `shown_root`); with `base`, also
    check versions against the knowledge base at that git revision (GitError if it cannot be read).
    `source`: the files of `root` already read; `memo`: files loaded before (avn_kb/validate/cache.py);
    `base_source`: the revision `base` already opened; `units`, `kept` and `places`: the searching
    and the per-recommendation checks' results and the findings' places kept between runs; `jobs`:
    processes to use (None: as avn_kb/validate/ahead.py judges worth it)."""
    old = None
    if base:
        if base_source is None:
            # Only pull requests ask for --base: keep git and the version rules out of every other start-up.
            from avn_kb.load.git_source import GitSource

            base_source = GitSource(root, base)
        old = load_knowledge(base_source, shown_root).kb
    loaded = load_knowledge(source or root, shown_root, memo)
    findings = run_checks(loaded, tuple(CHECKS), as_of, old, base, units, kept, places, jobs)
    outlive(loaded, old)
    return Report(shown_root, tuple(findings), len(loaded.kb.files), len(loaded.kb.recommendations))


def run_checks(loaded: Loaded, names: tuple[str, ...], as_of: dt.date | None = None,
               base: KnowledgeBase | None = None, base_ref: str | None = None,
               units: KeptUnits | None = None, kept: KeptFindingsStore | None = None,
               places: KeptPlacesStore | None = None, jobs: int | None = None) -> list[Finding]:
    """The loader's findings and those of the named checks, located, with the manifest's
    severities and the recommendations' acceptances applied, sorted, each once. `base`: the
    knowledge base at git revision `base_ref`, for the version checks; `units` and `kept`: where
    the searching and the per-recommendation checks' results are kept between runs
    (avn_kb/validate/units.py, kept_findings.py); `places`: where the findings' places are kept
    (avn_kb/validate/places.py); `jobs`: processes to use (None: as avn_kb/validate/ahead.py judges
    worth it)."""
    ctx = CheckContext(kb=loaded.kb, as_of=as_of or dt.date.today(),
                       unbuilt_ids=frozenset(loaded.unbuilt_ids),
                       unbuilt_citations=frozenset(loaded.unbuilt_citations),
                       declared_names=frozenset(loaded.declared_names),
                       unloaded_kinds=frozenset(loaded.unloaded_kinds), base=base, base_ref=base_ref)
    # One budget for every case search of this run: it bounds the run, not only each question.
    search = SearchRun(SearchBudget.for_size(len(loaded.kb.recommendations)), loaded.kb.vocabulary,
                       units.read() if units is not None else None)
    worker = Worker(ctx, names) if worth_forking(ctx, names, jobs, bool(search.previous)) else None
    try:
        raw = _checked(loaded, ctx, names, search, kept, worker)
    finally:
        if worker is not None:
            worker.close()
    if units is not None:
        units.write(search)
    outlive(search)
    kept_places = KeptPlaces(places)
    findings = [_placed(loaded, f, kept_places) for f in raw]
    kept_places.write()
    findings = _apply_configuration(loaded, findings)
    findings.sort(key=Finding.sort_key)
    return _unique(findings)


def _checked(loaded: Loaded, ctx: CheckContext, names: tuple[str, ...], search: SearchRun,
             kept: KeptFindingsStore | None, worker: Worker | None) -> list[Finding]:
    """The loader's findings and the named checks', in order; `worker`'s units taken as its
    checks come (avn_kb/validate/ahead.py)."""
    # The checks that judge one recommendation at a time, all in one pass over the kept table.
    shared = ctx.shared()
    judges = {name: judge_of(shared) for name in names
              if (judge_of := CHECKS[name].judge_of) is not None and CHECKS[name].quiet_when_unloaded
              not in ctx.unloaded_kinds}
    vocabulary = loaded.kb.vocabulary
    judged = judge_each(loaded.kb.recommendations, judges, kept, digest(shared) if kept is not None else b"",
                        WellFormed(vocabulary) if vocabulary is not None else None)
    raw: list[Finding] = list(loaded.findings)
    to_share = set(worker.names) if worker is not None else set()
    for name in names:
        search.ahead = worker if name in to_share else None
        raw.extend(CHECKS[name].run(ctx, search, judged.get(name)))
        to_share.discard(name)
        if worker is not None and not to_share:
            worker.close()  # every check it shares has run: its core is free for the rest
    search.ahead = None
    return raw


def _placed(loaded: Loaded, finding: Finding, places: KeptPlaces) -> Finding:
    """The finding located (if its check could not say where), with where its key or value ends
    (only the lines around it scanned, in a plain file: avn_kb/load/positions.py); one copy made,
    not one for each (at 100,000 recommendations a warm run places some 8,500 findings)."""
    document = loaded.documents.get(finding.path)
    line, column = finding.line, finding.column
    if not line:
        line, column = places.locate(document, finding.pointer, finding.at_key) if document else (1, 1)
    if finding.end_line or document is None or not document.text:
        return finding if (line, column) == (finding.line, finding.column) else replace(finding, line=line,
                                                                                        column=column)
    end_line, end_column = places.end(document, line, column)
    return replace(finding, line=line, column=column, end_line=end_line, end_column=end_column)


def _apply_configuration(loaded: Loaded, findings: list[Finding]) -> list[Finding]:
    manifest = loaded.kb.manifest
    overrides = dict(manifest.severity) if manifest else {}
    result: list[Finding] = []
    accepted = {rec.id: rec.accepted for rec in loaded.kb.recommendations if rec.accepted}
    for finding in findings:
        level = overrides.get(finding.code)
        if level == "ignore":
            continue
        changes: dict[str, Any] = {"severity": SEVERITIES[level]} if level in SEVERITIES else {}
        # Any recommendation the finding names may accept it (a conflict names both sides).
        reason = next((accepted[i][finding.code] for i in finding.ids
                       if i in accepted and finding.code in accepted[i]), None)
        if reason is not None:
            changes["accepted"] = reason
        result.append(replace(finding, **changes) if changes else finding)
    return result


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, int, int, str]] = set()
    unique = []
    for finding in findings:
        key = (finding.code, finding.path, finding.line, finding.column, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
