"""Derived facts: computed from other facts in dependency order (a topological sort of the
derivation graph), three-valued like everything else: a derived fact whose defining facts are
missing is itself missing, never guessed."""

from __future__ import annotations

from typing import Any, Mapping

import networkx as nx

from avn_kb.conditions import evaluate, facts_of
from avn_kb.model import DerivedFact, Vocabulary


def derivation_graph(vocabulary: Vocabulary) -> "nx.DiGraph[str]":
    """Edges from each fact to the derived facts defined from it."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    for derived in vocabulary.derived.values():
        graph.add_node(derived.name)
        for _, when in derived.cases:
            for fact in facts_of(when):
                graph.add_edge(fact, derived.name)
    return graph


def compute_derivation_order(vocabulary: Vocabulary) -> tuple[DerivedFact, ...]:
    """Derived facts, each after the facts it depends on. Facts caught in a cycle are left out
    (the validator reports the cycle; the resolver then treats them as never known)."""
    graph = derivation_graph(vocabulary)
    cyclic: set[str] = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
            cyclic |= component
    acyclic = graph.subgraph(n for n in graph if n not in cyclic)
    order = [n for n in nx.lexicographical_topological_sort(acyclic) if n in vocabulary.derived]
    blocked = {n for c in cyclic for n in nx.descendants(graph, c)} | cyclic
    return tuple(vocabulary.derived[n] for n in order if n not in blocked)


def value_of(derived: DerivedFact, facts: Mapping[str, Any]) -> Any:
    """The derived value on these facts, or None when it cannot be decided (or no case holds and
    there is no `otherwise`)."""
    for value, when in derived.cases:
        result = evaluate(when, facts)
        if result is True:
            return value
        if result is None:
            return None  # an earlier case might still hold once the missing fact is known
    return derived.otherwise


def with_derived(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The case's facts plus every derived fact that can be decided. A derived fact the case gives
    directly (a clinician may know `collapse` without a stage) is kept as given."""
    result = {name: value for name, value in facts.items() if value is not None}
    for derived in vocabulary.derivation_order:
        if derived.name in result:
            continue
        value = value_of(derived, result)
        if value is not None:
            result[derived.name] = value
    return result
