"""The condition language: parsing and three-valued evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from avn_kb.model.conditions import ALWAYS, describe, evaluate, facts_of, parse

COND = parse({"site": "femoral-head", "any": [{"arco_stage": {"in": ["I", "II"]}}, {"ficat_stage": {"in": ["I", "II"]}}],
              "not": {"comorbidities": {"has": "thrombocytopenia"}}, "pain_score": {"max": 3}})


@pytest.mark.parametrize("facts,expected", [
    ({"site": "femoral-head", "arco_stage": "II", "comorbidities": [], "pain_score": 2}, True),
    ({"site": "knee", "arco_stage": "II", "comorbidities": [], "pain_score": 2}, False),
    ({"site": "femoral-head", "ficat_stage": "I", "comorbidities": [], "pain_score": 3}, True),
    ({"site": "femoral-head", "arco_stage": "IV", "comorbidities": [], "pain_score": 2}, None),  # ficat unknown
    ({"site": "femoral-head", "arco_stage": "IV", "ficat_stage": "IV", "comorbidities": [], "pain_score": 2}, False),
    ({"site": "femoral-head", "arco_stage": "II", "comorbidities": ["thrombocytopenia"], "pain_score": 2}, False),
    ({"site": "femoral-head", "arco_stage": "II", "pain_score": 2}, None),  # comorbidities not given
    ({"site": "femoral-head", "arco_stage": "II", "comorbidities": [], "pain_score": 4}, False),
    ({"arco_stage": "II", "comorbidities": [], "pain_score": 2}, None),
    ({"site": "knee"}, False),  # one false conjunct decides, whatever is missing
])
def test_three_valued_evaluation(facts: dict[str, Any], expected: bool | None) -> None:
    assert evaluate(COND, facts) is expected


def test_booleans_do_not_match_numbers() -> None:
    assert evaluate(parse({"flag": True}), {"flag": 1}) is False
    assert evaluate(parse({"flag": {"is": True}}), {"flag": True}) is True


def test_empty_condition_always_holds() -> None:
    assert parse({}) == ALWAYS
    assert evaluate(parse({"all": []}), {}) is True


def test_facts_and_description() -> None:
    assert facts_of(COND) == {"site", "arco_stage", "ficat_stage", "comorbidities", "pain_score"}
    assert describe(parse({"site": {"in": ["knee", "talus"]}, "pain_score": {"min": 2, "max": 5}})) == \
        "site in [knee, talus] and pain_score between 2 and 5"
