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
from avn_kb.output.citations import formatted, links
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
    references = []
    for ref_id in cited:
        ref = by_id.get(ref_id)
        entry: dict[str, Any] = {"id": ref_id}
        if ref is not None:
            entry["citation"] = formatted(ref)
            entry["population"] = ref.population
            entry["links"] = [{"label": label, "url": url} for label, url in links(ref)]
        references.append(entry)
    # The file relative to the knowledge directory: the same wherever the directory lies.
    source = os.path.relpath(rec.where.path, kb.root) if rec.where.path else ""
    return {"recommendation": dict(rec.raw), "source": source, "references": references}


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
