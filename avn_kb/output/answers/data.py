"""A resolution as plain data: the JSON output (schema/query-result.schema.json) and the single
source the text and markdown outputs are rendered from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from avn_kb import __version__
from avn_kb.lang.derive import NO_VALUE
from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import KnowledgeBase, Recommendation, Reference
from avn_kb.output.citations import Numbering, formatted, links
from avn_kb.output.notices import notices
from avn_kb.resolve.outcomes import EXCLUSIONS, OUTCOMES, Outcome
from avn_kb.resolve.resolver import Resolution

SHOWN_BY_DEFAULT = ("applies", "overridden", "undecided")


def action_data(rec: Recommendation) -> dict[str, Any]:
    """The action of a recommendation as an answer gives it."""
    action = rec.action
    data: dict[str, Any] = {"kind": action.kind, "target": action.target}
    if action.dose:
        data["dose"] = {name: list(rng) for name, rng in sorted(action.dose.items())}
    if action.level:
        data["level"] = action.level
    if action.exercises:
        data["exercises"] = list(action.exercises)
    return data


def _outcome(outcome: Outcome, numbering: Numbering, audience: str, explain: bool, day: str) -> dict[str, Any]:
    rec = outcome.rec
    item: dict[str, Any] = {
        "id": rec.id, "version": rec.version, "status": rec.status, "topic": rec.topic, "title": rec.title,
        "outcome": outcome.outcome,
        "text": rec.plain_language if audience == "patient" else rec.statement,
        "action": action_data(rec),
        "strength": {"level": rec.strength, "direction": rec.direction},
        "certainty": rec.certainty,
        "indirect": rec.indirect,
        "citations": [{"n": n, "ref": ref, **({"locator": loc} if loc else {})} for n, ref, loc in numbering.cite(rec)],
    }
    if rec.indirect and rec.indirect_reason:
        item["indirect_reason"] = rec.indirect_reason
    item.update(outcome_details(outcome, explain, day))
    return item


def outcome_details(outcome: Outcome, explain: bool, day: str) -> dict[str, Any]:
    """What this case says of a recommendation beyond its id and outcome (the reason, the missing
    facts, the overrides...): the part of an answered recommendation that a compact line keeps,
    in the full answer's order."""
    rec = outcome.rec
    item: dict[str, Any] = {}
    if outcome.reason:
        item["reason"] = outcome.reason
    if outcome.missing:
        item["missing"] = list(outcome.missing)
    if outcome.overridden_by:
        item["overridden_by"] = list(outcome.overridden_by)
    if outcome.pending_overrides:
        item["pending_overrides"] = [{"id": p.id, "title": p.title, "missing": list(p.missing)}
                                     for p in outcome.pending_overrides]
    if outcome.would_be_overridden_by:
        item["would_be_overridden_by"] = list(outcome.would_be_overridden_by)
    if outcome.conflicts_with:
        item["conflicts_with"] = list(outcome.conflicts_with)
    if outcome.doses_differ_with:
        item["doses_differ_with"] = [{"id": other, "parameters": list(names)}
                                     for other, names in outcome.doses_differ_with]
    if outcome.loading_exercises:
        item["loading_exercises"] = [{"exercise": e, "loads": held} for e, held in outcome.loading_exercises]
    overdue = rec.review_overdue_since(day)
    if overdue:
        item["review_overdue_since"] = overdue
    if outcome.exclusion:
        item["exclusion"] = {"kind": outcome.exclusion.kind, "detail": outcome.exclusion.detail}
    if outcome.load_kg:
        item["load_kg"] = {name: list(rng) for name, rng in outcome.load_kg.items()}
    if explain:
        item["trace"] = [{"test": t.test, "fact": t.fact, "value": None if t.value is NO_VALUE else t.value,
                          "held": t.held} for t in outcome.trace]
    return item


def shown(kb: KnowledgeBase, resolution: Resolution, explain: bool = False, show_all: bool = False) -> list[Outcome]:
    """The outcomes an answer lists, in display order (topic, outcome, id), so that citation
    numbers rise down the page."""
    wanted = OUTCOMES if (show_all or explain) else SHOWN_BY_DEFAULT
    rank = _topic_rank(kb)
    last = len(rank)
    return sorted((o for o in resolution.outcomes if o.outcome in wanted),
                  key=lambda o: (rank.get(o.rec.topic, last), o.rec.topic, OUTCOMES.index(o.outcome), o.rec.id))


def _topic_rank(kb: KnowledgeBase) -> dict[str, int]:
    """Each section's place in the vocabulary's order (its first place, as list.index gives it)."""
    sections = kb.vocabulary.sections() if kb.vocabulary else []
    rank: dict[str, int] = {}
    for place, topic in enumerate(sections):
        rank.setdefault(topic, place)
    return rank


def as_data(kb: KnowledgeBase, resolution: Resolution, audience: str = "clinician", explain: bool = False,
            show_all: bool = False, problems: Sequence[Finding] = (), references: bool = True) -> dict[str, Any]:
    """The answer as plain data. `problems`: the loading errors of an incomplete knowledge base
    (answering from one is the caller's explicit choice); the answer then says so. `references`
    False leaves the reference list out (a compact batch gives it once, in its header)."""
    numbering = Numbering(kb.references)
    day = resolution.as_of.isoformat()
    items = [_outcome(o, numbering, audience, explain, day) for o in shown(kb, resolution, explain, show_all)]
    listed = [{"n": n, "id": ref_id, **(reference_details(ref) if ref is not None else {})}
              for n, ref_id, ref in numbering.listing()] if references else []
    return {
        "tool": {"name": "avn-kb", "version": __version__},
        "knowledge_base": knowledge_base(kb),
        "as_of": day,
        "statuses": list(resolution.statuses),
        "audience": audience,
        "notices": list(notices(kb, problems)),
        "incomplete": bool(problems),
        **({"problems": [problem(f) for f in problems]} if problems else {}),
        "case": dict(resolution.case),
        "derived": derived_facts(resolution),
        "summary": summary(resolution),
        "recommendations": items,
        "references": listed,
    }


def derived_facts(resolution: Resolution) -> dict[str, Any]:
    """The facts the answer derived from the case (those with a value)."""
    return {k: v for k, v in resolution.facts.items() if k not in resolution.case and v is not NO_VALUE}


def summary(resolution: Resolution) -> dict[str, Any]:
    """How many recommendations ended in each outcome, why the excluded ones were left out, and
    which shown ones are overdue for review."""
    day = resolution.as_of.isoformat()
    return {**{outcome: len(resolution.by_outcome(outcome)) for outcome in OUTCOMES},
            "excluded_by_reason": _exclusions(resolution),
            "review_overdue": sorted(o.rec.id for o in resolution.outcomes if o.outcome in SHOWN_BY_DEFAULT
                                     and o.rec.review_overdue_since(day))}


def knowledge_base(kb: KnowledgeBase) -> dict[str, Any]:
    """Which knowledge base answered: the manifest's id, title, version and release date."""
    manifest = kb.manifest
    return {"id": manifest.id, "title": manifest.title, "version": manifest.version,
            "released": manifest.released} if manifest else {"id": kb.root}


def reference_details(ref: Reference) -> dict[str, Any]:
    """What an answer's reference list says of one reference besides its number and id."""
    return {"citation": formatted(ref), "population": ref.population,
            "links": [{"label": label, "url": url} for label, url in links(ref)]}


def problem(finding: Finding) -> dict[str, Any]:
    """A loading error of an incomplete knowledge base, as the answer lists it."""
    return {"path": finding.path, "line": finding.line, "column": finding.column, "code": finding.code,
            "message": finding.message}


def _exclusions(resolution: Resolution) -> list[dict[str, Any]]:
    """Excluded recommendations grouped by why (in EXCLUSIONS order), each group with its ids and
    the dates, statuses or superseding ids: an empty answer explains itself."""
    groups: dict[str, dict[str, list[str]]] = {}
    for outcome in resolution.by_outcome("excluded"):
        if outcome.exclusion is not None:
            details = groups.setdefault(outcome.exclusion.kind, {})
            details.setdefault(outcome.exclusion.detail, []).append(outcome.rec.id)
    return [{"reason": kind, "count": sum(len(ids) for ids in groups[kind].values()),
             "details": [{"detail": detail, "ids": ids} for detail, ids in sorted(groups[kind].items())]}
            for kind in EXCLUSIONS if kind in groups]
