"""The article as one Markdown file (index.md): the same sections, numbers and reference list as the
HTML page; both wordings in full (Markdown has no toggle); the coverage matrix as a table and the
overrides / supersedes graph as a list. Knowledge text is escaped, so markup in it stays literal."""

from __future__ import annotations

import re
from html import escape as attribute

from avn_kb import __version__
from avn_kb.output.site.article import Article, CoverageFigure, Entry, anchor
from avn_kb.output.text import markdown_escape as escape

_LIST_START = re.compile(r"^([-+]|\d+(?=[.)]))")


def paragraph(text: str) -> str:
    """Escaped text that cannot open a list when it starts a line (escape() handles the rest)."""
    escaped = escape(text)
    marker = _LIST_START.match(escaped)
    if marker is None:
        return escaped
    if marker.group(1)[0].isdigit():  # `1.` -> `1\.`
        return marker.group(1) + "\\" + escaped[marker.end():]
    return "\\" + escaped


def _url(url: str) -> str:
    """A link target Markdown cannot cut short: parentheses and spaces percent-encoded."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def render(article: Article) -> dict[str, str]:
    """{file name: content} for the site."""
    return {"index.md": document(article)}


def document(article: Article) -> str:
    out = ['<a id="notice"></a>', ""] if article.notices else []
    out += [line for note in article.notices for line in (f"> **{escape(note)}**", "")]
    out += [f"# {escape(article.title)}", "",
           f"Version **{escape(article.version)}**, released {escape(article.released)}.", ""]
    for section in article.sections:
        out += [f'<a id="topic-{attribute(section.topic)}"></a>', "", f"## {escape(section.label)}", ""]
        if section.description:
            out += [f"*{escape(section.description.strip())}*", ""]
        for entry in section.current:
            out += _entry(entry)
        if section.retired:
            out += ["### Retired and not adopted", ""]
            for entry in section.retired:
                out += _entry(entry, "####")
    out += _figures(article)
    out += ['<a id="references"></a>', "", "## References", ""]
    for ref in article.references:
        links = " ".join(f"[{escape(label)}]({_url(url)})" for label, url in ref.links)
        cited_by = ", ".join(f"[{escape(i)}](#rec-{attribute(i)})" for i in ref.cited_by)
        text = escape(ref.text) if ref.known else f"**{escape(ref.text)}**"
        out.append(f'{ref.number}. <a id="ref-{ref.number}"></a>{text} {links} (cited by {cited_by})')
    if not article.references:
        out.append("No references cited.")
    out += ["", f"*Rendered by avn-kb {escape(__version__)} from knowledge base `{article.id}` version "
                f"{escape(article.version)}.*"]
    return "\n".join(out) + "\n"


def _entry(entry: Entry, heading: str = "###") -> list[str]:
    rec = entry.rec
    cites = " ".join(f"[\\[{c.number}\\]](#ref-{c.number})" for c in entry.cites) or "none cited"
    badges = [f"`{entry.status_label}`", escape(entry.strength), f"certainty {escape(entry.certainty)}"]
    if rec.indirect:
        badges.append("**indirect evidence**")
    if rec.expert_opinion:
        badges.append("expert opinion")
    if entry.status_meaning_shown and entry.status_meaning:
        badges.append(f"*{escape(entry.status_label)}: [{escape(entry.status_meaning)}](#notice)*")
    lines = [f'<a id="{attribute(anchor(rec.id))}"></a>', "", f"{heading} {escape(rec.id)} {escape(rec.title)}", "",
             " · ".join(badges), "", paragraph(rec.statement), "",
             f"> **In plain language:** {escape(rec.plain_language)}", "", f"Sources: {cites}", "",
             f"- Action{' (retired)' if rec.status == 'retired' else ''}: {escape(entry.action)}"]
    if entry.dose:
        lines.append(f"- Dose: {escape('; '.join(entry.dose))}")
    lines += [f"- Applies when: {escape(entry.condition)}", f"- Population: {escape(entry.population)}"]
    if rec.indirect:
        lines.append(f"- Indirect evidence: {escape(rec.indirect_reason or 'from another population')}")
    lines.append(f"- Last reviewed: {escape(entry.last_reviewed) if entry.last_reviewed else 'not yet reviewed'}")
    lines += [f"- {label}: " + ", ".join(f"[{escape(i)}](#rec-{attribute(i)})" for i in ids)
              for label, ids in entry.relations]
    if rec.retired_reason:
        lines.append(f"- Why retired: {escape(rec.retired_reason)}")
    return lines + [""]


def _figures(article: Article) -> list[str]:
    out = ['<a id="figures"></a>', "", "## Coverage and links between recommendations", ""]
    out += _coverage(article.coverage, article.topic_labels)
    out += ["### Overrides and supersedes", ""]
    if not article.graph.edges:
        out += ["No recommendation overrides or supersedes another.", ""]
    for edge in article.graph.edges:
        out.append(f"- {escape(edge.source_id)} {edge.relation} {escape(edge.target_id)}")
    return out + ([""] if article.graph.edges else [])


def _coverage(figure: CoverageFigure, labels: dict[str, str]) -> list[str]:
    matrix = figure.matrix
    if matrix is None:
        return [escape(figure.note), ""]
    legend = ", ".join(f"**{figure.letters[t]}** {escape(labels.get(t, t))}" for t in matrix.topics)
    out = [escape(figure.note) + " Lower case: may apply once more facts are known.", "", legend, "",
           f"| {escape(matrix.row_fact)} \\\\ {escape(matrix.column_fact)} | "
           + " | ".join(escape(c) for c in matrix.columns) + " |",
           "|---" * (len(matrix.columns) + 1) + "|"]
    for row in matrix.rows:
        cells = []
        for column in matrix.columns:
            cell = matrix.cells[(row, column)]
            marks = [figure.letters[t] if t in cell.applies else figure.letters[t].lower()
                     for t in matrix.topics if t in cell.applies or t in cell.possible]
            cells.append(" ".join(marks) or "·")
        out.append(f"| {escape(row)} | " + " | ".join(cells) + " |")
    return out + [""]
