"""CDS Hooks cards from a resolved answer: the plain data `avn_kb.output.answers.data.as_data`
gives (the same as `query --format json`), never resolved again here. One card per applying
recommendation, one warning per conflict or pair of differing doses, one info card naming the
facts that would decide the undecided recommendations; the manifest's notice closes every card's
detail. Nothing to say is `{"cards": []}`.

Each card's uuid is derived from its content (uuid5): the same advice for the same article gives
the same uuid, so feedback on a card can be matched to it across calls."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from avn_kb.lang.actions import span
from avn_kb.load.fhir_case import Unread
from avn_kb.model.knowledge import Vocabulary
from avn_kb.output.answers.text import details
from avn_kb.output.site.article import KIND_LABELS, anchor
from avn_kb.output.text import markdown_escape as escape

SUMMARY_LIMIT = 139  # the specification: a summary under 140 characters
INDICATORS = {"do": "info", "consider": "info", "avoid": "warning"}


def short(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """`text` cut to `limit` characters at a word, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "\u2026"


def cards(vocabulary: Vocabulary, data: Mapping[str, Any], article_url: str,
          unread: Sequence[Unread] = ()) -> dict[str, Any]:
    """The CDS Hooks response for the answer `data`; `article_url` is where the rendered article
    is published (each card links to its recommendation there); `unread`: what could not be read
    from the patient's record, listed on the card about undecided recommendations."""
    items = data["recommendations"]
    applying = [item for item in items if item["outcome"] == "applies"]
    made = [_recommendation_card(vocabulary, data, item, article_url) for item in applying]
    made += _conflict_cards(data, applying, article_url)
    undecided = _undecided_card(vocabulary, data, items, article_url, unread)
    made += [undecided] if undecided else []
    return {"cards": [_with_uuid(card, article_url) for card in made]}


def _source(data: Mapping[str, Any], article_url: str, rec_id: str | None = None) -> dict[str, Any]:
    kb = data["knowledge_base"]
    label = " ".join(str(part) for part in (kb.get("title", kb["id"]), kb.get("version")) if part)
    if rec_id is None:
        return {"label": short(label, 100), "url": article_url}
    return {"label": short(f"{rec_id}, {label}", 100), "url": f"{article_url}#{quote(anchor(rec_id))}"}


def _markdown(lines: Sequence[str]) -> str:
    """The lines as one Markdown text, without the runs of blank lines that empty parts leave."""
    kept = [line for i, line in enumerate(lines) if line or (i > 0 and lines[i - 1])]
    return "\n".join(kept).strip("\n")


def _closing(data: Mapping[str, Any]) -> list[str]:
    return [f"*{escape(note)}*" for note in data["notices"]]


def _indicator(vocabulary: Vocabulary, item: Mapping[str, Any]) -> str:
    if INDICATORS[item["action"]["kind"]] == "warning":
        return "warning"
    return str(vocabulary.topics.get(item["topic"], {}).get("cds_indicator", "info"))


def _recommendation_card(vocabulary: Vocabulary, data: Mapping[str, Any], item: Mapping[str, Any],
                         article_url: str) -> dict[str, Any]:
    kind = KIND_LABELS[item["action"]["kind"]]
    summary = short(f"{kind}: {item['title']} ({item['id']})")
    strength = item["strength"]
    lines = [escape(item["text"]), "",
             f"**{escape(item['id'])}**: {strength['level']} recommendation {strength['direction']}, certainty "
             f"{item['certainty']}{', indirect evidence' if item['indirect'] else ''}.", ""]
    lines += [f"- {line}" for line in _dose_lines(vocabulary, item)]
    lines += [f"- {escape(line)}" for line in details(dict(item)) if not line.startswith(("dose:", "load:"))]
    lines += ["", "**Sources**", ""] + _citation_lines(data, item) + [""] + _closing(data)
    return {"summary": summary, "detail": _markdown(lines), "indicator": _indicator(vocabulary, item),
            "source": _source(data, article_url, item["id"])}


def _dose_lines(vocabulary: Vocabulary, item: Mapping[str, Any]) -> list[str]:
    action = item["action"]
    intervention = vocabulary.interventions.get(action["target"])
    params = intervention.dose if intervention else {}
    def label(name: str) -> str:
        return escape(params[name].label or name) if name in params else escape(name)

    lines = [f"Dose, {label(name)}: {span(low, high)} {escape(params[name].unit if name in params else '')}".rstrip()
             for name, (low, high) in action.get("dose", {}).items()]
    lines += [f"Load, {label(name)}: {span(low, high)} kg for this patient"
              for name, (low, high) in item.get("load_kg", {}).items()]
    return lines


def _citation_lines(data: Mapping[str, Any], item: Mapping[str, Any]) -> list[str]:
    references = {ref["n"]: ref for ref in data["references"]}
    lines = []
    for cite in sorted(item["citations"], key=lambda cite: cite["n"]):
        ref = references.get(cite["n"], {"id": cite["ref"]})
        links = " ".join(f"[{escape(link['label'])}]({link['url']})" for link in ref.get("links", []))
        locator = f" ({escape(cite['locator'])})" if cite.get("locator") else ""
        lines.append(f"{cite['n']}. {escape(ref.get('citation', ref['id']))}{locator} {links}".rstrip())
    return lines


def _conflict_cards(data: Mapping[str, Any], applying: Sequence[Mapping[str, Any]],
                    article_url: str) -> list[dict[str, Any]]:
    by_id = {item["id"]: item for item in applying}
    made = []
    pairs: list[tuple[str, str, str]] = []  # (first id, second id, what differs)
    for item in applying:
        pairs += [(item["id"], other, "") for other in item.get("conflicts_with", []) if item["id"] < other]
        pairs += [(item["id"], other["id"], ", ".join(other["parameters"]))
                  for other in item.get("doses_differ_with", []) if item["id"] < other["id"]]
    for first, second, parameters in pairs:
        what = f"give different doses ({parameters})" if parameters else "contradict each other"
        lines = [f"{escape(first)} and {escape(second)} both apply to this patient and {escape(what)}; the "
                 "knowledge base does not settle which holds. Ask its editors before following either.", ""]
        lines += [f"- **{escape(rec_id)}** {escape(by_id[rec_id]['title'])}: {escape(by_id[rec_id]['text'])}"
                  for rec_id in (first, second) if rec_id in by_id]
        made.append({"summary": short(f"{'Two doses' if parameters else 'Conflicting advice'}: {first} and {second} "
                                      f"{what}"),
                     "detail": _markdown([*lines, "", *_closing(data)]), "indicator": "warning",
                     "source": _source(data, article_url, first)})
    return made


def _undecided_card(vocabulary: Vocabulary, data: Mapping[str, Any], items: Sequence[Mapping[str, Any]],
                    article_url: str, unread: Sequence[Unread]) -> dict[str, Any] | None:
    waiting: dict[str, list[str]] = {}  # fact -> the recommendations it would decide (or may override)
    for item in items:
        if item["outcome"] == "undecided":
            for fact in item.get("missing", []):
                waiting.setdefault(fact, []).append(item["id"])
        for pending in item.get("pending_overrides", []) if item["outcome"] == "applies" else []:
            for fact in pending["missing"]:
                waiting.setdefault(fact, []).append(pending["id"])
    if not waiting:
        return None
    ordered = sorted(waiting, key=lambda fact: (-len(set(waiting[fact])), fact))
    labels = {fact: _label(vocabulary, fact) for fact in ordered}
    count = len({rec for recs in waiting.values() for rec in recs})
    lines = [f"{count} recommendation{'s' if count != 1 else ''} cannot be decided from what is known. "
             "These facts would decide them:", ""]
    lines += [f"- **{escape(labels[fact])}** (`{escape(fact)}`): {', '.join(sorted(set(waiting[fact])))}"
              for fact in ordered]
    if unread:
        lines += ["", "**Not read from the record**", ""]
        lines += [f"- {escape(note.resource)}{f' ({escape(note.fact)})' if note.fact else ''}: {escape(note.reason)}"
                  for note in unread]
    summary = short(f"{count} more recommendation{'s' if count != 1 else ''} need: "
                    + ", ".join(labels[fact] for fact in ordered))
    return {"summary": summary, "detail": _markdown([*lines, "", *_closing(data)]), "indicator": "info",
            "source": _source(data, article_url)}


def _label(vocabulary: Vocabulary, fact: str) -> str:
    known = vocabulary.facts.get(fact) or vocabulary.derived.get(fact)
    return known.label if known else fact


def _with_uuid(card: dict[str, Any], article_url: str) -> dict[str, Any]:
    content = json.dumps(card, sort_keys=True, ensure_ascii=False)
    return {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{article_url}\n{content}")), **card}
