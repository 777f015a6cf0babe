"""The benchmark's comparison of the resolver with zen-engine (benchmarks/engines.py) compares
like with like: the recommendations whose own condition holds. A decision table has no overrides
and no third value, so the recommendations the resolver leaves undecided for an undecided
overrider (the fail-safe rule) are held on the resolver's side too, and counted apart as what the
table cannot express; every other difference is an unexplained mismatch."""

from __future__ import annotations

import datetime as dt

import pytest

from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.conditions import evaluate
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.resolve.resolver import Index, resolve
from benchmarks import cases as case_maker
from benchmarks import engines
from tests.conftest import ROOT

SHIPPED = ROOT / "knowledge"
AS_OF = dt.date(2026, 12, 1)  # the shipped recommendations are in force from this day
# No red flags given: PR-007 (red flags: stop loading) is undecided, so what it overrides waits.
WAITING_CASE = {"site": "knee", "phase": "chronic", "ficat_stage": "III", "comorbidities": [], "pain_score": 3,
                "estimated_one_rep_max_kg": 70, "hematologic_malignancy": False,
                "causes": ["hematologic-malignancy-treatment", "sickle-cell-disease"]}


Shipped = tuple[KnowledgeBase, Index]


@pytest.fixture(scope="module")
def shipped() -> Shipped:
    kb = load_knowledge(SHIPPED, str(SHIPPED)).kb
    return kb, Index(kb)


def test_held_counts_what_waits_for_an_undecided_overrider_and_nothing_undecided_for_its_own_facts(
        shipped: Shipped) -> None:
    kb, index = shipped
    resolution = resolve(kb, WAITING_CASE, as_of=AS_OF, index=index)
    held = engines.held(resolution)
    assert held.waiting, "the case must leave some recommendation waiting for an undecided overrider"
    outcomes = {o.rec.id: o for o in resolution.outcomes}
    for rec_id, overriders in held.waiting.items():
        outcome = outcomes[rec_id]
        assert outcome.outcome == "undecided" and evaluate(outcome.rec.when, resolution.facts) is True
        assert overriders == tuple(p.id for p in outcome.pending_overrides)
    assert held.ids == {*resolution.ids("applies"), *resolution.ids("overridden"), *held.waiting}
    # Undecided for a fact its own condition lacks: held by neither engine (no row matches it).
    own = [o for o in resolution.by_outcome("undecided") if evaluate(o.rec.when, resolution.facts) is None]
    assert own and not {o.rec.id for o in own} & held.ids


def test_resolver_and_zen_hold_the_same_conditions_with_the_waiting_cases_apart(shipped: Shipped) -> None:
    pytest.importorskip("zen", reason="zen-engine is a bench dependency (pip install -e '.[bench]')")
    kb, _ = shipped
    assert kb.vocabulary is not None
    cases = case_maker.make_cases(kb.vocabulary, 300)
    comparison = engines.compare(kb, cases, AS_OF, check=300)
    assert comparison.compared == 300 and comparison.applying_mean > 0
    # Before: applies and overridden only, so every waiting case was a "disagreement" (91 of 500).
    assert comparison.mismatches == 0, comparison.first_mismatch
    assert comparison.waiting > 0 and "leaves it undecided until" in comparison.first_waiting
