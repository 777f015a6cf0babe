"""Hypothesis strategies: small knowledge bases (as model objects, conditions written as the YAML
mappings editors write and read with avn_kb.model.conditions.parse), patient cases over them, and byte
mutations of knowledge files.

The generated vocabularies are deliberately small (2-3 enum facts, a set fact with 2 elements, a
number fact whose conditions only use the thresholds 2, 5 and 8, optionally a derived fact) so that
a test can enumerate every case by brute force.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from avn_kb.model.conditions import parse
from avn_kb.model.knowledge import (
    Action,
    DerivedFact,
    DoseParameter,
    Fact,
    Intervention,
    KnowledgeBase,
    Recommendation,
    Vocabulary,
)

ENUMS = {"e1": ("a", "b", "c"), "e2": ("a", "b"), "e3": ("a", "b", "c")}
SET_FACT, SET_VALUES = "s", ("x", "y")
NUMBER_FACT, NUMBER_LOW, NUMBER_HIGH = "n", 0, 10
THRESHOLDS = (2, 5, 8)
DERIVED, DERIVED_VALUES = "d", ("p", "q")
STATUSES = ("draft", "submitted", "under-review", "approved", "retired")
# t1 takes levels, t2 a dose: two more ways for actions on one target to contradict.
INTERVENTIONS = {
    "t1": Intervention("t1", "Target one", levels=("l1", "l2")),
    "t2": Intervention("t2", "Target two", dose={"reps": DoseParameter("reps", "repetitions", 1, 10)}),
}


@dataclass(frozen=True)
class Shape:
    """Which optional facts a generated vocabulary has; the derived fact as (value, condition
    mapping) cases and its `otherwise`."""

    enums: tuple[str, ...]
    integer: bool
    derived_cases: tuple[tuple[str, Any], ...] = ()
    otherwise: str | None = None

    @property
    def derived(self) -> DerivedFact | None:
        if not self.derived_cases:
            return None
        return DerivedFact(DERIVED, "Derived", DERIVED_VALUES,
                           tuple((value, parse(when)) for value, when in self.derived_cases), otherwise=self.otherwise)

    @property
    def tested(self) -> tuple[str, ...]:
        """Every fact a condition may test."""
        return (*self.enums, SET_FACT, NUMBER_FACT, *((DERIVED,) if self.derived else ()))


def vocabulary_of(shape: Shape) -> Vocabulary:
    facts = {name: Fact(name, "enum", name.upper(), values=ENUMS[name]) for name in shape.enums}
    facts[SET_FACT] = Fact(SET_FACT, "set", "Set", values=SET_VALUES)
    facts[NUMBER_FACT] = Fact(NUMBER_FACT, "number", "Number", unit="u", low=NUMBER_LOW, high=NUMBER_HIGH,
                              integer=shape.integer)
    derived = {DERIVED: shape.derived} if shape.derived else {}
    return Vocabulary(facts=facts, derived=derived, interventions=INTERVENTIONS)


def _enum_test(enums: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    def predicates(fact: str) -> st.SearchStrategy[dict[str, Any]]:
        subsets = st.lists(st.sampled_from(ENUMS[fact]), min_size=1, max_size=len(ENUMS[fact]), unique=True)
        return st.one_of(
            st.sampled_from(ENUMS[fact]).map(lambda v: {fact: v}),
            subsets.map(lambda vs: {fact: {"in": vs}}),
            subsets.map(lambda vs: {fact: {"not_in": vs}}),
            st.tuples(subsets, subsets).map(lambda p: {fact: {"in": p[0], "not_in": p[1]}}),
        )
    return st.sampled_from(enums).flatmap(predicates)


def _set_test() -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(st.sampled_from(("has", "lacks")), st.sampled_from(SET_VALUES)).map(
        lambda p: {SET_FACT: {p[0]: p[1]}})


def _number_test() -> st.SearchStrategy[dict[str, Any]]:
    bound = st.sampled_from(THRESHOLDS)
    return st.one_of(
        bound.map(lambda b: {NUMBER_FACT: {"min": b}}),
        bound.map(lambda b: {NUMBER_FACT: {"max": b}}),
        st.tuples(bound, bound).map(lambda p: {NUMBER_FACT: {"min": p[0], "max": p[1]}}),
    )


def _derived_test() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.sampled_from(DERIVED_VALUES).map(lambda v: {DERIVED: v}),
        st.sampled_from(DERIVED_VALUES).map(lambda v: {DERIVED: {"not_in": [v]}}),
    )


def raw_conditions(enums: tuple[str, ...], with_derived: bool, max_leaves: int = 6) -> st.SearchStrategy[dict[str, Any]]:
    """Condition mappings as an editor writes them: tests, several keys, all / any / not."""
    leaves = [_enum_test(enums), _set_test(), _number_test()] + ([_derived_test()] if with_derived else [])
    leaf = st.one_of(*leaves)

    def merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
        merged_parts: dict[str, Any] = {}
        for part in parts:
            if set(part) & set(merged_parts):
                return {"all": parts}
            merged_parts.update(part)
        return merged_parts

    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda ps: {"all": ps}),
        st.lists(inner, min_size=1, max_size=3).map(lambda ps: {"any": ps}),
        inner.map(lambda p: {"not": p}),
        st.lists(inner, min_size=2, max_size=2).map(merged),
    ), max_leaves=max_leaves)


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    enums = ("e1", "e2", "e3") if draw(st.booleans()) else ("e1", "e2")
    cases: tuple[tuple[str, Any], ...] = ()
    otherwise = None
    if draw(st.booleans()):
        # The cases of a derived fact read base facts only; they may overlap (facts that disagree)
        # and need not cover every case (then `otherwise`, or no value).
        base = st.one_of(_enum_test(enums), _set_test())
        cases = tuple(draw(st.lists(st.tuples(st.sampled_from(DERIVED_VALUES), base), min_size=1, max_size=2)))
        otherwise = draw(st.sampled_from((None, *DERIVED_VALUES)))
    return Shape(enums, draw(st.booleans()), cases, otherwise)


def _action(draw: st.DrawFn) -> Action:
    target = draw(st.sampled_from(tuple(INTERVENTIONS)))
    kind = draw(st.sampled_from(("do", "consider", "avoid")))
    if kind == "avoid":
        return Action(kind, target)
    if target == "t1":
        return Action(kind, target, level=draw(st.sampled_from((None, "l1", "l2"))))
    dose = draw(st.sampled_from(((1, 5), (6, 10), (3, 8), None)))
    return Action(kind, target, dose={"reps": dose} if dose else {})


@dataclass(frozen=True)
class RecSpec:
    """A generated recommendation, short to print."""

    id: str
    when: dict[str, Any]
    action: Action
    status: str = "approved"
    overrides: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()

    def build(self) -> Recommendation:
        return Recommendation(
            id=self.id, version="1.0.0", status=self.status, title=self.id, statement="s", plain_language="p",
            topic="topic", population="pop", when=parse(self.when, ("recommendations", 0, "when")),
            action=self.action, strength="conditional", direction=self.action.stance, certainty="low",
            indirect=False, indirect_reason=None, expert_opinion=False, citations=(), overrides=self.overrides,
            supersedes=self.supersedes)


@dataclass(frozen=True)
class GeneratedKB:
    """A generated knowledge base: its shape and recommendations (printed when a test fails), and
    the model built from them."""

    shape: Shape
    recs: tuple[RecSpec, ...]

    @property
    def kb(self) -> KnowledgeBase:
        return KnowledgeBase("generated", None, vocabulary_of(self.shape), (), tuple(r.build() for r in self.recs),
                             (), ())


@st.composite
def knowledge_bases(draw: st.DrawFn, min_recs: int = 2, max_recs: int = 5) -> GeneratedKB:
    """A few recommendations over a generated vocabulary."""
    shape = draw(shapes())
    count = draw(st.integers(min_recs, max_recs))
    ids = [f"RC-{i:03d}" for i in range(1, count + 1)]
    recs = []
    for rec_id in ids:
        when = draw(raw_conditions(shape.enums, shape.derived is not None))
        action = _action(draw)
        others = [i for i in ids if i != rec_id]
        overrides = tuple(draw(st.lists(st.sampled_from(others), max_size=2, unique=True))) if others and draw(
            st.integers(0, 3)) == 0 else ()
        supersedes = tuple(draw(st.lists(st.sampled_from(others), max_size=1))) if others and draw(
            st.integers(0, 7)) == 0 else ()
        status = draw(st.sampled_from(STATUSES)) if draw(st.integers(0, 3)) == 0 else "approved"
        recs.append(RecSpec(rec_id, when, action, status, overrides, supersedes))
    return GeneratedKB(shape, tuple(recs))


def number_values(integer: bool) -> tuple[float, ...]:
    """Values of the number fact that meet every class the thresholds 2, 5 and 8 make: each
    threshold, a point inside each interval, and the bounds."""
    if integer:
        return tuple(range(NUMBER_LOW, NUMBER_HIGH + 1))
    return (0, 1, 2, 3.5, 5, 6.5, 8, 9, 10)


def fact_values(vocabulary: Vocabulary, fact: str) -> tuple[Any, ...]:
    """Every value a case may give `fact` (for a set: every subset), up to the number classes."""
    declared = vocabulary.facts[fact]
    if declared.type == "enum":
        return declared.values
    if declared.type == "set":
        return ((), ("x",), ("y",), ("x", "y"))
    return number_values(declared.integer)


@st.composite
def cases(draw: st.DrawFn, vocabulary: Vocabulary, derived_given: bool = True) -> dict[str, Any]:
    """A partial case: each base fact missing or given; sometimes a derived fact given directly."""
    case: dict[str, Any] = {}
    for fact in vocabulary.facts:
        if draw(st.booleans()):
            value = draw(st.sampled_from(fact_values(vocabulary, fact)))
            case[fact] = list(value) if isinstance(value, tuple) else value
    if derived_given and vocabulary.derived and draw(st.integers(0, 4)) == 0:
        case[DERIVED] = draw(st.sampled_from(DERIVED_VALUES))
    return case


# Byte mutations of a valid knowledge file: what a bad merge, a bad editor or a bad disk does.
@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    result = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("flip", "delete", "insert", "duplicate-line", "delete-line", "swap-lines",
                                     "truncate")))
        if not result:
            result.extend(b"\n")
        at = draw(st.integers(0, len(result) - 1))
        if kind == "flip":
            result[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "delete":
            del result[at: at + draw(st.integers(1, 8))]
        elif kind == "insert":
            result[at:at] = draw(st.sampled_from((b"\t", b"\x00", b"\xff", b"&a ", b"*a", b"!!python/name:os.system ",
                                                  b"[", b"{", b"- ", b": ", b"'", b'"', b"\n  ", b"---\n",
                                                  b"<<<<<<< HEAD\n", b"\xef\xbb\xbf", b"~", b".nan", b"0777")))
        else:
            lines = bytes(result).splitlines(keepends=True)
            index = draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate-line":
                lines.insert(index, lines[index])
            elif kind == "delete-line":
                del lines[index]
            elif kind == "swap-lines" and index + 1 < len(lines):
                lines[index], lines[index + 1] = lines[index + 1], lines[index]
            elif kind == "truncate":
                lines = lines[:index]
            result = bytearray(b"".join(lines))
    return bytes(result)
