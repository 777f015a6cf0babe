"""A case's derived facts kept by what decides them (avn_kb.lang.readings) are what deriving the
case afresh gives: the same facts in the same order, the same problems, for cases that share a key
and differ elsewhere, in the order of their facts, or in what they leave out or give as None."""

from __future__ import annotations

import random
from typing import Any

import pytest

from avn_kb.lang.derive import derive_values, outside_definitions
from avn_kb.lang.readings import Readings, case_facts
from avn_kb.model.knowledge import Vocabulary
from avn_kb.validate.readiness import load_for_answers
from tests.conftest import MINI, SHIPPED

VOCABULARIES = {kb.name: load_for_answers(kb, str(kb)).kb.vocabulary for kb in (SHIPPED, MINI)}


def _value(vocabulary: Vocabulary, name: str, rng: random.Random) -> Any:
    kind = vocabulary.fact_type(name)
    if rng.random() < 0.08:
        return None
    if kind in ("enum", "set"):
        values = list(vocabulary.fact_values(name))
        return rng.choice(values) if kind == "enum" else rng.sample(values, rng.randint(0, min(3, len(values))))
    if kind == "boolean":
        return rng.random() < 0.5
    if name in vocabulary.facts:
        fact = vocabulary.facts[name]
        low = fact.low if fact.low is not None else 0
        high = fact.high if fact.high is not None else 100
        return rng.choice([low, high, rng.uniform(low, high), -0.0 if low <= 0 <= high else low])
    return rng.choice(["unknown-term", 3])


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_a_kept_reading_is_the_reading_made_afresh(name: str) -> None:
    vocabulary = VOCABULARIES[name]
    assert vocabulary is not None
    readings = Readings(vocabulary, limit=64)  # small: kept readings are dropped and made again
    names = [fact.name for fact in vocabulary.every_fact()]
    rng = random.Random(5)
    cases = [{n: _value(vocabulary, n, rng) for n in rng.sample(names, rng.randint(0, min(9, len(names))))}
             for _ in range(300)]
    kept_hits = 0
    for case in cases + [dict(reversed(list(c.items()))) for c in cases] + cases:
        reading = readings.read(case)
        kept_hits += reading.key is not None and reading.key in readings._kept
        derived, problems = derive_values(vocabulary, case)
        assert list(reading.derived_values()[0].items()) == list(derived.items())
        assert reading.derived_values()[1] == problems
        assert list(reading.facts().items()) == list(case_facts(vocabulary, case).items())
        assert reading.outside_definitions() == outside_definitions(vocabulary, derived, case)
    assert kept_hits > 100


def test_a_key_tells_apart_what_the_conditions_tell_apart() -> None:
    vocabulary = VOCABULARIES[SHIPPED.name]
    assert vocabulary is not None
    readings = Readings(vocabulary)
    number = next(n for n in readings.reads if vocabulary.fact_type(n) == "number")
    keys = {readings.key({number: value}) for value in (1, 1.0, True, -0.0, 0.0, None)}
    assert len(keys) == 6
    assert readings.key({"site": "knee", "not a read fact": 1}) == readings.key({"site": "knee"})
    assert readings.key({"site": ("knee",)}) is None and readings.read({"site": ("knee",)}).facts() is not None
