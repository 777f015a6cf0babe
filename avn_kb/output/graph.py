"""The overrides, supersedes and citation graph of a knowledge base, drawn as Graphviz DOT or
Mermaid. Nodes are recommendations (with their status) and references; edges are labelled
`overrides`, `supersedes` or `cites`. A target that does not exist (a finding for validate) is
still drawn, as a `missing` node, so the picture shows the broken link instead of hiding it.
Knowledge text is escaped for each format: a title can never break out of its label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.citations import authors, year

TITLE_WIDTH = 48
RELATIONS = ("overrides", "supersedes", "cites")
LINKS = ("overrides", "supersedes")  # between recommendations
MISSING_TITLE = "not in the knowledge base"


@dataclass(frozen=True)
class Node:
    key: str  # unique across kinds: "rec:RT-001", "ref:mont-1996"
    kind: str  # recommendation, reference
    id: str
    status: str  # a recommendation status, "reference", or "missing"
    lines: tuple[str, ...]  # the label, line by line (plain text, unescaped)
    title: str = ""  # in full (the label shortens it)


@dataclass(frozen=True)
class Edge:
    source: str  # a node key
    target: str
    relation: str  # one of RELATIONS

    @property
    def source_id(self) -> str:
        return self.source.partition(":")[2]

    @property
    def target_id(self) -> str:
        return self.target.partition(":")[2]


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    notes: tuple[str, ...] = ()  # avn_kb.output.notices, written as comments at the top


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_WIDTH else text[: TITLE_WIDTH - 1].rstrip() + "…"


def graph_of(kb: KnowledgeBase, notes: tuple[str, ...] = ()) -> Graph:
    """Nodes in knowledge-base order (recommendations, then references, then missing targets);
    `notes` to write at the top."""
    nodes = {f"rec:{r.id}": Node(f"rec:{r.id}", "recommendation", r.id, r.status, (r.id, r.status, _short(r.title)),
                                 r.title)
             for r in kb.recommendations}
    for ref in kb.references:
        who = authors(ref.csl).split(",")[0]
        nodes[f"ref:{ref.id}"] = Node(f"ref:{ref.id}", "reference", ref.id, "reference",
                                      (ref.id, _short(f"{who} {year(ref.csl)}" if who else ref.title)), ref.title)
    edges: dict[Edge, None] = {}  # ordered and deduplicated in one step (a list search is quadratic)
    missing: dict[str, Node] = {}
    for rec in kb.recommendations:
        targets = ([("rec", t, "overrides") for t in rec.overrides] + [("rec", t, "supersedes") for t in rec.supersedes]
                   + [("ref", c.ref, "cites") for c in rec.citations])
        for prefix, target, relation in targets:
            key = f"{prefix}:{target}"
            if key not in nodes and key not in missing:
                kind = "recommendation" if prefix == "rec" else "reference"
                missing[key] = Node(key, kind, target, "missing", (target, "missing"), MISSING_TITLE)
            # The same reference cited twice is one edge.
            edges.setdefault(Edge(f"rec:{rec.id}", key, relation))
    return Graph(tuple(nodes.values()) + tuple(missing.values()), tuple(edges), notes)


def links(graph: Graph) -> list[Edge]:
    """The overrides and supersedes edges, in knowledge-base order."""
    return [edge for edge in graph.edges if edge.relation in LINKS]


# --- Graphviz DOT -------------------------------------------------------------------------------

DOT_STYLE = {
    "approved": 'shape=box, style="rounded,filled", fillcolor="#d8f0d8"',
    "retired": 'shape=box, style="rounded,dashed", color="#888888", fontcolor="#666666"',
    "draft": 'shape=box, style="rounded,filled", fillcolor="#fff3c4"',
    "submitted": 'shape=box, style="rounded,filled", fillcolor="#fff3c4"',
    "under-review": 'shape=box, style="rounded,filled", fillcolor="#fff3c4"',
    "reference": 'shape=note, fillcolor="#eef2ff", style=filled',
    "missing": 'shape=box, style="dotted", color="#cc0000", fontcolor="#cc0000"',
}
DOT_EDGE = {"overrides": 'color="#cc6600"', "supersedes": 'style=bold', "cites": 'style=dashed, color="#7777aa"'}


def dot_string(text: str) -> str:
    """A DOT double-quoted string: backslash and quote escaped (a lone backslash would otherwise
    start an escape such as \\N or \\l), line breaks as the centred \\n escape."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n") + '"'


def render_dot(graph: Graph, name: str = "avn_kb") -> str:
    lines = [f"// {' '.join(note.split())}" for note in graph.notes]
    lines += [f"digraph {dot_string(name)} {{", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for node in graph.nodes:
        lines.append(f"  {dot_string(node.key)} [label={dot_string(chr(10).join(node.lines))}, "
                     f"{DOT_STYLE.get(node.status, DOT_STYLE['draft'])}];")
    for edge in graph.edges:
        lines.append(f"  {dot_string(edge.source)} -> {dot_string(edge.target)} "
                     f"[label={dot_string(edge.relation)}, {DOT_EDGE[edge.relation]}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- Mermaid ------------------------------------------------------------------------------------

_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:/'+-_?!%")
MERMAID_CLASS = {
    "approved": "fill:#d8f0d8,stroke:#2e7d32",
    "retired": "fill:#f4f4f4,stroke:#888888,stroke-dasharray:4 3,color:#666666",
    "draft": "fill:#fff3c4,stroke:#b08800",
    "reference": "fill:#eef2ff,stroke:#5560aa",
    "missing": "fill:#ffffff,stroke:#cc0000,stroke-dasharray:2 2,color:#cc0000",
}


def mermaid_text(text: str) -> str:
    """Label text for a Mermaid quoted label: anything outside a small safe set becomes a
    numeric entity (#34; for a quote), so quotes, brackets, HTML and Markdown stay literal."""
    return "".join(c if c in _MERMAID_SAFE else f"#{ord(c)};" for c in " ".join(text.split()))


def _mermaid_class(status: str) -> str:
    return status if status in MERMAID_CLASS else "draft"  # submitted, under-review: still drafts


def render_mermaid(graph: Graph) -> str:
    # Node ids are generated: knowledge ids like RT-001 contain dashes, which Mermaid may read as
    # part of an arrow.
    ids = {node.key: f"n{index}" for index, node in enumerate(graph.nodes, start=1)}
    lines = [f"%% {' '.join(note.split())}" for note in graph.notes] + ["flowchart LR"]
    for node in graph.nodes:
        label = "<br/>".join(mermaid_text(line) for line in node.lines)
        lines.append(f'  {ids[node.key]}["{label}"]' if node.kind == "recommendation"
                     else f'  {ids[node.key]}[/"{label}"/]')
    for edge in graph.edges:
        arrow = "-.->" if edge.relation == "cites" else "==>" if edge.relation == "supersedes" else "-->"
        lines.append(f"  {ids[edge.source]} {arrow}|{edge.relation}| {ids[edge.target]}")
    for status, style in MERMAID_CLASS.items():
        members = [ids[n.key] for n in graph.nodes if _mermaid_class(n.status) == status]
        if members:
            lines += [f"  classDef {status} {style}", f"  class {','.join(members)} {status}"]
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[Graph], str]] = {"dot": render_dot, "mermaid": render_mermaid}
