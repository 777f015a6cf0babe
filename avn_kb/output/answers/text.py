"""The query answer for a terminal or a note: grouped by topic, strength and certainty visible,
indirect evidence marked, numbered citations resolving to one reference list at the end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from avn_kb.lang.actions import span
from avn_kb.model.display import value_text

MARK = {"applies": "APPLIES", "overridden": "OVERRIDDEN", "undecided": "UNDECIDED",
        "not-applicable": "does not apply", "excluded": "excluded"}
ORDER = {"applies": 0, "overridden": 1, "undecided": 2, "not-applicable": 3, "excluded": 4}


def _value(value: Any) -> str:
    if value is None:
        return "not given"
    return "none" if value == [] else value_text(value)


def _facts(facts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in facts.items()) or "(no facts)"


def details(item: dict[str, Any]) -> list[str]:
    """The lines under a recommendation's heading, without markup."""
    lines = []
    action = item["action"]
    if action.get("dose"):
        lines.append("dose: " + "; ".join(f"{k} {span(*v)}" for k, v in action["dose"].items()))
    if item.get("load_kg"):
        lines.append("load: " + "; ".join(f"{k} -> {span(*v)} kg" for k, v in item["load_kg"].items()))
    if action.get("level"):
        lines.append(f"level: {action['level']}")
    if action.get("exercises"):
        lines.append("exercises: " + ", ".join(action["exercises"]))
    loading = item.get("loading_exercises", [])
    if any(e["loads"] for e in loading):
        lines.append("CAUTION: loads the affected part in this case: "
                     + ", ".join(e["exercise"] for e in loading if e["loads"]) + "; leave out or adapt")
    if any(e["loads"] is None for e in loading):
        lines.append("may load the affected part (not known from the case): "
                     + ", ".join(e["exercise"] for e in loading if e["loads"] is None))
    if item.get("indirect"):
        lines.append("INDIRECT evidence: " + item.get("indirect_reason", "from another population"))
    if item["outcome"] == "undecided":
        lines.append(f"undecided: {item.get('reason', '')}")
    if item.get("overridden_by"):
        lines.append("overridden by " + ", ".join(item["overridden_by"]))
    if item.get("conflicts_with"):
        lines.append("CONFLICT with " + ", ".join(item["conflicts_with"]) + " (unresolved in the knowledge base)")
    for other in item.get("doses_differ_with", []):
        lines.append(f"TWO DOSES: {other['id']} also applies with a different {', '.join(other['parameters'])} "
                     "(unresolved in the knowledge base: ask the editors which one holds)")
    if item["outcome"] == "excluded":
        lines.append(f"excluded: {item.get('reason', '')}")
    if item.get("review_overdue_since"):
        lines.append(f"REVIEW OVERDUE since {item['review_overdue_since']}: this advice may be out of date")
    return lines


def counts(summary: dict[str, Any]) -> str:
    return (f"{summary['applies']} apply, {summary['overridden']} overridden, {summary['undecided']} undecided, "
            f"{summary['not-applicable']} do not apply, {summary['excluded']} excluded")


EXCLUSION_WORDS = {"not-yet-in-force": ("not yet in force", "from"), "ended": ("no longer in force", "ended"),
                   "superseded": ("superseded", "by"), "status": ("left out by status", "")}


def exclusions(summary: dict[str, Any]) -> str:
    """Why recommendations were excluded, in one line ('' when none were)."""
    parts = []
    for group in summary.get("excluded_by_reason", []):
        words, joiner = EXCLUSION_WORDS[group["reason"]]
        details = ", ".join(f"{joiner} {d['detail']}".strip() + f" ({len(d['ids'])})" for d in group["details"])
        parts.append(f"{group['count']} {words}: {details}")
    return "Excluded: " + "; ".join(parts) if parts else ""


def overdue(summary: dict[str, Any]) -> str:
    ids = summary.get("review_overdue", [])
    return f"Review overdue on this date: {', '.join(ids)}" if ids else ""


def trace_lines(item: dict[str, Any]) -> list[str]:
    verdict = {True: "yes", False: "no", None: "unknown"}
    lines = [f"{t['test']}: case has {_value(t['value'])} -> {verdict[t['held']]}" for t in item.get("trace", [])]
    lines += [f"[{c['n']}] {c['ref']}" + (f", {c['locator']}" if c.get("locator") else "") for c in item["citations"]]
    return lines


def sections(data: dict[str, Any], section_order: list[str]) -> list[tuple[str, list[dict[str, Any]]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in data["recommendations"]:
        grouped.setdefault(item["topic"], []).append(item)
    order = section_order + sorted(t for t in grouped if t not in section_order)
    return [(topic, sorted(grouped[topic], key=lambda i: (ORDER[i["outcome"]], i["id"])))
            for topic in order if topic in grouped]


def render(data: dict[str, Any], section_order: list[str], labels: Callable[[str], str]) -> str:
    kb = data["knowledge_base"]
    out = [*data["notices"],
           f"{kb.get('title', kb['id'])} {kb.get('version', '')} - as of {data['as_of']} "
           f"({', '.join(data['statuses'])} recommendations, for {data['audience']}s)",
           f"Case: {_facts(data['case'])}"]
    if data["derived"]:
        out.append(f"Derived: {_facts(data['derived'])}")
    summary = data["summary"]
    out.append(counts(summary))
    out += [line for line in (exclusions(summary), overdue(summary)) if line]
    for topic, items in sections(data, section_order):
        out += ["", labels(topic).upper()]
        for item in items:
            cites = "".join(f"[{c['n']}]" for c in item["citations"])
            out.append(f"  {MARK[item['outcome']]:<10} {item['id']} {item['title']} "
                       f"({item['strength']['level']} {item['strength']['direction']}, "
                       f"certainty {item['certainty']}{', INDIRECT' if item['indirect'] else ''})")
            out.append(f"      {item['text']} {cites}")
            out += [f"      {line}" for line in details(item)]
            if "trace" in item:
                out += [f"        - {line}" for line in trace_lines(item)]
    if data["references"]:
        out += ["", "REFERENCES"]
        for ref in data["references"]:
            out.append(f"  [{ref['n']}] {ref.get('citation', ref['id'] + ' (missing from references.yaml)')}")
            if ref.get("links"):
                out.append("      " + "  ".join(link["label"] for link in ref["links"]))
    return "\n".join(out) + "\n"
