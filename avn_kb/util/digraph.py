"""Directed graphs as plain adjacency mappings, for the hot paths.

networkx gives the validator its graph analyses (strongly connected components, cycle paths), but
importing it costs about 0.35 s on a 2-core machine: more than the whole budget of a pre-commit
validation. So the checks that run on every call use the standard library's graphlib to order a
graph and to learn whether it has a cycle at all, and networkx is imported only when there is a
cycle to describe (docs/performance.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter

Graph = Mapping[str, Iterable[str]]  # node -> the nodes it points to


def predecessors(graph: Graph) -> dict[str, set[str]]:
    """node -> the nodes pointing to it (every node of the graph present)."""
    result: dict[str, set[str]] = {node: set() for node in graph}
    for node, targets in graph.items():
        for target in targets:
            result.setdefault(target, set()).add(node)
    return result


def topological_order(graph: Graph) -> list[str] | None:
    """Nodes with every edge's source before its target (ties broken by name), or None when the
    graph has a cycle."""
    sorter = TopologicalSorter({node: sorted(sources) for node, sources in predecessors(graph).items()})
    try:
        sorter.prepare()
    except CycleError:
        return None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def reachable(graph: Graph, start: str, goal: str) -> bool:
    """Whether a path leads from `start` to `goal`."""
    seen, pending = {start}, [start]
    while pending:
        node = pending.pop()
        if node == goal:
            return True
        for target in graph.get(node, ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return False


def has_cycle(graph: Graph) -> bool:
    """Whether some path leads from a node back to it."""
    # The sorter reads each node's targets as its predecessors: every edge reversed, which keeps
    # every cycle (and no order is needed, only its check).
    try:
        TopologicalSorter(graph).prepare()
    except CycleError:
        return True
    return False


def cycles(graph: Graph) -> list[list[str]]:
    """One closed path per strongly connected component that has a cycle (networkx, imported
    only when there is one)."""
    if not has_cycle(graph):
        return []
    import networkx as nx

    nx_graph: nx.DiGraph[str] = nx.DiGraph()
    nx_graph.add_nodes_from(graph)
    nx_graph.add_edges_from((a, b) for a, targets in graph.items() for b in targets)
    found = []
    for component in sorted(nx.strongly_connected_components(nx_graph), key=sorted):
        first = min(component)
        if len(component) == 1 and not nx_graph.has_edge(first, first):
            continue
        edges = nx.find_cycle(nx_graph.subgraph(component), source=first)
        found.append([edge[0] for edge in edges] + [edges[0][0]])
    return found


def cyclic_nodes(graph: Graph) -> set[str]:
    """Nodes on a cycle, and every node reachable from one."""
    on_cycle = {node for cycle in cycles(graph) for node in cycle}
    blocked = set(on_cycle)
    for node in on_cycle:
        blocked |= {n for n in graph if reachable(graph, node, n)}
    return blocked
