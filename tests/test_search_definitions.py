"""The case search over facts defined only for some cases, and over number facts with fractional
bounds, held to brute force: every case over the facts that matter (each fact given any of its
values, or missing), kept only when it is a real case by an oracle written here (derived facts
computed by their definition, `defined_for` read literally).

- `find` finds a case where brute force finds one, and only real cases;
- `implies` agrees with brute force over complete cases: every fact the conditions read is given,
  unless the case's other facts leave it undefined;
- the resolver's bitset index decides `min` / `max` on a fractional number exactly, boundaries
  included (min 50 against max 49.9)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avn_kb.lang.case_checks import case_problems
from avn_kb.lang.derive import NO_VALUE, derive, real_case, with_derived
from avn_kb.lang.index import CandidateIndex
from avn_kb.lang.search import CaseSearch
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.conditions import Condition, evaluate, parse
from avn_kb.model.conditions import tests as fact_tests
from avn_kb.model.knowledge import Fact, Vocabulary
from tests import strategies as gen
from tests.conftest import MINI
from tests.test_logic import _all_values as all_values

MISSING = object()


def _vocabulary() -> Vocabulary:
    """The mini vocabulary, with ARCO defined for the femoral head, comorbidities only in the
    chronic phase, the pain score only in the lower limb (through a derived fact), and a platelet
    count with fractional bounds."""
    vocabulary = load_knowledge(MINI, "mini").kb.vocabulary
    assert vocabulary is not None
    facts = dict(vocabulary.facts)
    for name, condition in (("arco_stage", {"site": "femoral-head"}), ("comorbidities", {"phase": "chronic"}),
                            ("pain_score", {"region": "lower-limb"})):
        facts[name] = replace(facts[name], defined_for=parse(condition))
    facts["platelet_count"] = Fact("platelet_count", "number", "Platelet count", unit="10^9/L", low=0, high=2000)
    return replace(vocabulary, facts=facts)


VOCABULARY = _vocabulary()
SEARCH = CaseSearch(VOCABULARY)


# --- the oracle ------------------------------------------------------------------------------------

def real_facts(vocabulary: Vocabulary, case: dict[str, Any]) -> dict[str, Any] | None:
    """The case with its derived facts, or None when it is no real case: its facts give a derived
    fact two values, or give a fact where its `defined_for` is false."""
    facts = dict(case)
    for derived in vocabulary.derived.values():  # the mini derived facts read base facts only
        results = [(value, evaluate(when, case)) for value, when in derived.cases]
        held = {value for value, result in results if result is True}
        if len(held) > 1:
            return None
        if held:
            facts[derived.name] = held.pop()
        elif all(result is False for _, result in results):
            facts[derived.name] = derived.otherwise if derived.otherwise is not None else NO_VALUE
    for fact in vocabulary.every_fact():
        value = facts.get(fact.name)
        if fact.defined_for is not None and value is not None and value is not NO_VALUE \
                and evaluate(fact.defined_for, facts) is False:
            return None
    return facts


def _closure(vocabulary: Vocabulary, conditions: list[Condition]) -> tuple[list[str], list[str]]:
    """The base facts the conditions read (through derived facts), and every base fact that can
    change whether a case over them is real (the `defined_for` of a fact read, and what it reads)."""
    def base(names: set[str]) -> set[str]:
        found = set()
        for name in names:
            derived = vocabulary.derived.get(name)
            found |= {t.fact for _, when in derived.cases for t in fact_tests(when)} if derived else {name}
        return found

    read = base({t.fact for condition in conditions for t in fact_tests(condition)})
    universe = set(read)
    while True:
        # Derived facts are computed whatever the conditions read: each definition may matter.
        defined = [fact.defined_for for fact in vocabulary.every_fact()
                   if fact.defined_for is not None and (fact.name in universe or fact.name in vocabulary.derived)]
        more = base({t.fact for condition in defined for t in fact_tests(condition)})
        if more <= universe:
            return sorted(read), sorted(universe)
        universe |= more


def every_real_case(vocabulary: Vocabulary, conditions: list[Condition]) -> Iterator[tuple[dict[str, Any], bool]]:
    """(facts with derived ones, whether complete) for every real case over the facts that matter."""
    read, universe = _closure(vocabulary, conditions)
    options = [[MISSING, *all_values(fact, conditions, vocabulary)] for fact in universe]
    for combination in product(*options):
        case = {fact: value for fact, value in zip(universe, combination) if value is not MISSING}
        facts = real_facts(vocabulary, case)
        if facts is None:
            continue
        complete = all(fact in case or _undefined(vocabulary, fact, facts) for fact in read)
        yield facts, complete


def _undefined(vocabulary: Vocabulary, fact: str, facts: dict[str, Any]) -> bool:
    declared = vocabulary.facts[fact]
    return declared.defined_for is not None and evaluate(declared.defined_for, facts) is False


def brute_find(vocabulary: Vocabulary, conditions: list[Condition]) -> bool:
    return any(all(evaluate(c, facts) is True for c in conditions)
               for facts, _ in every_real_case(vocabulary, conditions))


def brute_implies(vocabulary: Vocabulary, narrow: Condition, wide: Condition) -> bool:
    return not any(complete and evaluate(narrow, facts) is True and evaluate(wide, facts) is not True
                   for facts, complete in every_real_case(vocabulary, [narrow, wide]))


def test_the_oracle_sees_both_outcomes() -> None:
    humeral, stage = parse({"site": "humeral-head"}), parse({"arco_stage": "II"})
    assert brute_find(VOCABULARY, [stage]) and not brute_find(VOCABULARY, [humeral, stage])
    assert brute_implies(VOCABULARY, stage, parse({"site": "femoral-head"}))
    assert not brute_implies(VOCABULARY, parse({"site": "femoral-head"}), stage)
    assert real_facts(VOCABULARY, {"site": "knee", "pain_score": 3}) is not None
    assert real_facts(VOCABULARY, {"site": "humeral-head", "pain_score": 3}) is None


# --- the search against the oracle -----------------------------------------------------------------

PAIRS = [
    pytest.param({"site": "humeral-head"}, {"arco_stage": "II"}, id="stage-at-another-site"),
    pytest.param({"site": "femoral-head"}, {"arco_stage": "II"}, id="stage-at-its-site"),
    pytest.param({"site": "femoral-head"}, {"arco_stage": {"in": ["I", "II", "IIIA", "IIIB", "IV"]}},
                 id="every-stage-at-its-site"),
    pytest.param({"collapse": "pre-collapse"}, {"region": "upper-limb"}, id="collapse-in-the-arm"),
    pytest.param({"not": {"site": "femoral-head"}}, {"collapse": "post-collapse"}, id="collapse-elsewhere"),
    pytest.param({"site": "femoral-head"}, {"collapse": "pre-collapse"}, id="site-and-collapse"),
    pytest.param({"any": [{"arco_stage": "IV"}, {"site": "knee"}]}, {"not": {"site": {"in": ["knee"]}}},
                 id="any-and-not"),
    pytest.param({"comorbidities": {"lacks": "osteoporosis"}}, {"phase": "acute"}, id="set-in-the-wrong-phase"),
    pytest.param({"comorbidities": {"has": "thrombocytopenia"}}, {"not": {"phase": "chronic"}}, id="set-not-chronic"),
    pytest.param({"comorbidities": {"has": "thrombocytopenia"}}, {"phase": "chronic"}, id="set-in-its-phase"),
    pytest.param({"pain_score": {"min": 8}}, {"site": "humeral-head"}, id="number-in-the-arm"),
    pytest.param({"pain_score": {"max": 3}}, {"region": "lower-limb"}, id="number-in-the-leg"),
    pytest.param({"not": {"pain_score": {"min": 4}}}, {"site": "knee"}, id="number-under-not"),
    pytest.param({"platelet_count": {"min": 50}}, {"platelet_count": {"max": 49.9}}, id="tiers-apart"),
    pytest.param({"platelet_count": {"min": 50}}, {"platelet_count": {"max": 50}}, id="tiers-touching"),
    pytest.param({"platelet_count": {"min": 49.9}}, {"not": {"platelet_count": {"min": 50}}}, id="between-tiers"),
    pytest.param({"not": {"platelet_count": {"max": 49.9}}}, {"platelet_count": {"min": 50}}, id="gap-of-a-tenth"),
    pytest.param({"platelet_count": {"min": 20, "max": 49.9}}, {"platelet_count": {"min": 10, "max": 50}},
                 id="nested-tiers"),
    pytest.param({"platelet_count": {"max": 0}}, {"platelet_count": {"min": 2000}}, id="bounds"),
]


@pytest.mark.parametrize("raw_a,raw_b", PAIRS)
def test_find_agrees_with_brute_force(raw_a: dict[str, Any], raw_b: dict[str, Any]) -> None:
    a, b = parse(raw_a), parse(raw_b)
    found = SEARCH.find([a, b])
    assert (found is not None) is brute_find(VOCABULARY, [a, b]), found
    if found is not None:
        assert case_problems(VOCABULARY, found) == []
        facts = with_derived(VOCABULARY, found)
        assert (evaluate(a, facts), evaluate(b, facts)) == (True, True)


@pytest.mark.parametrize("raw_a,raw_b", PAIRS)
def test_implies_agrees_with_brute_force(raw_a: dict[str, Any], raw_b: dict[str, Any]) -> None:
    a, b = parse(raw_a), parse(raw_b)
    for narrow, wide in ((a, b), (b, a)):
        assert SEARCH.implies(narrow, wide) is brute_implies(VOCABULARY, narrow, wide)


@pytest.mark.parametrize("raw,witness", [
    ({"site": "humeral-head", "arco_stage": "II"}, None),
    ({"arco_stage": "II"}, {"arco_stage": "II"}),  # the site may stay unknown
    ({"region": "upper-limb", "collapse": "pre-collapse"}, None),
    ({"comorbidities": {"lacks": "osteoporosis"}}, {"comorbidities": []}),  # the phase may stay unknown
    ({"phase": "acute", "comorbidities": {"lacks": "osteoporosis"}}, None),
    ({"platelet_count": {"min": 50, "max": 50}}, {"platelet_count": 50}),
    ({"platelet_count": {"min": 49.9, "max": 49.9}}, {"platelet_count": 49.9}),
    ({"all": [{"platelet_count": {"min": 50}}, {"platelet_count": {"max": 49.9}}]}, None),
    ({"platelet_count": {"min": 49.9}, "not": {"platelet_count": {"min": 50}}}, {"platelet_count": 49.9}),
    ({"not": {"platelet_count": {"max": 49.9}}, "platelet_count": {"max": 49.99}}, {"platelet_count": 49.945}),
])
def test_witnesses(raw: dict[str, Any], witness: dict[str, Any] | None) -> None:
    assert SEARCH.find([parse(raw)]) == witness
    assert SEARCH.satisfiable(parse(raw)) is (witness is not None)


def test_gap_cases_leave_out_only_what_cannot_be_given() -> None:
    """A complete case need not give a fact its other facts leave undefined: the humeral head
    without a stage is a case on which `collapse: pre-collapse` never holds."""
    found = list(SEARCH.iter_cases([parse({"region": "upper-limb"})], [parse({"collapse": "pre-collapse"})]))
    assert found == [{"site": "humeral-head"}]
    found = list(SEARCH.iter_cases([parse({"site": "femoral-head"})], [parse({"collapse": "pre-collapse"})]))
    assert found == [{"site": "femoral-head", "arco_stage": stage} for stage in ("IIIA", "IIIB", "IV")]


# --- generated vocabularies and conditions -----------------------------------------------------------

DEFINITIONS = [("e2", {"e1": "a"}), ("s", {"e1": {"in": ["a", "b"]}}), ("n", {"not": {"e2": "b"}}),
               ("e1", {"s": {"has": "x"}})]


@st.composite
def _searches(draw: st.DrawFn) -> tuple[Vocabulary, Condition, Condition]:
    shape = gen.Shape(("e1", "e2"), draw(st.booleans()))
    vocabulary = gen.vocabulary_of(shape)
    name, condition = draw(st.sampled_from(DEFINITIONS))
    facts = {**vocabulary.facts, name: replace(vocabulary.facts[name], defined_for=parse(condition))}
    vocabulary = replace(vocabulary, facts=facts)
    a, b = (parse(draw(gen.raw_conditions(shape.enums, False, max_leaves=4))) for _ in range(2))
    return vocabulary, a, b


@settings(max_examples=60, deadline=None)
@given(_searches())
def test_generated_searches_agree_with_brute_force(search: tuple[Vocabulary, Condition, Condition]) -> None:
    vocabulary, a, b = search
    case_search = CaseSearch(vocabulary)
    found = case_search.find([a, b])
    assert (found is not None) is brute_find(vocabulary, [a, b])
    if found is not None:
        assert case_problems(vocabulary, found) == []
    assert case_search.implies(a, b) is brute_implies(vocabulary, a, b)


# --- the resolver's index on a fractional number -------------------------------------------------------

TIERS = [{"platelet_count": {"min": 50}}, {"platelet_count": {"max": 49.9}},
         {"platelet_count": {"min": 20, "max": 49.9}}, {"platelet_count": {"min": 49.9, "max": 50}},
         {"not": {"platelet_count": {"min": 50}}},
         {"any": [{"platelet_count": {"max": 10}}, {"platelet_count": {"min": 1999.5}}]},
         {"platelet_count": {"min": 0.5}, "site": "knee"}]
COUNTS = [0, 0.4999, 0.5, 10, 10.0001, 19.99, 20, 49.89, 49.9, 49.900001, 49.95, 49.999999, 50, 50.01, 1999.5, 2000]


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize("site", [None, "knee", "femoral-head"])
def test_index_decides_number_bounds_exactly(count: float, site: str | None) -> None:
    kb = load_knowledge(MINI, "mini").kb
    template = kb.recommendation("RT-001")
    assert template is not None
    recs = [replace(template, id=f"RT-{i:03d}", when=parse(raw)) for i, raw in enumerate(TIERS, start=100)]
    index = CandidateIndex(recs, VOCABULARY)
    facts = with_derived(VOCABULARY, {"platelet_count": count, **({"site": site} if site else {})})
    holds, open_ = index.truth(facts, index.everyone)
    expected = [evaluate(rec.when, facts) for rec in recs]
    assert [True if holds >> i & 1 else None if open_ >> i & 1 else False for i in range(len(recs))] == expected


def test_the_search_case_checks_and_oracle_agree_on_what_is_a_case() -> None:
    """The search's question (real_case), the explained one (derive), the case checks that refuse a
    query, and the oracle all say the same of every case over these facts."""
    conditions = [parse({"arco_stage": "I", "pain_score": {"min": 5}, "comorbidities": {"has": "osteoporosis"}})]
    _, universe = _closure(VOCABULARY, conditions)
    assert universe == ["arco_stage", "comorbidities", "pain_score", "phase", "site"]
    options = [[MISSING, *all_values(fact, conditions, VOCABULARY)] for fact in universe]
    verdicts = set()
    for combination in product(*options):
        case = {fact: value for fact, value in zip(universe, combination) if value is not MISSING}
        real = real_case(VOCABULARY, case)[1]
        assert real is (derive(VOCABULARY, case)[1] == []) is (case_problems(VOCABULARY, case) == []) \
            is (real_facts(VOCABULARY, case) is not None), case
        verdicts.add(real)
    assert verdicts == {True, False}
