"""Derived facts: computed from other facts in dependency order (a topological sort of the
derivation graph), three-valued like everything else: a derived fact whose defining facts are
missing is itself missing, never guessed."""

from __future__ import annotations

from typing import Any, Mapping

from avn_kb.conditions import facts_of
from avn_kb.digraph import cyclic_nodes, topological_order
from avn_kb.model import DerivedFact, Vocabulary


def derivation_graph(vocabulary: Vocabulary) -> dict[str, set[str]]:
    """Edges from each fact to the derived facts defined from it."""
    graph: dict[str, set[str]] = {}
    for derived in vocabulary.derived.values():
        graph.setdefault(derived.name, set())
        for _, when in derived.cases:
            for fact in facts_of(when):
                graph.setdefault(fact, set()).add(derived.name)
    return graph


def compute_derivation_order(vocabulary: Vocabulary) -> tuple[DerivedFact, ...]:
    """Derived facts, each after the facts it depends on (a topological order of the derivation
    graph). Facts caught in a cycle, or depending on one, are left out: the validator reports the
    cycle, and the resolver then treats them as never known."""
    graph = derivation_graph(vocabulary)
    order = topological_order(graph)
    if order is None:
        blocked = cyclic_nodes(graph)
        order = topological_order({n: {t for t in targets if t not in blocked}
                                   for n, targets in graph.items() if n not in blocked}) or []
    return tuple(vocabulary.derived[name] for name in order if name in vocabulary.derived)


class _NoValue:
    """The value of a derived fact when every one of its cases is false and it has no `otherwise`:
    decided, and empty. Tests that want a value fail on it (`region is lower-limb` is false for a
    site no case names), tests that exclude values hold; it is never shown as a fact."""

    def __repr__(self) -> str:
        return "none"


NO_VALUE = _NoValue()


def _held(derived: DerivedFact, facts: Mapping[str, Any]) -> tuple[set[str], bool]:
    """The values of the cases that hold, and whether some case is still open (unknown)."""
    held, open_case = set(), False
    for value, check in derived.compiled_cases:
        result = check(facts)
        if result is True:
            held.add(value)
        elif result is None:
            open_case = True
    return held, open_case


def value_of(derived: DerivedFact, facts: Mapping[str, Any]) -> Any:
    """The derived value on these facts: the value of the cases that hold, whatever their order.
    None when no case holds yet and one might once a missing fact is known, or when cases with
    different values hold (the facts disagree: see `derive`). NO_VALUE when every case is false
    and there is no `otherwise`."""
    held, open_case = _held(derived, facts)
    if len(held) == 1:
        return next(iter(held))
    if held or open_case:
        return None
    return derived.otherwise if derived.otherwise is not None else NO_VALUE


def derive(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The case's facts plus every derived fact that can be decided, and the derived facts on which
    the case's facts disagree (ARCO IIIA with Ficat I, say), or whose value given directly differs
    from the one derived. A case with disagreements is refused: no single reading of it exists.
    Disagreement is monotone: once facts disagree, more facts cannot reconcile them. A derived fact
    the case gives directly (a clinician may know `collapse` without a stage) is kept as given."""
    result = {name: value for name, value in facts.items() if value is not None}
    problems = []
    for derived in vocabulary.derivation_order:
        held, open_case = _held(derived, result)
        if len(held) > 1:
            problems.append(f"the facts give {derived.name} more than one value ({', '.join(sorted(held))}): "
                            "correct the facts that disagree")
            continue
        given = result.get(derived.name)
        if given is not None:
            derived_value = next(iter(held)) if held else (None if open_case else derived.otherwise)
            if derived_value is not None and given != derived_value:
                problems.append(f"{derived.name} is given as {given} but the other facts give "
                                f"{derived_value}: correct one of them")
            continue
        if held:
            result[derived.name] = next(iter(held))
        elif not open_case:
            result[derived.name] = derived.otherwise if derived.otherwise is not None else NO_VALUE
    return result, problems


def disagreements(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> list[str]:
    """The problems `derive` finds: empty when the case's facts agree."""
    return derive(vocabulary, facts)[1]


def with_derived(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The case's facts plus every derived fact that can be decided (see `derive`)."""
    return derive(vocabulary, facts)[0]
