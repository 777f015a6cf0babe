"""The guidance as an article: sections in vocabulary order, each recommendation with what a reader
needs beside its wording, and one reference list that every citation number resolves to. The HTML
and Markdown renderers are pure functions of this one structure, so they cannot number differently."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from avn_kb.lang.actions import span
from avn_kb.model import conditions
from avn_kb.model.knowledge import KnowledgeBase, Recommendation, Vocabulary
from avn_kb.output import graph as graphs
from avn_kb.output.citations import Numbering, formatted, links
from avn_kb.output.graph import Edge
from avn_kb.output.site.layout import Layout, layout
from avn_kb.resolve.coverage import Matrix, coverage

STATUS_LABELS = {"draft": "draft", "submitted": "submitted", "under-review": "under review",
                 "approved": "approved", "retired": "retired"}
KIND_LABELS = {"do": "Do", "consider": "Consider", "avoid": "Avoid"}
# What `approved` means in a knowledge base whose manifest has a notice: the editors' record, not a
# clinical endorsement; the notice says who the editors are and what the content is not.
APPROVED_MEANING = "approved by the editors of this knowledge base; see the notice"


EN_DASH = "\u2013"  # ranges on a typeset page


def anchor(rec_id: str) -> str:
    """The fragment a recommendation has in the rendered article (HTML and Markdown alike): links
    from elsewhere (CDS Hooks cards) point at `<article URL>#<anchor>`."""
    return f"rec-{rec_id}"


@dataclass(frozen=True)
class Cite:
    number: int
    ref: str
    locator: str | None
    note: str | None


@dataclass(frozen=True)
class Entry:
    """One recommendation with its facts already put into words."""

    rec: Recommendation
    status_label: str
    strength: str        # "Conditional recommendation for"
    certainty: str       # "very low"
    action: str          # "Consider: Protected weight bearing (partial)"
    dose: tuple[str, ...]
    condition: str       # "site is femoral-head and collapse is pre-collapse"
    population: str
    last_reviewed: str | None
    cites: tuple[Cite, ...]
    relations: tuple[tuple[str, tuple[str, ...]], ...]  # ("Overrides", ids), ("Superseded by", ids) ...
    status_meaning: str | None = None  # what the status badge means here (a tooltip on every approved badge)
    status_meaning_shown: bool = False  # said in visible text too: beside the page's first approved badge


@dataclass(frozen=True)
class Section:
    topic: str
    label: str
    description: str | None
    current: tuple[Entry, ...]
    retired: tuple[Entry, ...]


@dataclass(frozen=True)
class ListedReference:
    number: int
    id: str
    text: str
    links: tuple[tuple[str, str], ...]  # (label, url)
    known: bool                         # False: cited but missing from references.yaml
    cited_by: tuple[str, ...]


@dataclass(frozen=True)
class CoverageFigure:
    matrix: Matrix | None
    note: str                           # what the figure shows, or why it is missing
    letters: dict[str, str]             # topic -> one-character mark
    by_topic: dict[tuple[str, str, str], tuple[str, ...]]  # (row, column, topic) -> applying ids


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    version: str
    released: str
    sections: tuple[Section, ...]
    references: tuple[ListedReference, ...]
    topic_labels: dict[str, str]
    coverage: CoverageFigure
    graph: Layout
    notices: tuple[str, ...] = ()  # shown above everything (avn_kb.output.notices)


def build(kb: KnowledgeBase, notes: tuple[str, ...] = ()) -> Article:
    """The article for a loaded knowledge base (its manifest and vocabulary must have loaded);
    `notes`: the notices to show above everything."""
    manifest, vocabulary = kb.manifest, kb.vocabulary
    assert manifest is not None and vocabulary is not None
    labels = {name: vocabulary.topic_label(name) for name in vocabulary.topics}
    numbering = Numbering(kb.references)
    cited_by: dict[str, list[str]] = {}
    graph = graphs.graph_of(kb)
    edges = graphs.links(graph)
    sections = []
    for topic in _topic_order(kb, vocabulary):
        recs = [rec for rec in kb.recommendations if rec.topic == topic]
        # Numbers are handed out here, in the order the entries are printed: current, then retired.
        current = tuple(_entry(rec, vocabulary, numbering, cited_by, edges) for rec in recs if rec.status != "retired")
        retired = tuple(_entry(rec, vocabulary, numbering, cited_by, edges) for rec in recs if rec.status == "retired")
        description = vocabulary.topics.get(topic, {}).get("description")
        sections.append(Section(topic, labels.get(topic, topic), str(description) if description else None,
                                current, retired))
    if manifest.notice:
        sections = _explain_approved(sections)
    references = tuple(
        ListedReference(n, ref_id, formatted(ref) if ref else f"{ref_id}: not found in references.yaml",
                        tuple(links(ref)) if ref else (), ref is not None, tuple(dict.fromkeys(cited_by[ref_id])))
        for n, ref_id, ref in numbering.listing())
    return Article(manifest.id, manifest.title, manifest.version, str(manifest.released), tuple(sections),
                   references, labels, _coverage(kb, manifest.released), layout(graph), notes)


def _explain_approved(sections: list[Section]) -> list[Section]:
    """Every approved entry says what approved means here; the first one says it in visible text."""
    shown = False
    out = []
    for section in sections:
        current = []
        for entry in section.current:
            if entry.rec.status == "approved":
                entry = replace(entry, status_meaning=APPROVED_MEANING, status_meaning_shown=not shown)
                shown = True
            current.append(entry)
        out.append(replace(section, current=tuple(current)))
    return out


def _topic_order(kb: KnowledgeBase, vocabulary: Vocabulary) -> list[str]:
    """Vocabulary sections first; a topic used by recommendations but not a section still gets one."""
    order = list(vocabulary.sections())
    order += [rec.topic for rec in kb.recommendations if rec.topic not in order]
    return list(dict.fromkeys(order))


def _relations(rec_id: str, edges: list[Edge]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = [e for e in edges if e.source_id == rec_id]
    into = [e for e in edges if e.target_id == rec_id]
    found = (("Overrides", tuple(e.target_id for e in out if e.relation == "overrides")),
             ("Supersedes", tuple(e.target_id for e in out if e.relation == "supersedes")),
             ("Overridden by", tuple(e.source_id for e in into if e.relation == "overrides")),
             ("Superseded by", tuple(e.source_id for e in into if e.relation == "supersedes")))
    return tuple((label, ids) for label, ids in found if ids)


def _entry(rec: Recommendation, vocabulary: Vocabulary, numbering: Numbering, cited_by: dict[str, list[str]],
           edges: list[Edge]) -> Entry:
    cites: dict[int, Cite] = {}
    for (number, ref_id, locator), citation in zip(numbering.cite(rec), rec.citations):
        cited_by.setdefault(ref_id, []).append(rec.id)
        before = cites.get(number)
        if before is None:
            cites[number] = Cite(number, ref_id, locator, citation.note)
        else:  # the same source cited twice: one number, both locators and notes
            cites[number] = Cite(number, ref_id, _join(before.locator, locator), _join(before.note, citation.note))
    intervention = vocabulary.interventions.get(rec.action.target)
    target = intervention.label if intervention else rec.action.target
    action = f"{KIND_LABELS.get(rec.action.kind, rec.action.kind)}: {target}"
    if rec.action.level:
        action += f" ({rec.action.level})"
    dose = []
    for name, (low, high) in sorted(rec.action.dose.items()):
        parameter = intervention.dose.get(name) if intervention else None
        dose.append(f"{span(low, high, EN_DASH)} {parameter.unit if parameter else name}")
    if rec.action.exercises:
        dose.append("exercises: " + ", ".join(rec.action.exercises))
    condition = conditions.describe(rec.when)
    reviewed = rec.review.get("last_reviewed") or rec.review.get("approved_on")
    return Entry(
        rec=rec, status_label=STATUS_LABELS.get(rec.status, rec.status),
        strength=f"{rec.strength.capitalize()} recommendation {rec.direction}",
        certainty=rec.certainty.replace("-", " "), action=action, dose=tuple(dose),
        condition="everyone in the population" if condition == "always" else condition,
        population=rec.population,
        last_reviewed=str(reviewed) if reviewed else None, cites=tuple(cites[n] for n in sorted(cites)),
        relations=_relations(rec.id, edges))


def _join(first: str | None, second: str | None) -> str | None:
    return "; ".join(p for p in dict.fromkeys((first, second)) if p) or None


def _coverage(kb: KnowledgeBase, released: str) -> CoverageFigure:
    try:
        day = dt.date.fromisoformat(str(released))
    except ValueError:
        day = None
    try:
        matrix = coverage(kb, as_of=day)
    except ValueError as err:
        return CoverageFigure(None, f"No coverage matrix: {err}.", {}, {})
    letters = matrix.letters()
    topic_of = {rec.id: rec.topic for rec in kb.recommendations}
    by_topic = {(row, column, topic): tuple(i for i in cell.ids if topic_of.get(i) == topic)
                for (row, column), cell in matrix.cells.items() for topic in matrix.topics}
    when = f"in force on {day.isoformat()} (the release date)" if day else "in force today"
    return CoverageFigure(matrix, f"Topics with an approved recommendation {when} that applies, by "
                          f"{matrix.row_fact} and {matrix.column_fact}.", letters, by_topic)
