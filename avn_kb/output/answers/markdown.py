"""The query answer as Markdown, for pasting into notes. Knowledge text is escaped: a `<script>`
or a `*` in a statement stays literal text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from avn_kb.output.answers.text import MARK, counts, details, exclusions, overdue, sections, trace_lines
from avn_kb.output.text import markdown_escape as escape


def render(data: dict[str, Any], section_order: list[str], labels: Callable[[str], str]) -> str:
    kb = data["knowledge_base"]
    out = [line for note in data["notices"] for line in (f"> **{escape(note)}**", "")]
    out += [f"## {escape(str(kb.get('title', kb['id'])))} {escape(str(kb.get('version', '')))}", "",
           f"As of {data['as_of']}; case: " + ", ".join(f"`{escape(k)}` = {escape(str(v))}"
                                                       for k, v in data["case"].items())]
    summary = data["summary"]
    out += ["", f"{counts(summary)}."]
    out += [f"{escape(line)}." for line in (exclusions(summary), overdue(summary)) if line]
    for topic, items in sections(data, section_order):
        out += ["", f"### {escape(labels(topic))}", ""]
        for item in items:
            cites = "".join(f"[{c['n']}]" for c in item["citations"])
            out.append(f"- **{MARK[item['outcome']]}** {escape(item['id'])} {escape(item['title'])} "
                       f"(*{item['strength']['level']} {item['strength']['direction']}, certainty "
                       f"{item['certainty']}{', indirect evidence' if item['indirect'] else ''}*): "
                       f"{escape(item['text'])} {cites}")
            out += [f"  - {escape(line)}" for line in details(item)]
            if "trace" in item:
                out += [f"  - {escape(line)}" for line in trace_lines(item)]
    if data["references"]:
        out += ["", "### References", ""]
        for ref in data["references"]:
            links = " ".join(f"[{escape(link['label'])}]({link['url']})" for link in ref.get("links", []))
            out.append(f"{ref['n']}. {escape(ref.get('citation', ref['id']))} {links}".rstrip())
    return "\n".join(out) + "\n"
