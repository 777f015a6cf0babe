"""Synthetic patient cases for the resolver benchmark: valid against the shipped vocabulary, one
staging system per case (so the stages never disagree), and some facts left out, as in real
queries (so some answers are undecided)."""

from __future__ import annotations

import random
from typing import Any

from avn_kb.lang.case_checks import case_problems
from avn_kb.lang.derive import undefined_here, with_derived
from avn_kb.model.knowledge import Vocabulary

# How often each fact is given.
PRESENT = {"site": 0.95, "phase": 0.9, "causes": 0.85, "pain_score": 0.85, "estimated_one_rep_max_kg": 0.7,
           "comorbidities": 0.85, "hematologic_malignancy": 0.85, "stage": 0.8, "red_flags": 0.8,
           "platelet_count": 0.3, "other_joint_pain": 0.5}
STAGES = ("arco_stage", "ficat_stage", "lichtman_stage", "knee_osteonecrosis_type")


def make_cases(vocabulary: Vocabulary, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` cases, the same for the same seed; each one checked against the vocabulary."""
    rng = random.Random(seed)
    return [_valid_case(vocabulary, rng) for _ in range(count)]


def _valid_case(vocabulary: Vocabulary, rng: random.Random) -> dict[str, Any]:
    """A drawn case the case checks accept (facts can disagree: a platelet count against the
    comorbidities that say it is low), drawn again until one is."""
    for _ in range(100):
        case = _case(vocabulary, rng)
        problems = case_problems(vocabulary, case)
        if not problems:
            return case
    raise ValueError(f"no valid case drawn in 100 tries; the last: {case} ({problems[0].message})")


def _subset(vocabulary: Vocabulary, fact: str, rng: random.Random) -> list[str]:
    values = list(vocabulary.fact_values(fact))
    return sorted(rng.sample(values, min(len(values), rng.choice((0, 0, 1, 1, 2, 3)))))


def _case(vocabulary: Vocabulary, rng: random.Random) -> dict[str, Any]:
    def given(fact: str) -> bool:
        return fact in vocabulary.facts and rng.random() < PRESENT[fact]

    case: dict[str, Any] = {}
    for fact in ("site", "phase"):
        if given(fact):
            case[fact] = rng.choice(vocabulary.fact_values(fact))
    if rng.random() < PRESENT["stage"]:
        # One staging system, among those defined for the site (the case checks refuse the others).
        usable = [system for system in STAGES if system in vocabulary.facts
                  and system not in undefined_here(vocabulary, with_derived(vocabulary, case))]
        if usable:
            system = rng.choice(usable)
            case[system] = rng.choice(vocabulary.fact_values(system))
    for fact in ("causes", "comorbidities", "red_flags"):
        if given(fact):
            case[fact] = _subset(vocabulary, fact, rng)
    if given("pain_score"):
        case["pain_score"] = rng.randint(0, 10)
    if given("estimated_one_rep_max_kg"):
        case["estimated_one_rep_max_kg"] = rng.randint(20, 400)
    if given("platelet_count"):
        case["platelet_count"] = rng.choice((15, 40, 80, 150, 300))
    for fact in ("hematologic_malignancy", "other_joint_pain"):
        if given(fact):
            case[fact] = rng.random() < 0.2
    return case
