"""The vocabulary in the model: the facts a case may give (with their terminology bindings), the
derived facts, the interventions and their dose parameters, populations and topics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from avn_kb.model.bindings import Coding, UnitConversion
from avn_kb.model.conditions import OPS_BY_TYPE, Condition, Not, Test
from avn_kb.model.source import Source
from avn_kb.model.types import FactType
from avn_kb.util.memo import remembered

_TEST_FITS = "_avn_kb_test_fits"


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    label: str
    values: tuple[str, ...] = ()
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False
    source_ref: str | None = None
    where: Source = Source("")
    # The cases the fact exists in (ARCO stages only at one site): a case giving it where this is
    # false is refused. None: defined everywhere.
    defined_for: Condition | None = None
    # What people read: each value's label (value, label), in the declared order, and the fact's
    # description; forms and pages show them, the logic never reads them.
    value_labels: tuple[tuple[str, str], ...] = ()
    description: str | None = None

    def value_label(self, value: str) -> str:
        return dict(self.value_labels).get(value, value)
    # Terminology bindings (model/bindings.py): value -> its codes (enum, set); the observation
    # codes (number); the codes that say a set is empty; codes that concern the fact without giving
    # a value (they keep it missing); the UCUM units a number is read from.
    value_codes: Mapping[str, tuple[Coding, ...]] = field(default_factory=dict, hash=False)
    codes: tuple[Coding, ...] = ()
    none_codes: tuple[Coding, ...] = ()
    unmapped_codes: tuple[Coding, ...] = ()
    units: tuple[UnitConversion, ...] = ()

    def every_coding(self) -> tuple[tuple[str | None, Coding], ...]:
        """Each declared code with the value it stands for (None: an observation, the empty set, no value)."""
        return (*((value, c) for value, codings in self.value_codes.items() for c in codings),
                *((None, c) for c in (*self.codes, *self.none_codes, *self.unmapped_codes)))


@dataclass(frozen=True)
class DerivedFact:
    name: str
    label: str
    values: tuple[str, ...]
    cases: tuple[tuple[str, Condition], ...]
    otherwise: str | None = None
    where: Source = Source("")
    defined_for: Condition | None = None  # as for Fact; holds for derived values too
    value_labels: tuple[tuple[str, str], ...] = ()  # as for Fact
    description: str | None = None

    def value_label(self, value: str) -> str:
        return dict(self.value_labels).get(value, value)

    @property
    def type(self) -> str:
        return "enum"



@dataclass(frozen=True)
class DoseParameter:
    name: str
    unit: str
    low: float
    high: float
    per_kg_of: str | None = None
    written_as: tuple[str, ...] = ()  # words after a number of it in text ("% of 1RM"): checked by AVN308
    label: str | None = None


@dataclass(frozen=True)
class Exercise:
    """An exercise an action may name. `loads`: the cases in which it loads the part the case is
    about (None: declared to load nothing); checked against the conditions that prescribe it."""

    id: str
    label: str | None = None
    loads: Condition | None = None
    where: Source = Source("")


@dataclass(frozen=True)
class Intervention:
    name: str
    label: str
    dose: Mapping[str, DoseParameter] = field(default_factory=dict)
    levels: tuple[str, ...] = ()
    exercises: tuple[str, ...] = ()  # the ids, in order
    exercise_details: Mapping[str, Exercise] = field(default_factory=dict)  # id -> its declaration


@dataclass(frozen=True, eq=False)
class Vocabulary:
    topics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    populations: Mapping[str, str | None] = field(default_factory=dict)  # name -> parent
    facts: Mapping[str, Fact] = field(default_factory=dict)
    derived: Mapping[str, DerivedFact] = field(default_factory=dict)
    interventions: Mapping[str, Intervention] = field(default_factory=dict)
    where: Source = Source("")

    def fact_type(self, name: str) -> str | None:
        if name in self.facts:
            return self.facts[name].type
        return "enum" if name in self.derived else None

    def fact_values(self, name: str) -> tuple[str, ...]:
        if name in self.facts:
            return self.facts[name].values
        return self.derived[name].values if name in self.derived else ()

    def fits(self, condition: Condition) -> bool:
        """Whether every test of the condition names a declared fact, fits its type and uses
        declared values (the term checks report each way in which one does not)."""
        # Asked of every condition by several checks, and conditions repeat the same few tests:
        # each distinct test is judged once per vocabulary.
        judged: dict[tuple[str, str, frozenset[Any]], bool] = remembered(self, _TEST_FITS, dict)
        pending: list[Condition] = [condition]  # a stack, not tests(): this runs on every condition
        while pending:
            part = pending.pop()
            if isinstance(part, Test):
                key = (part.fact, part.op, part.values)
                verdict = judged.get(key)
                if verdict is None:
                    verdict = judged[key] = self._test_fits(part)
                if not verdict:
                    return False
            elif isinstance(part, Not):
                pending.append(part.part)
            else:
                pending.extend(part.parts)
        return True

    def _test_fits(self, test: Test) -> bool:
        kind = self.fact_type(test.fact)
        if kind is None or test.op not in OPS_BY_TYPE[kind]:
            return False
        return kind not in ("enum", "set") or test.values <= set(self.fact_values(test.fact))

    def every_fact(self) -> tuple[Fact | DerivedFact, ...]:
        """The declared facts, base facts first, then derived ones."""
        return (*self.facts.values(), *self.derived.values())

    def topic_label(self, topic: str) -> str:
        """The topic's label, or its name when it has none (or is not declared)."""
        return str(self.topics.get(topic, {}).get("label", topic))

    def sections(self) -> list[str]:
        return [name for name, topic in self.topics.items() if topic.get("section")]

    def lineage(self, population: str) -> list[str]:
        """The population and its ancestors, nearest first (stops on a cycle)."""
        chain: list[str] = []
        current: str | None = population
        while current is not None and current not in chain:
            chain.append(current)
            current = self.populations.get(current)
        return chain
