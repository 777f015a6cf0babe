"""Conditions compiled into closures, for the resolver's hot path.

`evaluate` walks a condition tree and dispatches on node type at every step; the resolver asks the
same conditions again for every case, so each is turned once into nested closures that do only the
work of its own node. The result is exactly `evaluate`'s three-valued answer (a property test
holds the two together); membership is a set lookup instead of a scan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from avn_kb.model.conditions import All, Condition, Not, Test, holds
from avn_kb.util.memo import Bounded, remembered

Check = Callable[[Mapping[str, Any]], "bool | None"]

# One closure for every condition of the same shape: a large knowledge base repeats the same
# tests and junctions in thousands of recommendations, and their closures were the largest part
# of a validation's memory (issue 17). Emptied when it grows past any knowledge base's needs.
_SHARED: Bounded[tuple[Any, ...], Check] = Bounded(65_536)


def compiled(condition: Condition) -> Check:
    """`compile_condition(condition)`, compiled once and kept on the condition: the searches ask
    the same conditions and their parts again for every question they are in."""
    return remembered(condition, "_compiled", lambda: compile_condition(condition))


def compile_condition(condition: Condition) -> Check:
    """A function of the facts giving True, False or None (unknown), as `evaluate` does; the one
    closure of every condition of its shape (`_SHARED`)."""
    if isinstance(condition, Test):
        # The values by their identity (the model shares one frozenset among the tests that list
        # the same values: avn_kb/model/conditions.py; the key keeps it alive, so the identity is
        # not reused meanwhile) and a range's bounds with their types: 1, 1.0 and True are equal
        # in a key, and a closure compares with the very values it was made with.
        low, high = condition.low, condition.high
        key: tuple[Any, ...] = ("test", condition.fact, condition.op, id(condition.values), condition.values,
                                type(low), low, type(high), high)
        found = _SHARED.get(key)
        return found if found is not None else _SHARED.keep(key, _compile_test(condition))
    if isinstance(condition, Not):
        inner = compiled(condition.part)
        key = ("not", inner)  # the parts' closures are shared: the key holds them, and so their identity
        found = _SHARED.get(key)
        return found if found is not None else _SHARED.keep(key, _negation(inner))
    parts = tuple(compiled(part) for part in condition.parts)
    if len(parts) == 1:
        return parts[0]
    decisive = not isinstance(condition, All)
    key = (decisive, parts)
    found = _SHARED.get(key)
    return found if found is not None else _SHARED.keep(key, _junction(parts, decisive))


def _negation(inner: Check) -> Check:
    def check(facts: Mapping[str, Any]) -> bool | None:
        result = inner(facts)
        return None if result is None else not result
    return check


def _junction(parts: tuple[Check, ...], decisive: bool) -> Check:
    """`all` (decisive False) or `any` (decisive True) in Kleene logic: the decisive value wins,
    else an unknown part leaves it unknown, else the other value (so an empty `all` holds)."""
    def check(facts: Mapping[str, Any]) -> bool | None:
        unknown = False
        for part in parts:
            result = part(facts)
            if result is decisive:
                return decisive
            if result is None:
                unknown = True
        return None if unknown else not decisive
    return check


def _compile_test(test: Test) -> Check:
    fact = test.fact
    if test.op in ("in", "not_in"):
        member = _membership(test.values)
        wanted = test.op == "in"

        def check_member(facts: Mapping[str, Any]) -> bool | None:
            value = facts.get(fact)
            if value is None:
                return None
            return member(value) is wanted
        return check_member
    if test.op == "range":
        low, high = test.low, test.high

        def check_range(facts: Mapping[str, Any]) -> bool | None:
            value = facts.get(fact)
            if value is None:
                return None
            kind = type(value)
            if kind is not int and kind is not float:
                return holds(test, value)  # bools, subclasses and non-numbers: the reference rule
            return (low is None or value >= low) and (high is None or value <= high)
        return check_range

    def check_other(facts: Mapping[str, Any]) -> bool | None:
        value = facts.get(fact)
        return None if value is None else holds(test, value)
    return check_other


def _membership(values: frozenset[Any]) -> Callable[[Any], bool]:
    """`value in values` where a boolean matches only a boolean (True == 1 in a Python set)."""
    booleans = frozenset(v for v in values if isinstance(v, bool))
    others = frozenset(v for v in values if not isinstance(v, bool))

    def member(value: Any) -> bool:
        if value is True or value is False:
            return value in booleans
        try:
            return value in others
        except TypeError:  # an unhashable value (a list given for an enum fact) equals no value
            return any(value == v for v in others)
    return member
