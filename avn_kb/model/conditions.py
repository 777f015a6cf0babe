"""The condition language: structured data, never an evaluated string.

A condition is a mapping whose keys are fact names (each with a predicate) or the combinators
`all`, `any` and `not`; several keys in one mapping must all hold. Predicates: a bare value or
`is` (enum, boolean), `in` / `not_in` (enum), `has` / `lacks` (set), `min` / `max` (number,
inclusive). Evaluation is three-valued (Kleene): a missing fact makes a test unknown, never false.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from avn_kb.model.types import Operator
from avn_kb.util.memo import Bounded

Pointer = tuple[Any, ...]

# The tests (Test.op) that fit each type of fact; derived facts are enums.
OPS_BY_TYPE = {"enum": {"in", "not_in"}, "boolean": {"in"}, "set": {"has", "lacks"}, "number": {"range"}}


@dataclass(frozen=True)
class Test:
    """One predicate on one fact. `op` is in, not_in, has, lacks or range."""

    fact: str
    op: Operator
    values: frozenset[Any] = frozenset()
    low: float | None = None
    high: float | None = None
    pointer: Pointer = ()

    def describe(self) -> str:
        if self.op == "range":
            if self.low is not None and self.high is not None:
                return f"{self.fact} between {_num(self.low)} and {_num(self.high)}"
            return f"{self.fact} >= {_num(self.low)}" if self.low is not None else f"{self.fact} <= {_num(self.high)}"
        shown = ", ".join(sorted(_show(v) for v in self.values))
        if self.op == "in":
            return f"{self.fact} is {shown}" if len(self.values) == 1 else f"{self.fact} in [{shown}]"
        if self.op == "not_in":
            return f"{self.fact} not in [{shown}]"
        return f"{self.fact} {self.op} {shown}"


@dataclass(frozen=True)
class All:
    parts: tuple[Condition, ...]
    pointer: Pointer = ()


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]
    pointer: Pointer = ()


@dataclass(frozen=True)
class Not:
    part: Condition
    pointer: Pointer = ()


Condition = Test | All | AnyOf | Not
ALWAYS = All(())


def shape(condition: Condition) -> tuple[Any, ...]:
    """The condition without where it was written: equal for two conditions that say the same in
    the same structure, wherever they stand in their files (what a version comparison needs)."""
    if isinstance(condition, Test):
        return ("test", condition.fact, condition.op, tuple(sorted(map(repr, condition.values))),
                condition.low, condition.high)
    if isinstance(condition, Not):
        return ("not", shape(condition.part))
    return ("all" if isinstance(condition, All) else "any", tuple(shape(p) for p in condition.parts))


def _num(value: float | None) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# One frozenset for every test that lists the same values in the same order: a knowledge base
# repeats a few dozen sets in thousands of tests (docs/performance.md, "Locating findings and
# memory"). Keyed by the values' reprs, so True, 1 and 1.0 stay apart; emptied when it grows past
# any vocabulary's needs.
_SETS: Bounded[tuple[str, ...], frozenset[Any]] = Bounded(65_536)


def _values(items: Iterable[Any]) -> frozenset[Any]:
    items = tuple(items)
    key = tuple(map(repr, items))
    found = _SETS.get(key)
    return found if found is not None else _SETS.keep(key, frozenset(items))


def parse(raw: Any, pointer: Pointer = ()) -> Condition:
    """Turn a schema-valid condition mapping into its tree; `pointer` locates it in its file."""
    if not isinstance(raw, Mapping):
        return ALWAYS
    parts: list[Condition] = []
    for key, value in raw.items():
        if type(key) is str:
            key = sys.intern(key)  # fact names and operators, in every test's pointer
        here = pointer + (key,)
        if key == "all":
            parts.append(All(tuple(parse(v, here + (i,)) for i, v in enumerate(value or [])), here))
        elif key == "any":
            parts.append(AnyOf(tuple(parse(v, here + (i,)) for i, v in enumerate(value or [])), here))
        elif key == "not":
            parts.append(Not(parse(value, here), here))
        else:
            parts.extend(_tests(key, value, here))
    return parts[0] if len(parts) == 1 else All(tuple(parts), pointer)


def _tests(fact: str, predicate: Any, pointer: Pointer) -> Iterator[Test]:
    if not isinstance(predicate, Mapping):
        yield Test(fact, "in", _values((predicate,)), pointer=pointer)
        return
    if "is" in predicate:
        yield Test(fact, "in", _values((predicate["is"],)), pointer=pointer + ("is",))
    if "in" in predicate:
        yield Test(fact, "in", _values(predicate["in"]), pointer=pointer + ("in",))
    if "not_in" in predicate:
        yield Test(fact, "not_in", _values(predicate["not_in"]), pointer=pointer + ("not_in",))
    if "has" in predicate:
        yield Test(fact, "has", _values((predicate["has"],)), pointer=pointer + ("has",))
    if "lacks" in predicate:
        yield Test(fact, "lacks", _values((predicate["lacks"],)), pointer=pointer + ("lacks",))
    if "min" in predicate or "max" in predicate:
        where = pointer + (("min",) if "min" in predicate else ("max",))
        yield Test(fact, "range", low=predicate.get("min"), high=predicate.get("max"), pointer=where)


def tests(condition: Condition) -> Iterator[Test]:
    """Every fact test in the condition, depth first."""
    if isinstance(condition, Test):
        yield condition
    elif isinstance(condition, Not):
        yield from tests(condition.part)
    else:
        for part in condition.parts:
            yield from tests(part)


def conjuncts(condition: Condition) -> Iterator[Condition]:
    """The top-level conjuncts of a condition (nested `all`s flattened): each must hold."""
    if isinstance(condition, All):
        for part in condition.parts:
            yield from conjuncts(part)
    else:
        yield condition


def facts_of(condition: Condition) -> frozenset[str]:
    """The facts a condition reads."""
    return frozenset(t.fact for t in tests(condition))


def holds(test: Test, value: Any) -> bool:
    """Whether a test holds for a known value of its fact."""
    op = test.op
    if op == "in":
        return _member(value, test.values)
    if op == "not_in":
        return not _member(value, test.values)
    if op == "has":
        return bool(test.values & _as_set(value))
    if op == "lacks":
        return not (test.values & _as_set(value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (test.low is None or value >= test.low) and (test.high is None or value <= test.high)


def _member(value: Any, values: frozenset[Any]) -> bool:
    # True == 1 in Python sets; a boolean must only match a boolean.
    return any(value == v and isinstance(value, bool) == isinstance(v, bool) for v in values)


def _as_set(value: Any) -> frozenset[Any]:
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(value)
    return frozenset([value])


def evaluate(condition: Condition, facts: Mapping[str, Any]) -> bool | None:
    """Three-valued truth of a condition on a case: None when a missing fact leaves it open."""
    if isinstance(condition, Test):
        value = facts.get(condition.fact)
        return None if value is None else holds(condition, value)
    if isinstance(condition, Not):
        inner = evaluate(condition.part, facts)
        return None if inner is None else not inner
    # `all` and `any` in Kleene logic: the decisive value (False for all, True for any) wins, else
    # an unknown part leaves it unknown, else the other value (so an empty `all` holds).
    decisive = not isinstance(condition, All)
    unknown = False
    for part in condition.parts:
        result = evaluate(part, facts)
        if result is decisive:
            return decisive
        unknown = unknown or result is None
    return None if unknown else not decisive


def describe(condition: Condition) -> str:
    """A readable one-line form of a condition."""
    if isinstance(condition, Test):
        return condition.describe()
    if isinstance(condition, Not):
        return f"not ({describe(condition.part)})"
    if not condition.parts:
        return "always"
    joiner = " and " if isinstance(condition, All) else " or "
    inner = joiner.join(describe(p) if isinstance(p, Test) else f"({describe(p)})" for p in condition.parts)
    return inner
