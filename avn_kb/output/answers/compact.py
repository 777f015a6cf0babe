"""`avn-kb query --batch FILE --compact`: JSON Lines that say once what every answer of a batch
shares (schema/query-result-compact.schema.json). The first line is the header: the tool, the
knowledge base, the statuses considered, the notices, whether it loaded whole (with its problems),
its whole bibliography and what each recommendation says whatever the case (title, both wordings,
action, strength, certainty, citations). Every later line is one case's answer without those:
each recommendation as its id, its outcome and what this case adds (reason, missing facts, trace...).
Citation numbers and the reference list follow from the order of the recommendations, as in the
full answer, so `expand(header, line)` is exactly the full answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from avn_kb import __version__
from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import KnowledgeBase, Recommendation
from avn_kb.output.answers.data import (
    action_data,
    derived_facts,
    knowledge_base,
    outcome_details,
    problem,
    reference_details,
    shown,
    summary,
)
from avn_kb.output.notices import notices
from avn_kb.resolve.resolver import Resolution

# What every answer of one batch has in common, in the full answer's order.
SHARED = ("tool", "knowledge_base", "statuses", "notices", "incomplete", "problems")
# What an answer says of a recommendation whatever the case (the header has it, by id).
STATIC = ("version", "status", "topic", "title", "text", "action", "strength", "certainty", "indirect",
          "indirect_reason", "citations")


def _recommendation(rec: Recommendation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rec.id, "version": rec.version, "status": rec.status, "topic": rec.topic, "title": rec.title,
        "statement": rec.statement, "plain_language": rec.plain_language, "action": action_data(rec),
        "strength": {"level": rec.strength, "direction": rec.direction}, "certainty": rec.certainty,
        "indirect": rec.indirect,
        "citations": [{"ref": c.ref, **({"locator": c.locator} if c.locator else {})} for c in rec.citations]}
    if rec.indirect and rec.indirect_reason:
        out["indirect_reason"] = rec.indirect_reason
    return out


def header(kb: KnowledgeBase, statuses: Sequence[str], problems: Sequence[Finding] = ()) -> dict[str, Any]:
    """The first line of a compact batch."""
    out: dict[str, Any] = {
        "tool": {"name": "avn-kb", "version": __version__}, "knowledge_base": knowledge_base(kb),
        "statuses": list(statuses), "notices": list(notices(kb, problems)), "incomplete": bool(problems)}
    if problems:
        out["problems"] = [problem(f) for f in problems]
    out["references"] = [{"id": ref.id, **reference_details(ref)} for ref in kb.references]
    out["recommendations"] = [_recommendation(rec) for rec in kb.recommendations]
    return out


def compact(answer: dict[str, Any]) -> dict[str, Any]:
    """One full answer (avn_kb.output.answers.data.as_data) without what the header says."""
    out = {key: value for key, value in answer.items() if key not in SHARED and key != "references"}
    out["recommendations"] = [{k: v for k, v in item.items() if k not in STATIC} for item in answer["recommendations"]]
    return out


def compact_answer(kb: KnowledgeBase, resolution: Resolution, audience: str = "clinician", explain: bool = False,
                   show_all: bool = False) -> dict[str, Any]:
    """`compact(as_data(...))` built directly, without the parts the header says (the
    recommendations' static fields, their citation numbers, the reference list): what a compact
    batch line holds before its line number and id."""
    day = resolution.as_of.isoformat()
    return {"as_of": day, "audience": audience, "case": dict(resolution.case), "derived": derived_facts(resolution),
            "summary": summary(resolution),
            "recommendations": [{"id": o.rec.id, "outcome": o.outcome, **outcome_details(o, explain, day)}
                                for o in shown(kb, resolution, explain, show_all)]}


def expand(head: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    """The full answer (schema/query-result.schema.json) from the header and one compact line."""
    details = {entry["id"]: {k: v for k, v in entry.items() if k != "id"} for entry in head["references"]}
    recommendations = {entry["id"]: entry for entry in head["recommendations"]}
    numbers: dict[str, int] = {}
    items = []
    for item in line["recommendations"]:
        rec = dict(recommendations[item["id"]])
        rec["text"] = rec.pop("plain_language") if line["audience"] == "patient" else rec.pop("statement")
        rec.pop("plain_language", None)
        rec.pop("statement", None)
        rec["citations"] = [{"n": numbers.setdefault(c["ref"], len(numbers) + 1), **c} for c in rec["citations"]]
        items.append({**rec, **item})
    references = [{"n": n, "id": ref, **details.get(ref, {})} for ref, n in numbers.items()]
    return {**{key: head[key] for key in SHARED if key in head}, **line, "recommendations": items,
            "references": references}
