"""The answer part of the clinician page, rendered from the answer's data (the JSON of `avn-kb
query --format json`, avn_kb.output.answers.data), never recomputed: what applies first, then what
is undecided with the facts that would decide it (each a link that brings the form back with that
field in view), what is overridden, and what does not apply folded away. Each recommendation shows
the clinician and the plain-language wording, its dose with the loads in kg, its numbered citations
and its flags (a conflict, two doses, an overdue review, indirect evidence). All knowledge text is
escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlencode

from avn_kb.lang.actions import span
from avn_kb.model.display import value_text
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.answers.text import counts, exclusions, overdue
from avn_kb.output.page.form import field_id

GROUPS = (("applies", "Applies", True), ("undecided", "Undecided: more facts needed", True),
          ("overridden", "Overridden by other advice", True), ("not-applicable", "Does not apply", False),
          ("excluded", "Not considered (status, dates or superseded)", False))


def render_answer(kb: KnowledgeBase, data: dict[str, Any], query: Sequence[tuple[str, str]]) -> str:
    """The answer's sections and its reference list."""
    ask = _asker(kb, query)
    parts = ['<section class="answer" aria-labelledby="answer-heading">', '<h2 id="answer-heading">The answer</h2>',
             _summary(data)]
    for outcome, title, opened in GROUPS:
        items = [item for item in data["recommendations"] if item["outcome"] == outcome]
        if not items:
            continue
        cards = "\n".join(_card(kb, item, ask, data["audience"]) for item in items)
        if outcome == "undecided":
            cards = _missing_overall(data, ask) + cards
        heading = f'{escape(title)} <span class="count">{len(items)}</span>'
        if opened:
            parts.append(f'<section class="group group-{outcome}" id="group-{outcome}"><h3>{heading}</h3>{cards}'
                         "</section>")
        else:
            parts.append(f'<details class="group group-{outcome}" id="group-{outcome}"><summary><h3>{heading}</h3>'
                         f"</summary>{cards}</details>")
    parts += [_references(data["references"]), "</section>"]
    return "\n".join(parts)


class _asker:
    """Links that ask for a missing fact: the page again with the current query, that field in view."""

    def __init__(self, kb: KnowledgeBase, query: Sequence[tuple[str, str]]) -> None:
        self.vocabulary = kb.vocabulary
        self.href = "?" + urlencode(list(query))

    def label(self, name: str) -> str:
        fact = self.vocabulary.facts.get(name) if self.vocabulary else None
        return fact.label if fact else name

    def link(self, name: str) -> str:
        return (f'<a class="ask" href="{escape(self.href)}#{escape(field_id(name))}">{escape(self.label(name))}</a>')

    def links(self, names: Sequence[str]) -> str:
        return ", ".join(self.link(name) for name in names)


def _summary(data: dict[str, Any]) -> str:
    summary = data["summary"]
    lines = [f"As of {data['as_of']}, {', '.join(data['statuses'])} recommendations: {counts(summary)}."]
    lines += [f"{line}." for line in (exclusions(summary), overdue(summary)) if line]
    items = "".join(f"<p>{escape(line)}</p>" for line in lines)
    derived = f"; computed: {case_line(data['derived'])}" if data["derived"] else ""
    case = f"Case: {case_line(data['case'])}{derived}."
    return (f'<div class="summary"><p class="case-line">{escape(case)} <a href="#case">Change the case</a></p>'
            f"{items}</div>")


def _card(kb: KnowledgeBase, item: dict[str, Any], ask: _asker, audience: str) -> str:
    rec = kb.recommendation(item["id"])
    # The data holds the wording of its audience; the page shows both, the other from the recommendation.
    clinician, plain = item["text"], rec.plain_language if rec is not None else ""
    if audience == "patient":
        clinician, plain = rec.statement if rec is not None else "", item["text"]
    cites = " ".join(f'<a class="cite" href="#ref-{c["n"]}">[{c["n"]}]</a>' for c in item["citations"])
    badges = [f'<span class="badge kind-{escape(item["action"]["kind"])}">{escape(item["action"]["kind"])}</span>',
              f'<span class="badge">{escape(item["strength"]["level"])} {escape(item["strength"]["direction"])}'
              "</span>", f'<span class="badge">certainty: {escape(item["certainty"])}</span>',
              f'<span class="badge topic">{escape(kb.vocabulary.topic_label(item["topic"]) if kb.vocabulary else "")}'
              "</span>"]
    if item["status"] != "approved":
        badges.append(f'<span class="badge status">{escape(item["status"])}</span>')
    return "\n".join([
        f'<article class="rec outcome-{escape(item["outcome"])}" id="rec-{escape(item["id"])}">',
        f'<h4><span class="rec-id">{escape(item["id"])}</span> {escape(item["title"])}</h4>',
        f'<p class="badges">{"".join(badges)}</p>', _flags(item, ask),
        f'<p class="wording clinician">{escape(clinician)} {cites}</p>',
        f'<p class="wording patient"><span class="plain-label">In plain language:</span> {escape(plain)}</p>',
        _action(kb, item), _context(item, ask), "</article>"])


def _flags(item: dict[str, Any], ask: _asker) -> str:
    """What a reader must see before the advice: why it is undecided, conflicts, two doses, an
    overdue review, an exercise that loads the affected part."""
    flags = []
    if item.get("missing"):
        flags.append(("decide", f"Would be decided by: {ask.links(item['missing'])}."))
    if item["outcome"] == "excluded" and item.get("reason"):
        flags.append(("info", f"Not considered: {escape(item['reason'])}."))
    if item.get("overridden_by"):
        flags.append(("info", "Overridden by " + ", ".join(map(_rec_link, item["overridden_by"])) + "."))
    if item.get("conflicts_with"):
        flags.append(("warn", "Conflict, unresolved in the knowledge base, with "
                              + ", ".join(map(_rec_link, item["conflicts_with"])) + "."))
    for other in item.get("doses_differ_with", []):
        flags.append(("warn", f"Two doses: {_rec_link(other['id'])} also applies with a different "
                              f"{escape(', '.join(other['parameters']))}; ask the editors which one holds."))
    if item.get("review_overdue_since"):
        flags.append(("warn", f"Review overdue since {escape(item['review_overdue_since'])}: this advice may be "
                              "out of date."))
    loading = [e["exercise"] for e in item.get("loading_exercises", []) if e["loads"]]
    if loading:
        flags.append(("warn", f"Loads the affected part in this case: {escape(', '.join(loading))}; leave out or "
                              "adapt."))
    return "".join(f'<p class="flag flag-{kind}">{text}</p>' for kind, text in flags)


def _context(item: dict[str, Any], ask: _asker) -> str:
    """What qualifies the advice, after it: the evidence is indirect, or more specific advice may
    replace it once more is known (folded away: there can be many)."""
    parts = []
    if item.get("indirect"):
        parts.append('<p class="flag flag-info">Indirect evidence: '
                     f'{escape(item.get("indirect_reason", "from another population"))}</p>')
    pending = item.get("pending_overrides", [])
    if pending:
        rows = "".join(f"<li>{_rec_link(p['id'])} {escape(p['title'])}: unless known otherwise, "
                       f"{ask.links(p['missing'])}</li>" for p in pending)
        ids = ", ".join(escape(p["id"]) for p in pending)
        parts.append(f'<details class="pending"><summary>Would give way to {ids} unless more is known</summary>'
                     f"<ul>{rows}</ul></details>")
    return "".join(parts)


def _missing_overall(data: dict[str, Any], ask: _asker) -> str:
    """The facts that would decide undecided advice, most deciding first, each a link to its field."""
    counted: dict[str, int] = {}
    for item in data["recommendations"]:
        if item["outcome"] == "undecided":
            for name in item.get("missing", []):
                counted[name] = counted.get(name, 0) + 1
    if not counted:
        return ""
    ranked = sorted(counted.items(), key=lambda pair: -pair[1])
    items = "".join(f"<li>{ask.link(name)} <span class=\"deciding\">would decide {count}</span></li>"
                    for name, count in ranked)
    return f'<div class="missing-overall"><p>Facts that would decide them:</p><ul>{items}</ul></div>'


def _rec_link(rec_id: str) -> str:
    return f'<a href="#rec-{escape(rec_id)}">{escape(rec_id)}</a>'


def _action(kb: KnowledgeBase, item: dict[str, Any]) -> str:
    """The action, its dose with each parameter's label and unit and the load in kg, its level and
    exercises, as a definition list."""
    action = item["action"]
    intervention = kb.vocabulary.interventions.get(action["target"]) if kb.vocabulary else None
    rows = [("Action", f'{escape(action["kind"])} {escape(intervention.label if intervention else action["target"])}')]
    loads = item.get("load_kg", {})
    for name, (low, high) in action.get("dose", {}).items():
        parameter = intervention.dose.get(name) if intervention else None
        unit = parameter.unit if parameter else ""
        load = ""
        if name in loads:
            load = f' <strong class="load">= {escape(span(loads[name][0], loads[name][1], "–"))} kg</strong>'
        rows.append((f"Dose: <code>{escape(name)}</code>", f"{escape(span(low, high, '–'))} {escape(unit)}{load}"))
    if action.get("level"):
        rows.append(("Level", escape(action["level"])))
    if action.get("exercises"):
        details = intervention.exercise_details if intervention else {}
        names = [details[e].label or e if e in details else e for e in action["exercises"]]
        rows.append(("Exercises", escape(", ".join(str(n) for n in names))))
    return '<dl class="action">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _references(references: list[dict[str, Any]]) -> str:
    if not references:
        return ""
    items = []
    for ref in references:
        text = ref.get("citation") or f"{ref['id']} (missing from the references)"
        links = " ".join(f'<a href="{escape(link["url"])}" rel="noreferrer">{escape(link["label"])}</a>'
                         for link in ref.get("links", []))
        items.append(f'<li id="ref-{ref["n"]}" value="{ref["n"]}">{escape(text)} {links}</li>')
    return f'<section class="references"><h3>References</h3><ol class="refs">{"".join(items)}</ol></section>'


def case_line(facts: Mapping[str, Any]) -> str:
    """The case as given, one `name = value` each (for the page's title)."""
    return ", ".join(f"{name} = {'none' if value == [] else value_text(value)}" for name, value in facts.items())
