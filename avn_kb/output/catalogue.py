"""The knowledge base as plain data for tools (the decision service's `GET /v1/knowledge`,
`/v1/recommendations/{id}` and `/v1/vocabulary`): what the knowledge base is, one recommendation
as its editors wrote it with its references, and the facts a case may give. JSON-ready values only;
the answers for a case are avn_kb.output.answers.data."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from avn_kb import __version__
from avn_kb.model.knowledge import Fact, KnowledgeBase, Recommendation
from avn_kb.output.answers.data import reference_details
from avn_kb.output.notices import notices


def knowledge_data(kb: KnowledgeBase) -> dict[str, Any]:
    """The manifest's identity, the notice, and how many entries of each kind (recommendations by
    status), so that a client can tell which knowledge it is talking to."""
    manifest = kb.manifest
    return {
        "tool": {"name": "avn-kb", "version": __version__},
        "knowledge_base": {"id": manifest.id, "title": manifest.title, "version": manifest.version,
                           "released": manifest.released} if manifest else {"id": kb.root},
        "notices": list(notices(kb, ())),
        "recommendations": {"total": len(kb.recommendations),
                            "by_status": dict(sorted(Counter(r.status for r in kb.recommendations).items())),
                            "ids": [r.id for r in kb.recommendations]},
        "references": len(kb.references),
        "golden_cases": len(kb.cases),
    }


def recommendation_data(kb: KnowledgeBase, rec: Recommendation) -> dict[str, Any]:
    """One recommendation as written in its file (every field, as loaded; `source`: the file, within
    the knowledge directory), with the references it cites formatted and linked, in citing order."""
    cited = list(dict.fromkeys(citation.ref for citation in rec.citations))
    by_id = {ref.id: ref for ref in kb.references}
    references = [{"id": ref_id, **(reference_details(by_id[ref_id]) if ref_id in by_id else {})} for ref_id in cited]
    # The file relative to the knowledge directory: the same wherever the directory lies.
    source = os.path.relpath(rec.where.path, kb.root) if rec.where.path else ""
    return {"recommendation": written_form(rec), "source": source, "references": references}


def written_form(rec: Recommendation) -> dict[str, Any]:
    """The recommendation in the shape of its file (schema/recommendations.schema.json), from the
    model: every field the editors set, the condition as written, a dose as its [low, high] range."""
    action = rec.action
    out: dict[str, Any] = {
        "id": rec.id, "version": rec.version, "status": rec.status, "title": rec.title, "statement": rec.statement,
        "plain_language": rec.plain_language, "population": rec.population, "when": dict(rec.when_written),
        "action": {"kind": action.kind, "target": action.target,
                   **({"dose": {k: list(v) for k, v in action.dose.items()}} if action.dose else {}),
                   **({"level": action.level} if action.level else {}),
                   **({"exercises": list(action.exercises)} if action.exercises else {})},
        "strength": {"level": rec.strength, "direction": rec.direction}, "certainty": rec.certainty,
        "evidence": {"indirect": rec.indirect, **_present(reason=rec.indirect_reason, summary=rec.evidence_summary),
                     **({"expert_opinion": True} if rec.expert_opinion else {})},
        "citations": [{"ref": c.ref, **_present(locator=c.locator, note=c.note)} for c in rec.citations],
    }
    out.update(_present(rationale=rec.rationale, retired_reason=rec.retired_reason))
    if rec.overrides:
        out["overrides"] = list(rec.overrides)
    if rec.supersedes:
        out["supersedes"] = list(rec.supersedes)
    effective = _present(**{"from": rec.effective_from, "until": rec.effective_until})
    if effective:
        out["effective"] = effective
    if rec.review:
        out["review"] = dict(rec.review)
    if rec.acceptances:
        out["accepted"] = [{"code": a.code, "reason": a.reason} for a in rec.acceptances]
    return out


def _present(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def _fact(fact: Fact) -> dict[str, Any]:
    data: dict[str, Any] = {"type": fact.type, "label": fact.label}
    if fact.values:
        data["values"] = list(fact.values)
    if fact.unit is not None:
        data["unit"] = fact.unit
    if fact.low is not None or fact.high is not None:
        data["range"] = [fact.low, fact.high]
    if fact.type == "number":
        data["integer"] = fact.integer
    return data


def vocabulary_data(kb: KnowledgeBase) -> dict[str, Any]:
    """The facts a case may give (type, label, allowed values or range and unit), the facts derived
    from them (never given, always worked out), the topics and the interventions."""
    vocabulary = kb.vocabulary
    if vocabulary is None:
        return {"facts": {}, "derived": {}, "topics": {}, "interventions": {}}
    return {
        "facts": {name: _fact(fact) for name, fact in vocabulary.facts.items()},
        "derived": {name: {"label": d.label, "values": list(d.values)} for name, d in vocabulary.derived.items()},
        "topics": {name: {"label": vocabulary.topic_label(name), "section": bool(topic.get("section"))}
                   for name, topic in vocabulary.topics.items()},
        "interventions": {name: {"label": i.label, "dose": {p: {"unit": d.unit, "range": [d.low, d.high]}
                                                             for p, d in i.dose.items()},
                                 "levels": list(i.levels), "exercises": list(i.exercises)}
                          for name, i in vocabulary.interventions.items()},
    }
