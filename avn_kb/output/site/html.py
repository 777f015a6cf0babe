"""The article as one static HTML page (index.html): styles and script inline, no network at view
time (the Content-Security-Policy forbids it), every piece of knowledge text escaped."""

from __future__ import annotations

from html import escape

from avn_kb import __version__
from avn_kb.output.site import svg
from avn_kb.output.site.article import Article, CoverageFigure, Entry, Section, anchor
from avn_kb.output.site.assets import CSS, SCRIPT, script_hash

EMPTY_CELL = '<span class="none" title="not covered">&middot;</span>'


def render(article: Article) -> dict[str, str]:
    """{file name: content} for the site."""
    return {"index.html": page(article)}


def page(article: Article) -> str:
    policy = (f"default-src 'none'; style-src 'unsafe-inline'; script-src {script_hash()}; img-src data:; "
              "base-uri 'none'; form-action 'none'")
    body = [_masthead(article), '<main class="wrap">']
    body += [_section(section) for section in article.sections]
    body += [_figures(article), _references(article), "</main>",
             f'<footer class="wrap">Rendered by avn-kb {escape(__version__)} from knowledge base '
             f'<code>{escape(article.id)}</code> version {escape(article.version)}.</footer>']
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{escape(article.title)} (version {escape(article.version)})</title>",
        f"<style>{CSS}</style>", "</head>", "<body>", *body, f"<script>{SCRIPT}</script>", "</body>", "</html>",
    ]) + "\n"


def _masthead(article: Article) -> str:
    toc = "".join(f'<li><a href="#topic-{escape(s.topic)}">{escape(s.label)}</a></li>' for s in article.sections)
    toc += '<li><a href="#figures">Coverage and links between recommendations</a></li>'
    toc += '<li><a href="#references">References</a></li>'
    # The first notice is the target of the link beside the first approved badge.
    anchors = [' id="notice"'] + [""] * (len(article.notices) - 1)
    notes = "".join(f'<p class="notice" role="note"{anchor}><strong>{escape(note)}</strong></p>'
                    for anchor, note in zip(anchors, article.notices))
    return (
        '<header class="masthead"><div class="wrap">'
        f"{notes}<h1>{escape(article.title)}</h1>"
        f'<p class="meta">Version <strong class="kb-version">{escape(article.version)}</strong>, released '
        f'<time class="kb-released" datetime="{escape(article.released)}">{escape(article.released)}</time></p>'
        '<div class="audience" id="audience" hidden><span class="label">Wording for:</span>'
        '<button type="button" data-audience-choice="clinician" aria-pressed="true">Clinicians</button>'
        '<button type="button" data-audience-choice="patient" aria-pressed="false">Patients</button></div>'
        f'<nav class="toc" aria-label="Contents"><strong>Contents</strong><ol>{toc}</ol></nav>'
        "</div></header>")


def _section(section: Section) -> str:
    parts = [f'<section class="topic" id="topic-{escape(section.topic)}">', f"<h2>{escape(section.label)}</h2>"]
    if section.description:
        parts.append(f'<p class="topic-description">{escape(section.description)}</p>')
    if not section.current and not section.retired:
        parts.append("<p>No recommendations yet.</p>")
    parts += [_entry(entry) for entry in section.current]
    if section.retired:
        parts.append('<h3 class="retired-heading">Retired and not adopted</h3>')
        parts += [_entry(entry, "h4") for entry in section.retired]
    parts.append("</section>")
    return "\n".join(parts)


def _rec_links(ids: list[str]) -> str:
    return ", ".join(f'<a href="#rec-{escape(i)}">{escape(i)}</a>' for i in ids)


def _entry(entry: Entry, heading: str = "h3") -> str:
    rec = entry.rec
    meaning = f' title="{escape(entry.status_meaning)}"' if entry.status_meaning else ""
    badges = [f'<span class="badge status status-{escape(rec.status)}"{meaning}>{escape(entry.status_label)}</span>',
              f'<span class="badge strength">{escape(entry.strength)}</span>',
              f'<span class="badge certainty">certainty: {escape(entry.certainty)}</span>']
    if rec.indirect:
        badges.append('<span class="badge indirect">indirect evidence</span>')
    if rec.expert_opinion:
        badges.append('<span class="badge expert">expert opinion</span>')
    if entry.status_meaning_shown and entry.status_meaning:
        badges.append(f'<span class="status-meaning">{escape(entry.status_label)}: '
                      f'<a href="#notice">{escape(entry.status_meaning)}</a></span>')
    facts = [("Action" if rec.status != "retired" else "Action (retired)", escape(entry.action))]
    if entry.dose:
        facts.append(("Dose", escape("; ".join(entry.dose))))
    facts += [("Applies when", escape(entry.condition)), ("Population", escape(entry.population))]
    if rec.indirect:
        facts.append(("Indirect evidence", escape(rec.indirect_reason or "from another population")))
    facts.append(("Last reviewed", escape(entry.last_reviewed) if entry.last_reviewed else "not yet reviewed"))
    facts.append(("Version", escape(rec.version)))
    facts += [(label, _rec_links(list(ids))) for label, ids in entry.relations]
    if rec.retired_reason:
        facts.append(("Why retired", escape(rec.retired_reason)))
    if rec.rationale:
        facts.append(("Rationale", escape(rec.rationale)))
    cites = " ".join(
        f'<a class="cite" href="#ref-{c.number}" title="{escape(_cite_title(c.ref, c.locator, c.note))}">'
        f"[{c.number}]</a>"
        for c in entry.cites)
    return "\n".join([
        f'<article class="rec status-is-{escape(rec.status)}{" retired" if rec.status == "retired" else ""}" '
        f'id="{escape(anchor(rec.id))}" data-topic="{escape(rec.topic)}">',
        f'<{heading} class="rec-title"><span class="rec-id">{escape(rec.id)}</span>{escape(rec.title)}</{heading}>',
        f'<p class="badges">{" ".join(badges)}</p>',
        f'<p class="wording clinician">{escape(rec.statement)}</p>',
        f'<p class="wording patient"><span class="plain-label">In plain language: </span>'
        f"{escape(rec.plain_language)}</p>",
        f'<p class="sources">Sources: {cites}</p>' if cites else '<p class="sources">Sources: none cited</p>',
        '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
        "</article>"])


def _cite_title(ref: str, locator: str | None, note: str | None) -> str:
    return ", ".join(p for p in (ref, locator, note) if p)


def _figures(article: Article) -> str:
    parts = ['<section class="figures" id="figures"><h2>Coverage and links between recommendations</h2>',
             '<h3>Coverage by site and stage</h3>', _coverage(article.coverage, article.topic_labels)]
    drawing = svg.render(article.graph)
    parts.append('<h3>Overrides and supersedes</h3>')
    parts.append('<figure id="graph"><figcaption>Which recommendations override (solid arrow) or supersede '
                 '(dashed arrow) which; the border colour shows the status. Select a box to read it.</figcaption>')
    parts.append(f'<div class="scroll">{drawing}</div>' if drawing else
                 "<p>No recommendation overrides or supersedes another.</p>")
    parts += ["</figure>", "</section>"]
    return "\n".join(parts)


def _coverage(figure: CoverageFigure, labels: dict[str, str]) -> str:
    matrix = figure.matrix
    if matrix is None:
        return f'<figure id="coverage"><figcaption>{escape(figure.note)}</figcaption></figure>'
    tone = {topic: f"t{i % 6 + 1}" for i, topic in enumerate(matrix.topics)}
    legend = "".join(f'<li><span class="chip {tone[t]}">{escape(figure.letters[t])}</span> '
                     f"{escape(labels.get(t, t))}</li>" for t in matrix.topics)
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in matrix.columns)
    rows = []
    for row in matrix.rows:
        cells = []
        for column in matrix.columns:
            cell = matrix.cells[(row, column)]
            chips = []
            for topic in matrix.topics:
                name = labels.get(topic, topic)
                if topic in cell.applies:
                    ids = ", ".join(figure.by_topic[(row, column, topic)])
                    count = len(figure.by_topic[(row, column, topic)])
                    chips.append(f'<span class="chip {tone[topic]}" title="{escape(name)}: {escape(ids)}">'
                                 f"{escape(figure.letters[topic])}<sub>{count}</sub></span>")
                elif topic in cell.possible:
                    chips.append(f'<span class="chip possible {tone[topic]}" title="{escape(name)}: once more facts '
                                 f'are known">{escape(figure.letters[topic])}</span>')
            cells.append(f"<td>{''.join(chips) or EMPTY_CELL}</td>")
        rows.append(f'<tr><th scope="row">{escape(row)}</th>{"".join(cells)}</tr>')
    note = (f"{figure.note} The small number counts those recommendations (hover for their ids); a dashed "
            "mark: a recommendation may apply once more facts are known.")
    return (f'<figure id="coverage"><figcaption>{escape(note)}</figcaption>'
            f'<ul class="legend">{legend}</ul><div class="scroll"><table class="coverage">'
            f'<thead><tr><th scope="col">{escape(matrix.row_fact)} \\ {escape(matrix.column_fact)}</th>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div></figure>')


def _references(article: Article) -> str:
    items = []
    for ref in article.references:
        links = " ".join(f'<a href="{escape(url)}">{escape(label)}</a>' for label, url in ref.links)
        text = escape(ref.text) if ref.known else f'<span class="unknown">{escape(ref.text)}</span>'
        items.append(f'<li id="ref-{ref.number}" value="{ref.number}" data-ref="{escape(ref.id)}">{text} {links}'
                     f' <span class="cited-by">Cited by {_rec_links(list(ref.cited_by))}.</span></li>')
    body = f'<ol class="refs">{"".join(items)}</ol>' if items else "<p>No references cited.</p>"
    return f'<section class="references" id="references"><h2>References</h2>{body}</section>'
