"""avn_kb.lang.search.CaseSearch on the mini vocabulary: satisfiability, implication, number thresholds
(inclusive, whole numbers for integer facts), set facts, derived facts, the step limit, and agreement
with a brute-force enumeration of every case over the facts the conditions read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import combinations, product
from typing import Any

import pytest

from avn_kb.lang.case_checks import case_problems
from avn_kb.lang.derive import with_derived
from avn_kb.lang.search import CaseSearch, SearchLimits, SearchTooLarge
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.conditions import Condition, evaluate, parse
from avn_kb.model.conditions import tests as fact_tests
from avn_kb.model.knowledge import DerivedFact, Fact, Vocabulary
from tests.conftest import MINI


def _mini_vocabulary() -> Vocabulary:
    vocabulary = load_knowledge(MINI, "mini").kb.vocabulary
    assert vocabulary is not None
    # The mini vocabulary has no boolean fact; one is added so booleans are searched too.
    return replace(vocabulary, facts={**vocabulary.facts, "smoker": Fact("smoker", "boolean", "Smoker")})


def _two_stagings(vocabulary: Vocabulary) -> Vocabulary:
    """Collapse read from either of two staging systems, as in the shipped vocabulary: cases whose
    stages disagree are refused, and the search must not offer them as witnesses."""
    collapse = DerivedFact("collapse", "Collapse", ("pre-collapse", "post-collapse"), (
        ("pre-collapse", parse({"any": [{"arco_stage": {"in": ["I", "II"]}}, {"ficat_stage": {"in": ["I", "II"]}}]})),
        ("post-collapse", parse({"any": [{"arco_stage": {"in": ["IIIA", "IIIB", "IV"]}},
                                         {"ficat_stage": {"in": ["III", "IV"]}}]}))))
    ficat = Fact("ficat_stage", "enum", "Ficat-Arlet stage", ("I", "II", "III", "IV"))
    return replace(vocabulary, facts={**vocabulary.facts, "ficat_stage": ficat},
                   derived={**vocabulary.derived, "collapse": collapse})


VOCABULARY = _mini_vocabulary()
SEARCH = CaseSearch(VOCABULARY)
STAGINGS = _two_stagings(VOCABULARY)


def c(raw: dict[str, Any]) -> Condition:
    return parse(raw)


def holds(condition: Condition, case: dict[str, Any]) -> bool | None:
    return evaluate(condition, with_derived(VOCABULARY, case))


# --- satisfiable and find ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw,witness", [
    ({"site": "knee", "region": "lower-limb"}, {"site": "knee"}),
    ({"site": "knee", "region": "upper-limb"}, None),
    ({"region": "upper-limb"}, {"site": "humeral-head"}),
    ({"collapse": "pre-collapse"}, {"arco_stage": "I"}),
    ({"collapse": "post-collapse", "arco_stage": "II"}, None),
    ({"collapse": "post-collapse", "arco_stage": {"in": ["II", "IV"]}}, {"arco_stage": "IV"}),
    ({"phase": {"not_in": ["acute", "chronic"]}}, None),
    ({"comorbidities": {"has": "osteoporosis", "lacks": "osteoporosis"}}, None),
    ({"comorbidities": {"has": "osteoporosis", "lacks": "thrombocytopenia"}}, {"comorbidities": ["osteoporosis"]}),
    ({"pain_score": {"min": 7, "max": 7}}, {"pain_score": 7}),
    ({"all": [{"pain_score": {"min": 8}}, {"pain_score": {"max": 7}}]}, None),
    ({"pain_score": {"min": 10}}, {"pain_score": 10}),
    ({"not": {"pain_score": {"min": 0}}}, None),
    ({"not": {"one_rep_max_kg": {"max": 500}}}, None),
    ({"one_rep_max_kg": {"min": 99.5, "max": 99.5}}, {"one_rep_max_kg": 99.5}),
    ({"smoker": True, "not": {"smoker": True}}, None),
    ({"smoker": False}, {"smoker": False}),
    ({}, {}),
])
def test_find_one_condition(raw: dict[str, Any], witness: dict[str, Any] | None) -> None:
    condition = c(raw)
    assert SEARCH.find([condition]) == witness
    assert SEARCH.satisfiable(condition) is (witness is not None)
    if witness is not None:
        assert holds(condition, witness) is True


def test_witness_of_two_conditions() -> None:
    rt001 = c({"region": "lower-limb", "not": {"phase": "acute"}})
    precaution = c({"comorbidities": {"has": "thrombocytopenia"}})
    assert SEARCH.find([rt001, precaution]) == {"comorbidities": ["thrombocytopenia"], "phase": "chronic",
                                                "site": "femoral-head"}
    assert SEARCH.find([rt001, c({"phase": "acute"})]) is None


def test_not_apply_excludes_cases() -> None:
    found = list(SEARCH.iter_cases([c({"site": "femoral-head"})], [c({"collapse": "pre-collapse"})]))
    assert found == [{"site": "femoral-head", "arco_stage": stage} for stage in ("IIIA", "IIIB", "IV")]
    assert SEARCH.find([c({"site": "femoral-head"})], [c({"site": "femoral-head"})]) is None


# --- implies -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("narrow,wide,expected", [
    ({"site": "knee", "phase": "chronic"}, {"region": "lower-limb"}, True),
    ({"region": "lower-limb"}, {"site": "knee"}, False),
    ({"region": "upper-limb"}, {"site": "humeral-head"}, True),
    ({"arco_stage": "II"}, {"collapse": "pre-collapse"}, True),
    ({"collapse": "pre-collapse"}, {"arco_stage": {"in": ["I", "II"]}}, True),
    ({"collapse": "pre-collapse"}, {"arco_stage": "II"}, False),
    ({"region": "lower-limb", "not": {"phase": "acute"}}, {"phase": "chronic"}, True),
    ({"comorbidities": {"has": "thrombocytopenia"}}, {"not": {"comorbidities": {"lacks": "thrombocytopenia"}}}, True),
    ({"comorbidities": {"has": "thrombocytopenia"}}, {"comorbidities": {"lacks": "osteoporosis"}}, False),
    ({"pain_score": {"min": 3}}, {"pain_score": {"min": 2.5}}, True),
    ({"pain_score": {"min": 4}}, {"pain_score": {"min": 3.5}}, True),
    ({"pain_score": {"min": 3}}, {"pain_score": {"min": 3.5}}, False),
    ({"pain_score": {"max": 3}}, {"not": {"pain_score": {"min": 4}}}, True),
    ({"one_rep_max_kg": {"min": 2.5}}, {"one_rep_max_kg": {"min": 3}}, False),
    ({"one_rep_max_kg": {"min": 3}}, {"one_rep_max_kg": {"min": 2.5}}, True),
    ({"one_rep_max_kg": {"min": 0}}, {}, True),
    ({}, {"one_rep_max_kg": {"min": 0}}, True),
    ({}, {"pain_score": {"max": 9}}, False),
    ({"smoker": True}, {"not": {"smoker": False}}, True),
    ({"site": "knee", "region": "upper-limb"}, {"site": "femoral-head"}, True),  # nothing to contradict
    pytest.param({"pain_score": {"min": 2.5}}, {"pain_score": {"min": 3}}, True, id="integer-above-2.5-is-3-up"),
])
def test_implies(narrow: dict[str, Any], wide: dict[str, Any], expected: bool) -> None:
    assert SEARCH.implies(c(narrow), c(wide)) is expected


# --- the step limit ----------------------------------------------------------------------------------

def test_too_large_a_question_raises_rather_than_guesses() -> None:
    small = CaseSearch(VOCABULARY, SearchLimits(max_steps=3))
    question = [c({"site": "knee", "arco_stage": "IV", "phase": "chronic"})]
    with pytest.raises(SearchTooLarge, match="more than 3 partial cases"):
        small.find(question)
    assert CaseSearch(VOCABULARY, SearchLimits(max_steps=20)).find(question) == {
        "phase": "chronic", "site": "knee", "arco_stage": "IV"}


# --- agreement with brute force --------------------------------------------------------------------

def _base_facts(conditions: list[Condition]) -> list[str]:
    """The base facts the conditions read, directly or through derived facts."""
    pending = [t.fact for cond in conditions for t in fact_tests(cond)]
    base: set[str] = set()
    while pending:
        fact = pending.pop()
        derived = VOCABULARY.derived.get(fact)
        if derived is not None:
            pending.extend(t.fact for _, when in derived.cases for t in fact_tests(when))
        elif fact not in base:
            base.add(fact)
    return sorted(base)


def _thresholds(conditions: list[Condition], fact: str) -> set[float]:
    return {b for cond in conditions for t in fact_tests(cond) if t.fact == fact
            for b in (t.low, t.high) if b is not None}


def _all_values(fact: str, conditions: list[Condition], vocabulary: Vocabulary = VOCABULARY) -> list[Any]:
    """Every value of the fact, or (for a real number) a grid: the bounds, every threshold, and
    points just beside and between them."""
    declared = vocabulary.facts[fact]
    if declared.type == "enum":
        return list(declared.values)
    if declared.type == "boolean":
        return [False, True]
    if declared.type == "set":
        return [list(s) for n in range(len(declared.values) + 1) for s in combinations(declared.values, n)]
    assert declared.low is not None and declared.high is not None
    if declared.integer:
        return list(range(int(declared.low), int(declared.high) + 1))
    marks = sorted({declared.low, declared.high} | _thresholds(conditions, fact))
    grid = set(marks) | {(a + b) / 2 for a, b in zip(marks, marks[1:])}
    grid |= {m + d for m in marks for d in (-0.01, 0.01)}
    return sorted(v for v in grid if declared.low <= v <= declared.high)


def _every_case(conditions: list[Condition]) -> Iterator[dict[str, Any]]:
    facts = _base_facts(conditions)
    for values in product(*(_all_values(f, conditions) for f in facts)):
        yield dict(zip(facts, values))


def _brute_both(a: Condition, b: Condition) -> list[dict[str, Any]]:
    return [case for case in _every_case([a, b]) if holds(a, case) is True and holds(b, case) is True]


PAIRS = [
    pytest.param({"site": "knee"}, {"region": "upper-limb"}, id="site-vs-region"),
    pytest.param({"region": "lower-limb", "not": {"phase": "acute"}}, {"comorbidities": {"has": "thrombocytopenia"}},
                 id="rt001-vs-precaution"),
    pytest.param({"region": "lower-limb", "not": {"phase": "acute"}}, {"phase": "acute"}, id="rt001-vs-acute"),
    pytest.param({"collapse": "pre-collapse"}, {"arco_stage": {"in": ["IIIA", "IV"]}}, id="collapse-vs-stage"),
    pytest.param({"any": [{"collapse": "post-collapse"}, {"site": "humeral-head"}]},
                 {"region": "upper-limb", "not": {"arco_stage": {"not_in": ["I", "II"]}}}, id="any-and-not"),
    pytest.param({"pain_score": {"max": 3}}, {"pain_score": {"min": 3}}, id="integer-touching"),
    pytest.param({"pain_score": {"max": 3}}, {"pain_score": {"min": 4}}, id="integer-apart"),
    pytest.param({"pain_score": {"min": 2, "max": 8}}, {"not": {"pain_score": {"min": 1, "max": 9}}},
                 id="integer-nested"),
    pytest.param({"one_rep_max_kg": {"max": 100}}, {"not": {"one_rep_max_kg": {"max": 100}}}, id="real-split"),
    pytest.param({"one_rep_max_kg": {"min": 100, "max": 100}}, {"one_rep_max_kg": {"min": 99.5}}, id="real-point"),
    pytest.param({"one_rep_max_kg": {"min": 100}}, {"not": {"one_rep_max_kg": {"min": 99.5}}}, id="real-apart"),
    pytest.param({"comorbidities": {"has": "osteoporosis"}}, {"comorbidities": {"lacks": "osteoporosis"}},
                 id="set-has-lacks"),
    pytest.param({"comorbidities": {"lacks": "thrombocytopenia"}, "not": {"comorbidities": {"lacks": "osteoporosis"}}},
                 {"comorbidities": {"has": "thrombocytopenia"}}, id="set-not-lacks"),
    pytest.param({"comorbidities": {"has": "osteoporosis"}, "pain_score": {"min": 5}},
                 {"any": [{"comorbidities": {"lacks": "thrombocytopenia"}}, {"pain_score": {"max": 4}}]},
                 id="set-and-number"),
    pytest.param({"smoker": True, "site": "knee"}, {"not": {"smoker": True}}, id="boolean-apart"),
    pytest.param({"smoker": False}, {"region": "lower-limb", "collapse": "post-collapse"}, id="boolean-and-derived"),
    pytest.param({"pain_score": {"min": 2.5}}, {"pain_score": {"max": 2.9}}, id="integer-between-whole-numbers"),
    pytest.param({"pain_score": {"min": 7.2, "max": 7.8}}, {}, id="integer-range-without-whole-number"),
]
FIND_PAIRS = PAIRS


@pytest.mark.parametrize("raw_a,raw_b", FIND_PAIRS)
def test_search_agrees_with_brute_force(raw_a: dict[str, Any], raw_b: dict[str, Any]) -> None:
    a, b = c(raw_a), c(raw_b)
    both = _brute_both(a, b)
    found = SEARCH.find([a, b])
    assert (found is None) == (both == []), f"search found {found}, brute force {both[:3]}"
    if found is not None:
        assert holds(a, found) is True and holds(b, found) is True


@pytest.mark.parametrize("raw_a,raw_b", PAIRS)
def test_implies_agrees_with_brute_force(raw_a: dict[str, Any], raw_b: dict[str, Any]) -> None:
    a, b = c(raw_a), c(raw_b)
    for narrow, wide in ((a, b), (b, a)):
        counter = [case for case in _every_case([a, b])
                   if holds(narrow, case) is True and holds(wide, case) is not True]
        assert SEARCH.implies(narrow, wide) is (counter == []), f"counterexamples {counter[:3]}"


@pytest.mark.parametrize("raw_a,raw_b,exists", [
    ({"collapse": "pre-collapse"}, {"ficat_stage": "III"}, False),
    ({"collapse": "pre-collapse"}, {"ficat_stage": "II"}, True),
    ({"collapse": "post-collapse"}, {"not": {"arco_stage": {"in": ["IIIA", "IIIB", "IV"]}}}, False),
    ({"collapse": "pre-collapse", "site": "knee"}, {"any": [{"arco_stage": "IIIA"}, {"ficat_stage": "I"}]}, True),
    ({"arco_stage": "IIIA"}, {"ficat_stage": {"in": ["I", "II"]}}, False),
])
def test_disagreeing_stages_are_no_case(raw_a: dict[str, Any], raw_b: dict[str, Any], exists: bool) -> None:
    a, b = c(raw_a), c(raw_b)
    facts = sorted({"arco_stage", "ficat_stage"} | {t.fact for t in [*fact_tests(a), *fact_tests(b)]} - {"collapse"})
    values = {name: list(STAGINGS.fact_values(name)) for name in facts}
    cases = [dict(zip(facts, combo)) for combo in product(*(values[f] for f in facts))]
    valid = [case for case in cases if case_problems(STAGINGS, case) == []]
    assert len(valid) < len(cases)  # some cases are refused
    both = [case for case in valid if all(evaluate(x, with_derived(STAGINGS, case)) is True for x in (a, b))]
    assert (both != []) is exists
    found = CaseSearch(STAGINGS).find([a, b])
    assert (found is not None) is exists
    if found is not None:
        assert case_problems(STAGINGS, found) == []
        assert [evaluate(x, with_derived(STAGINGS, found)) for x in (a, b)] == [True, True]


def test_brute_force_finds_what_it_should() -> None:
    """The enumeration itself is trusted only if it can see both outcomes."""
    assert _brute_both(c({"pain_score": {"max": 3}}), c({"pain_score": {"min": 3}})) == [{"pain_score": 3}]
    assert _brute_both(c({"site": "knee"}), c({"region": "upper-limb"})) == []
    assert len(list(_every_case([c({"region": "lower-limb", "comorbidities": {"has": "osteoporosis"}})]))) == 3 * 4


# --- samples of conditions that read derived facts (avn_kb/lang/split_samples.py) -------------------

@pytest.mark.parametrize("raw", [
    {"collapse": "post-collapse", "phase": "chronic", "pain_score": {"max": 3}},
    {"region": "upper-limb", "comorbidities": {"has": "osteoporosis"}, "smoker": False},
    {"any": [{"collapse": "post-collapse"}, {"site": "humeral-head"}], "not": {"phase": "acute"}},
    {"collapse": "pre-collapse", "region": "lower-limb", "pain_score": {"min": 4, "max": 6}},
    {"collapse": "post-collapse", "arco_stage": "II", "phase": "chronic"},
    {"region": "upper-limb", "site": "knee", "comorbidities": {"lacks": "osteoporosis"}},
    {"region": "upper-limb", "pain_score": {"min": 8}, "not": {"pain_score": {"min": 5}}},
])
def test_split_samples_agree_with_brute_force(raw: dict[str, Any]) -> None:
    condition = c(raw)
    search = CaseSearch(VOCABULARY)
    exists = any(holds(condition, case) is True for case in _every_case([condition]))
    assert search.satisfiable(condition) is exists
    axes = search.axes_for([condition])
    samples = search.complete_cases(condition, axes)
    assert bool(samples) is exists
    for facts in samples:
        given = {fact: value for fact, value in facts.items() if fact in VOCABULARY.facts}
        assert case_problems(VOCABULARY, given) == []
        assert holds(condition, given) is True
    if len(samples) == 3:  # made in two parts, not by a search of the whole condition
        assert search.samples.split_cases(condition, axes, 3) == samples
