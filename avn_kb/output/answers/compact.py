"""`avn-kb query --batch FILE --compact`: JSON Lines that say once what every answer of a batch
shares (schema/query-result-compact.schema.json). The first line is the header: the tool, the
knowledge base, the statuses considered, the notices, whether it loaded whole (with its problems)
and its whole bibliography. Every later line is one case's answer without those and without its
reference list, which the citations of its recommendations (number and reference id) and the
header's bibliography give back: `expand(header, line)` is exactly the full answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from avn_kb import __version__
from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.answers.data import knowledge_base, problem, reference_details
from avn_kb.output.notices import notices

# What every answer of one batch has in common, in the full answer's order.
SHARED = ("tool", "knowledge_base", "statuses", "notices", "incomplete", "problems")


def header(kb: KnowledgeBase, statuses: Sequence[str], problems: Sequence[Finding] = ()) -> dict[str, Any]:
    """The first line of a compact batch."""
    out: dict[str, Any] = {
        "tool": {"name": "avn-kb", "version": __version__}, "knowledge_base": knowledge_base(kb),
        "statuses": list(statuses), "notices": list(notices(kb, problems)), "incomplete": bool(problems)}
    if problems:
        out["problems"] = [problem(f) for f in problems]
    out["references"] = [{"id": ref.id, **reference_details(ref)} for ref in kb.references]
    return out


def compact(answer: dict[str, Any]) -> dict[str, Any]:
    """One full answer (avn_kb.output.answers.data.as_data) without what the header says."""
    return {key: value for key, value in answer.items() if key not in SHARED and key != "references"}


def expand(head: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    """The full answer (schema/query-result.schema.json) from the header and one compact line."""
    details = {entry["id"]: {k: v for k, v in entry.items() if k != "id"} for entry in head["references"]}
    numbers: dict[str, int] = {}
    for item in line["recommendations"]:
        for citation in item["citations"]:
            numbers.setdefault(citation["ref"], citation["n"])
    references = [{"n": n, "id": ref, **details.get(ref, {})} for ref, n in sorted(numbers.items(), key=lambda p: p[1])]
    return {**{key: head[key] for key in SHARED if key in head}, **line, "references": references}
