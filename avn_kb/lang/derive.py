"""Derived facts: computed from other facts in dependency order (a topological sort of the
derivation graph), three-valued like everything else: a derived fact whose defining facts are
missing is itself missing, never guessed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from avn_kb.lang.compiled import Check, compile_condition
from avn_kb.model.conditions import Condition, describe, facts_of
from avn_kb.model.display import value_text
from avn_kb.model.knowledge import DerivedFact, Vocabulary
from avn_kb.util.digraph import cyclic_nodes, topological_order
from avn_kb.util.memo import remembered


def derivation_graph(vocabulary: Vocabulary) -> dict[str, set[str]]:
    """Edges from each fact to the derived facts defined from it."""
    graph: dict[str, set[str]] = {}
    for derived in vocabulary.derived.values():
        graph.setdefault(derived.name, set())
        for _, when in derived.cases:
            for fact in facts_of(when):
                graph.setdefault(fact, set()).add(derived.name)
    return graph


def compiled_cases(derived: DerivedFact) -> tuple[tuple[str, Check], ...]:
    """The derived fact's cases with compiled conditions: derivation runs at every step of a case
    search (computed once per derived fact)."""
    return remembered(derived, "_compiled_cases",
                      lambda: tuple((value, compile_condition(when)) for value, when in derived.cases))


def definitions(vocabulary: Vocabulary) -> tuple[tuple[str, Condition, Check], ...]:
    """(fact, defined_for, its compiled check) for every fact, base or derived, that declares
    the cases it is defined for: checked at every step of a case search. A condition that does
    not fit the vocabulary is left out: the term checks report it, and a typo there must not
    refuse every case besides. Computed once per vocabulary."""
    return remembered(vocabulary, "_definitions", lambda: tuple(
        (fact.name, fact.defined_for, compile_condition(fact.defined_for))
        for fact in vocabulary.every_fact() if fact.defined_for is not None and vocabulary.fits(fact.defined_for)))


def derivation_order(vocabulary: Vocabulary) -> tuple[DerivedFact, ...]:
    """Derived facts in dependency order (computed once per vocabulary)."""
    return remembered(vocabulary, "_derivation_order", lambda: compute_derivation_order(vocabulary))


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
    for value, check in compiled_cases(derived):
        result = check(facts)
        if result is True:
            held.add(value)
        elif result is None:
            open_case = True
    return held, open_case


def derive(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The case's facts plus every derived fact that can be decided, and why the case is no real
    case: derived facts on which its facts disagree (see `derive_values`), and facts it gives (or
    derives) outside the cases they are defined for (see `outside_definitions`). Both are monotone:
    more facts never mend them, so a search may cut a branch at the first one."""
    result, problems = derive_values(vocabulary, facts)
    if definitions(vocabulary):
        problems.extend(message for _, message in outside_definitions(vocabulary, result, facts))
    return result, problems


def real_case(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """`derive`'s answer without its explanations, for the case search, which asks it at every
    step: the facts with the derived ones, and whether they make a real case (no disagreement, no
    fact outside the cases it is defined for)."""
    result, disagree = derive_values(vocabulary, facts)
    if disagree:
        return result, False
    return result, not any(_undefined(result, name, check) for name, _, check in definitions(vocabulary))


def _undefined(facts: Mapping[str, Any], name: str, check: Any) -> bool:
    """Whether the fact has a value on these facts while its `defined_for` (`check`) is false."""
    value = facts.get(name)
    return value is not None and value is not NO_VALUE and check(facts) is False


def derive_values(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The case's facts plus every derived fact that can be decided, and the derived facts on which
    the case's facts disagree (ARCO IIIA with Ficat I, say), or whose value given directly differs
    from the one derived. A case with disagreements is refused: no single reading of it exists.
    Disagreement is monotone: once facts disagree, more facts cannot reconcile them. A derived fact
    the case gives directly (a clinician may know `collapse` without a stage) is kept as given."""
    result = {name: value for name, value in facts.items() if value is not None}
    problems = []
    for derived in derivation_order(vocabulary):
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


def outside_definitions(vocabulary: Vocabulary, facts: Mapping[str, Any],
                        given: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(fact, message) for each fact that has a value on the case (`facts`, derived facts
    included) although its `defined_for` condition is false there; `given` (the case as written)
    says whether the value was given or derived. Unknown is no problem: a case that does not say
    enough to decide the condition is accepted. Kleene logic is monotone, so once false on a case
    the condition stays false on every extension of it."""
    found = []
    for name, condition, check in definitions(vocabulary):
        if not _undefined(facts, name, check):
            continue
        value = facts[name]
        has = ", ".join(f"{fact} {value_text(facts[fact])}" for fact in sorted(facts_of(condition)) if fact in facts)
        where = f"is defined only where {describe(condition)}" + (f", and this case has {has}" if has else "")
        if given.get(name) is not None:
            message = (f"{name} is given ({value_text(value)}) but {where}: remove {name} or give the fact defined "
                       "for such cases")
        else:
            message = f"{name} is derived as {value_text(value)} but {where}: correct the facts it is derived from"
        found.append((name, message))
    return found


def undefined_here(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> frozenset[str]:
    """The facts that this case cannot give: their `defined_for` is false on its facts (derived
    facts included, as `with_derived` gives them). Asking for one ("give arco_stage") would ask for
    a fact the case checks then refuse."""
    return frozenset(name for name, _, check in definitions(vocabulary) if check(facts) is False)


def disagreements(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> list[str]:
    """The derived facts on which the case's facts disagree (see `derive_values`): empty when
    they agree."""
    return derive_values(vocabulary, facts)[1]


def with_derived(vocabulary: Vocabulary, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The case's facts plus every derived fact that can be decided (see `derive`, whose facts
    these are: its explanations only read them, and are not written here)."""
    return derive_values(vocabulary, facts)[0]
