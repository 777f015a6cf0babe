"""The first rule on the shipped knowledge base: an answer is right whatever the missing facts turn
out to be. For partial cases (hypothesis), every outcome reported as applies, overridden or does
not apply stays the same in every completion of the missing facts within their domains; the
completions the case checks refuse (disagreeing stages, a fact given where it is not defined) are
left out. Derived facts are recomputed in each completion.

The shipped vocabulary is larger than the generated ones (tests/test_properties.py), so the
domains are cut to what conditions can tell apart: a set fact ranges over the subsets of the
elements conditions test, a number fact over one value per class its thresholds make."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from avn_kb.lang.case_checks import case_problems
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model import conditions as lang
from avn_kb.model.conditions import Condition
from avn_kb.model.knowledge import KnowledgeBase, Vocabulary
from avn_kb.resolve.resolver import Index, resolve
from tests.conftest import SHIPPED

DAY = dt.date(2027, 6, 1)
DECIDED = ("applies", "overridden", "not-applicable")
MAX_COMPLETIONS = 3000  # beyond this, a fixed random sample of the completions
# `make fuzz` (HYPOTHESIS_PROFILE=fuzz) tries 25 times the partial cases.
EXAMPLES = 40 * (25 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 1)


@pytest.fixture(scope="module")
def shipped() -> tuple[KnowledgeBase, Index]:
    kb = load_knowledge(SHIPPED, "knowledge").kb
    return kb, Index(kb)


def _conditions(kb: KnowledgeBase) -> list[Condition]:
    vocabulary = kb.vocabulary
    assert vocabulary is not None
    found = [rec.when for rec in kb.recommendations]
    found += [when for derived in vocabulary.derived.values() for _, when in derived.cases]
    return found


def domain(kb: KnowledgeBase, fact: str) -> list[Any]:
    """The values of `fact` that conditions can tell apart."""
    vocabulary = kb.vocabulary
    assert vocabulary is not None
    declared = vocabulary.facts[fact]
    read = [t for condition in _conditions(kb) for t in lang.tests(condition) if t.fact == fact]
    if declared.type == "enum":
        return list(declared.values)
    if declared.type == "boolean":
        return [True, False]
    if declared.type == "set":
        tested = sorted({v for t in read for v in t.values})
        return [list(c) for n in range(len(tested) + 1) for c in itertools.combinations(tested, n)]
    bounds = sorted({b for t in read for b in (t.low, t.high) if b is not None})
    low = declared.low if declared.low is not None else (bounds[0] - 1 if bounds else 0)
    high = declared.high if declared.high is not None else (bounds[-1] + 1 if bounds else 1)
    points = {low, high, *bounds}
    ordered = sorted(points)
    points |= {(a + b) / 2 for a, b in zip(ordered, ordered[1:])}
    values = sorted(p for p in points if low <= p <= high)
    return [int(v) if declared.integer else v for v in values if not declared.integer or float(v).is_integer()]


def read_facts(kb: KnowledgeBase) -> list[str]:
    vocabulary = kb.vocabulary
    assert vocabulary is not None
    return sorted({t.fact for condition in _conditions(kb) for t in lang.tests(condition)} & set(vocabulary.facts))


def completions(kb: KnowledgeBase, case: Mapping[str, Any], seed: int) -> Iterator[dict[str, Any]]:
    vocabulary = kb.vocabulary
    assert vocabulary is not None
    missing = [name for name in read_facts(kb) if name not in case]
    axes = [domain(kb, name) for name in missing]
    total = 1
    for axis in axes:
        total *= len(axis)
    if total <= MAX_COMPLETIONS:
        chosen: Iterator[tuple[Any, ...]] = itertools.product(*axes)
    else:
        rng = random.Random(seed)
        chosen = (tuple(rng.choice(axis) for axis in axes) for _ in range(MAX_COMPLETIONS))
    for values in chosen:
        completed = {**case, **dict(zip(missing, values))}
        if not case_problems(vocabulary, completed):
            yield completed


@st.composite
def partial_cases(draw: st.DrawFn, kb: KnowledgeBase) -> dict[str, Any]:
    vocabulary = kb.vocabulary
    assert vocabulary is not None
    case: dict[str, Any] = {}
    for fact in read_facts(kb):
        if draw(st.integers(0, 2)) > 0:
            value = draw(st.sampled_from(domain(kb, fact)))
            # A value that makes the case one no patient has (a fact outside the cases it is
            # defined for, two stages that disagree) is left out rather than filtered afterwards:
            # filtering whole cases threw most of them away (hypothesis's filter_too_much).
            if not case_problems(vocabulary, {**case, fact: value}):
                case[fact] = value
    return case


def _decided(kb: KnowledgeBase, index: Index, case: Mapping[str, Any]) -> dict[str, str]:
    return {o.rec.id: o.outcome for o in resolve(kb, case, as_of=DAY, index=index).outcomes}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_shipped_answers_hold_for_every_completion(shipped: tuple[KnowledgeBase, Index], data: st.DataObject) -> None:
    kb, index = shipped
    assert kb.vocabulary is not None
    case = data.draw(partial_cases(kb))
    assume(not case_problems(kb.vocabulary, case))
    before = {i: o for i, o in _decided(kb, index, case).items() if o in DECIDED}
    for completed in completions(kb, case, seed=len(case)):
        after = _decided(kb, index, completed)
        changed = {i: (was, after[i]) for i, was in before.items() if after[i] != was}
        assert not changed, (case, completed, changed)


def test_domains_cover_what_the_conditions_test(shipped: tuple[KnowledgeBase, Index]) -> None:
    # The cut domains must still reach every class: each set element tested, each enum value.
    kb, _ = shipped
    vocabulary: Vocabulary | None = kb.vocabulary
    assert vocabulary is not None
    for fact in read_facts(kb):
        values = domain(kb, fact)
        assert values, fact
        if vocabulary.facts[fact].type == "enum":
            assert set(values) == set(vocabulary.facts[fact].values)
