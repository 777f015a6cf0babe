"""A case's derived facts kept by what decides them (avn_kb.lang.readings) are what deriving the
case afresh gives: the same facts in the same order, the same problems, for cases that share a key
and differ elsewhere, in the order of their facts, or in what they leave out or give as None."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
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


def _resolutions_agree(ready: Any, cases: list[dict[str, Any]]) -> None:
    """Each case resolved through one warm index (its readings, truths and decisions kept, and
    dropped when full) as through a fresh index: the same facts in the same order and the same
    answer, traces included; and checked with its reading as without."""
    from avn_kb.load.cases import check_case
    from avn_kb.output.answers.data import as_data
    from avn_kb.resolve.resolver import Index, resolve

    kb = ready.kb
    warm = Index(kb)
    warm.truths.limit = warm.decisions.limit = 16
    assert warm.readings is not None
    warm.readings._kept.limit = 16
    days = [dt.date(2026, 12, 1), dt.date(2029, 1, 1), dt.date(2020, 1, 1)]
    statuses = [("approved",), ("approved", "draft")]
    for number, case in enumerate(cases):
        day, wanted, explain = days[number % 3], statuses[number // 3 % 2], number % 4 == 0
        errors = [str(e) for e in check_case(kb.vocabulary, case, "x")]
        reading = warm.readings.read(case)
        assert [str(e) for e in check_case(kb.vocabulary, case, "x", reading=reading)] == errors, case
        fresh = resolve(kb, case, as_of=day, statuses=wanted, index=Index(kb), explain=explain)
        kept = resolve(kb, case, as_of=day, statuses=wanted, index=warm, explain=explain,
                       reading=reading if number % 2 else None)
        assert list(kept.facts.items()) == list(fresh.facts.items()), case
        assert (as_data(kb, kept, "clinician", explain, True, ready.problems)
                == as_data(kb, fresh, "clinician", explain, True, ready.problems)), case


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_resolving_through_kept_readings_is_resolving_afresh(name: str) -> None:
    kb = SHIPPED if name == SHIPPED.name else MINI
    ready = load_for_answers(kb, str(kb))
    vocabulary = ready.kb.vocabulary
    assert vocabulary is not None
    rng = random.Random(11)
    names = [fact.name for fact in vocabulary.every_fact()]
    cases = [{n: _value(vocabulary, n, rng) for n in rng.sample(names, rng.randint(0, min(9, len(names))))}
             for _ in range(150)]
    _resolutions_agree(ready, cases + [dict(reversed(list(c.items()))) for c in cases] + cases)


def test_resolving_through_kept_readings_is_resolving_afresh_on_an_adversarial_vocabulary(mini_copy: Path) -> None:
    from tests.test_batch_fast_path import _adversarial, _adversarial_case

    ready = _adversarial(mini_copy)
    vocabulary = ready.kb.vocabulary
    assert vocabulary is not None
    rng = random.Random(12)
    cases = [_adversarial_case(vocabulary, rng) for _ in range(200)]
    _resolutions_agree(ready, cases + [dict(reversed(list(c.items()))) for c in cases] + cases)


def test_a_case_with_a_huge_value_is_read_afresh_never_kept() -> None:
    vocabulary = VOCABULARIES[SHIPPED.name]
    assert vocabulary is not None
    readings = Readings(vocabulary)
    huge = {"site": "knee" * 100_000}
    reading = readings.read(huge)
    assert reading.key is None and list(reading.facts().items()) == list(case_facts(vocabulary, huge).items())
    assert readings._kept == {}
