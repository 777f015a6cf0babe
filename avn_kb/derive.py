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
    """The derived value on these facts: the value of the cases that hold, whatever their order.
    None when no case holds yet and one might once a missing fact is known, when cases with
    different values hold (the facts disagree: see `disagreements`), or when none holds and there
    is no `otherwise`."""
    held, open_case = set(), False
    for value, when in derived.cases:
        result = evaluate(when, facts)
        if result is True:
            held.add(value)
        elif result is None:
            open_case = True
    if len(held) == 1:
        return next(iter(held))
    if held or open_case:
        return None
    return derived.otherwise


def disagreements(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> list[str]:
    """Derived facts on which the case's facts disagree (ARCO IIIA with Ficat I, say), or whose
    value given directly differs from the one derived. Such a case is refused: no single reading
    of it exists. Agreement is monotone: once facts disagree, more facts cannot reconcile them."""
    problems = []
    known = {name: value for name, value in facts.items() if value is not None}
    for derived in vocabulary.derivation_order:
        held = {}
        for value, when in derived.cases:
            if evaluate(when, known) is True:
                held.setdefault(value, when)
        if len(held) > 1:
            problems.append(f"the facts give {derived.name} more than one value ({', '.join(sorted(held))}): "
                            "correct the facts that disagree")
        elif len(held) == 1 and derived.name in known and known[derived.name] not in held:
            problems.append(f"{derived.name} is given as {known[derived.name]} but the other facts give "
                            f"{next(iter(held))}: correct one of them")
        if derived.name not in known and len(held) == 1:
            known[derived.name] = next(iter(held))
    return problems


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
