"""Lay out the overrides / supersedes graph in layers, with no external tool: a recommendation that
overrides or supersedes another sits above it. Layers are the topological generations (graphlib's
ready batches; for a cycle, which the validator reports, those of networkx's condensation so that
the picture still draws); within a layer, nodes are ordered by the mean position of their parents
to keep crossings few."""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from avn_kb.output.graph import Edge, Graph, Node, links

NODE_WIDTH, NODE_HEIGHT = 132, 40
GAP_X, GAP_Y, MARGIN = 28, 56, 16


@dataclass(frozen=True)
class Placed:
    """A node of the knowledge base's graph (avn_kb.output.graph) with where it is drawn."""

    node: Node
    x: float  # top-left corner
    y: float

    @property
    def id(self) -> str:
        return self.node.id

    @property
    def title(self) -> str:
        return self.node.title

    @property
    def status(self) -> str | None:
        """None: named by a link but not in the knowledge base."""
        return None if self.node.status == "missing" else self.node.status


@dataclass(frozen=True)
class Layout:
    nodes: tuple[Placed, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float

    def node(self, key: str) -> Placed:
        """The placed node of a node key (an edge's source or target)."""
        return next(n for n in self.nodes if n.node.key == key)


def layout(graph: Graph) -> Layout:
    """Positions for the recommendations that take part in an overrides or supersedes link."""
    edges = links(graph)
    if not edges:
        return Layout((), (), 0, 0)
    parents: dict[str, set[str]] = {}
    for edge in edges:
        parents.setdefault(edge.source, set())
        parents.setdefault(edge.target, set()).add(edge.source)
    layers = _ordered(_generations(parents), parents)
    by_key = {node.key: node for node in graph.nodes}
    widest = max(len(layer) for layer in layers)
    width = 2 * MARGIN + widest * NODE_WIDTH + (widest - 1) * GAP_X
    nodes = []
    for depth, layer in enumerate(layers):
        span = len(layer) * NODE_WIDTH + (len(layer) - 1) * GAP_X
        left = (width - span) / 2
        for i, key in enumerate(layer):
            nodes.append(Placed(by_key[key], left + i * (NODE_WIDTH + GAP_X), MARGIN + depth * (NODE_HEIGHT + GAP_Y)))
    height = 2 * MARGIN + len(layers) * NODE_HEIGHT + (len(layers) - 1) * GAP_Y
    return Layout(tuple(nodes), tuple(edges), width, height)


def _generations(parents: dict[str, set[str]]) -> list[list[str]]:
    """Nodes by topological generation: each after every node pointing to it."""
    sorter = TopologicalSorter(parents)
    try:
        sorter.prepare()
    except CycleError:
        return _generations_with_cycles(parents)
    generations = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        generations.append(ready)
        sorter.done(*ready)
    return generations


def _generations_with_cycles(parents: dict[str, set[str]]) -> list[list[str]]:
    # Only a broken knowledge base gets here, so networkx is imported here and not at start-up.
    import networkx as nx

    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(parents)
    graph.add_edges_from((source, node) for node, sources in parents.items() for source in sources)
    condensed = nx.condensation(graph)
    members = condensed.graph["mapping"]  # node -> component
    return [sorted(n for n in graph if members[n] in generation)
            for generation in nx.topological_generations(condensed)]


def _ordered(generations: list[list[str]], parents: dict[str, set[str]]) -> list[list[str]]:
    """Each layer sorted by the mean position of its parents in the layers above (then by id)."""
    position: dict[str, float] = {}
    layers = []
    for generation in generations:
        above = {n: [position[p] for p in parents[n] if p in position] for n in generation}
        layer = sorted(generation, key=lambda n: (sum(above[n]) / len(above[n]) if above[n] else -1.0, n))
        position.update({n: float(i) for i, n in enumerate(layer)})
        layers.append(layer)
    return layers
