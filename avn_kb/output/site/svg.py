"""The overrides / supersedes graph as inline SVG, drawn from a Layout: boxes coloured by status
that link to their recommendation, solid arrows for overrides, dashed for supersedes."""

from __future__ import annotations

from html import escape

from avn_kb.output.graph import Edge
from avn_kb.output.site.layout import NODE_HEIGHT, NODE_WIDTH, Layout, Placed

STATUS_STROKE = {"approved": "var(--approved)", "draft": "var(--draft)", "submitted": "var(--review)",
                 "under-review": "var(--review)", "retired": "var(--retired)"}


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _node(node: Placed) -> str:
    stroke = STATUS_STROKE.get(node.status or "", "var(--t5)")
    status = node.status.replace("-", " ") if node.status else "missing"
    box = (f'<rect x="{_num(node.x)}" y="{_num(node.y)}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6" '
           f'style="stroke: {stroke}"/>'
           f'<text class="id" x="{_num(node.x + NODE_WIDTH / 2)}" y="{_num(node.y + 17)}" '
           f'text-anchor="middle">{escape(node.id)}</text>'
           f'<text x="{_num(node.x + NODE_WIDTH / 2)}" y="{_num(node.y + 32)}" text-anchor="middle">'
           f'{escape(status)}</text>')
    tooltip = f"<title>{escape(node.id)}: {escape(node.title)}</title>"
    if node.status is None:
        return f'<g class="node missing">{tooltip}{box}</g>'
    return f'<a class="node" href="#rec-{escape(node.id)}">{tooltip}{box}</a>'


def _port(node: Placed, index: int, count: int) -> float:
    """x of the index-th of count edges meeting a box side: spread over its middle half."""
    return node.x + NODE_WIDTH / 2 + (index - (count - 1) / 2) * min(NODE_WIDTH / 2 / max(count - 1, 1), 24)


def _edge(layout: Layout, edge: Edge) -> str:
    a, b = layout.node(edge.source), layout.node(edge.target)
    outgoing = [e for e in layout.edges if e.source == edge.source]
    incoming = [e for e in layout.edges if e.target == edge.target]
    x1 = _port(a, outgoing.index(edge), len(outgoing))
    x2 = _port(b, incoming.index(edge), len(incoming))
    if b.y > a.y:  # downwards, bottom side to top side
        y1, y2 = a.y + NODE_HEIGHT, b.y - 2
        middle = (y1 + y2) / 2
        path = f"M{_num(x1)},{_num(y1)} C{_num(x1)},{_num(middle)} {_num(x2)},{_num(middle)} {_num(x2)},{_num(y2)}"
    else:  # same layer or upwards (only in a cycle): arc above the boxes
        y1, y2 = a.y, b.y - 2
        path = f"M{_num(x1)},{_num(y1)} C{_num(x1)},{_num(y1 - 30)} {_num(x2)},{_num(y2 - 30)} {_num(x2)},{_num(y2)}"
    label = f"{edge.source_id} {edge.relation} {edge.target_id}"
    return (f'<path class="edge {edge.relation}" d="{path}" marker-end="url(#arrow-{edge.relation})">'
            f"<title>{escape(label)}</title></path>")


def render(layout: Layout) -> str:
    """The SVG element, or an empty string when no recommendation overrides or supersedes another."""
    if not layout.nodes:
        return ""
    markers = "".join(
        f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" style="fill: {colour}"/></marker>'
        for kind, colour in (("overrides", "var(--ink)"), ("supersedes", "var(--muted)")))
    # Arcs of a cycle rise above the first layer: leave room for them.
    top = -40 if any(layout.node(e.target).y <= layout.node(e.source).y for e in layout.edges) else 0
    parts = [f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'viewBox="0 {top} {_num(layout.width)} {_num(layout.height - top)}" '
             f'width="{_num(layout.width)}" height="{_num(layout.height - top)}" '
             f'aria-labelledby="graph-title"><title id="graph-title">Which recommendations override or '
             f'supersede which</title><defs>{markers}</defs>']
    parts += [_edge(layout, edge) for edge in layout.edges]
    parts += [_node(node) for node in layout.nodes]
    parts.append("</svg>")
    return "\n".join(parts)
