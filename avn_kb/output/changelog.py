"""The semantic changelog (avn_kb/editorial/changelog.py) as people and programs read it: one
table of formats, each a function of a ChangelogView (the log and the labels of its two sides)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from avn_kb.editorial.changelog import KINDS, Changelog, Entry
from avn_kb.output.text import markdown_escape as md


@dataclass(frozen=True)
class ChangelogView:
    log: Changelog
    old_label: str
    new_label: str


def _pair(values: tuple[str | None, str | None]) -> dict[str, str | None]:
    return {"before": values[0], "after": values[1]}


def as_data(log: Changelog, old_label: str, new_label: str) -> dict[str, Any]:
    """The changelog as JSON-ready data (shape: schema/changelog.schema.json)."""
    from avn_kb import __version__

    counts = {kind: sum(1 for e in log.entries if e.kind == kind) for kind in KINDS}
    return {
        "tool": {"name": "avn-kb", "version": __version__},
        "from": old_label,
        "to": new_label,
        "version": _pair(log.version),
        "released": _pair(log.released),
        "summary": {**counts, "references_added": len(log.references_added),
                    "references_removed": len(log.references_removed),
                    "references_changed": len(log.references_changed)},
        "recommendations": [
            {"id": e.id, "change": e.kind, "title": e.title, "level": e.level, "version": _pair(e.version),
             "status": _pair(e.status),
             "fields": [{"field": f.field, "before": f.before, "after": f.after} for f in e.fields],
             "citations": {"added": list(e.cited_added), "removed": list(e.cited_removed)}}
            for e in log.entries],
        "references": {
            "added": [{"id": i, "title": t} for i, t in log.references_added],
            "removed": [{"id": i, "title": t} for i, t in log.references_removed],
            "changed": list(log.references_changed),
        },
    }


def _arrow(values: tuple[str | None, str | None]) -> str:
    before, after = values
    if before == after:
        return md(after or "")
    return " → ".join(md(v) for v in values if v is not None)


def _entry_lines(entry: Entry) -> list[str]:
    facts = [f"version {_arrow(entry.version)}", _arrow(entry.status)]
    if entry.level not in ("none",):
        facts.append(f"{entry.level} change")
    lines = [f"- **{md(entry.id)}** {md(entry.title)} ({', '.join(facts)})"]
    for change in entry.fields:
        if change.before is None or change.after is None:
            side = "after" if change.before is None else "before"
            shown = change.after if change.before is None else change.before
            label = md(change.field) if entry.kind == "added" else f"{md(change.field)} ({side} only)"
            lines.append(f"  - {label}: {md(shown or '')}")
        else:
            lines += [f"  - {md(change.field)}", f"    - before: {md(change.before)}",
                      f"    - after: {md(change.after)}"]
    if entry.cited_added:
        lines.append("  - cites " + ", ".join(md(r) for r in entry.cited_added) + (
            "" if entry.kind == "added" else " (new)"))
    if entry.cited_removed:
        lines.append("  - no longer cites " + ", ".join(md(r) for r in entry.cited_removed))
    return lines


def render_markdown(log: Changelog, old_label: str, new_label: str) -> str:
    """The changelog for a pull request description or release notes."""
    lines = [f"## Knowledge base changes: {md(old_label)} → {md(new_label)}", ""]
    if log.empty:
        return "\n".join(lines + ["No changes.", ""])
    lines.append(f"Knowledge base version {_arrow(log.version)} (released {_arrow(log.released)}).")
    counts = [f"{sum(1 for e in log.entries if e.kind == k)} {KINDS[k].lower()}" for k in KINDS
              if any(e.kind == k for e in log.entries)]
    if counts:
        lines += ["", "Recommendations: " + "; ".join(counts) + "."]
    for kind, heading in KINDS.items():
        chosen = [e for e in log.entries if e.kind == kind]
        if chosen:
            lines += ["", f"### {heading}", ""]
            for entry in chosen:
                lines += _entry_lines(entry)
    if log.references_added or log.references_removed or log.references_changed:
        lines += ["", "### References", ""]
        lines += [f"- added **{md(i)}**: {md(t)}" for i, t in log.references_added]
        lines += [f"- removed **{md(i)}**: {md(t)}" for i, t in log.references_removed]
        lines += [f"- changed **{md(i)}** (bibliographic data)" for i in log.references_changed]
    return "\n".join(lines) + "\n"


def render_json(view: ChangelogView) -> str:
    return json.dumps(as_data(view.log, view.old_label, view.new_label), indent=2, ensure_ascii=False) + "\n"


def _markdown(view: ChangelogView) -> str:
    return render_markdown(view.log, view.old_label, view.new_label)


FORMATS: dict[str, Callable[[ChangelogView], str]] = {"markdown": _markdown, "json": render_json}
