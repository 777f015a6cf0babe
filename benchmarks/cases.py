"""Synthetic patient cases for the resolver benchmark: valid against the shipped vocabulary, one
staging system per case (so the stages never disagree), and some facts left out, as in real
queries (so some answers are undecided)."""

from __future__ import annotations

import random
from typing import Any

from avn_kb.lang.case_checks import case_problems
from avn_kb.model.knowledge import Vocabulary

# How often each fact is given.
PRESENT = {"site": 0.95, "phase": 0.9, "etiology": 0.85, "pain_score": 0.85, "one_rep_max_kg": 0.7,
           "comorbidities": 0.85, "hematologic_malignancy": 0.85, "stage": 0.8}


def make_cases(vocabulary: Vocabulary, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` cases, the same for the same seed; each one checked against the vocabulary."""
    rng = random.Random(seed)
    cases = [_case(vocabulary, rng) for _ in range(count)]
    for case in cases:
        problems = case_problems(vocabulary, case)
        if problems:
            raise ValueError(f"generated case {case} is invalid: {problems[0].message}")
    return cases


def _case(vocabulary: Vocabulary, rng: random.Random) -> dict[str, Any]:
    def given(fact: str) -> bool:
        return rng.random() < PRESENT[fact]

    case: dict[str, Any] = {}
    for fact in ("site", "phase", "etiology"):
        if given(fact):
            case[fact] = rng.choice(vocabulary.fact_values(fact))
    if given("stage"):
        # ARCO is defined for the femoral head; Ficat is used everywhere.
        system = "arco_stage" if case.get("site") == "femoral-head" and rng.random() < 0.7 else "ficat_stage"
        case[system] = rng.choice(vocabulary.fact_values(system))
    if given("pain_score"):
        case["pain_score"] = rng.randint(0, 10)
    if given("one_rep_max_kg"):
        case["one_rep_max_kg"] = rng.randint(20, 400)
    if given("comorbidities"):
        values = vocabulary.fact_values("comorbidities")
        case["comorbidities"] = sorted(rng.sample(values, rng.choice((0, 0, 1, 1, 2, 3))))
    if given("hematologic_malignancy"):
        case["hematologic_malignancy"] = rng.random() < 0.2
    return case
