"""The resolver's rules, one test each: applies, does not apply, undecided (with the facts that
would decide it), overridden, conflict flag, status and date filters, supersession, kilograms."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.conditions import parse
from avn_kb.model.knowledge import KnowledgeBase, Recommendation
from avn_kb.resolve.resolver import Index, resolve
from tests.conftest import MINI

DAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(MINI, "mini").kb


def _outcomes(kb: KnowledgeBase, case: dict[str, Any], **options: Any) -> dict[str, str]:
    return {o.rec.id: o.outcome for o in resolve(kb, case, as_of=DAY, **options).outcomes}


def _with(kb: KnowledgeBase, *recs: Recommendation) -> KnowledgeBase:
    return replace(kb, recommendations=kb.recommendations + recs)


def _variant(kb: KnowledgeBase, rec_id: str, **changes: Any) -> Recommendation:
    rec = kb.recommendation(rec_id)
    assert rec is not None
    return replace(rec, **changes)


def test_applies_and_does_not_apply(kb: KnowledgeBase) -> None:
    assert _outcomes(kb, {"site": "femoral-head", "arco_stage": "II", "phase": "chronic"}) == {
        "OF-001": "applies", "RT-001": "applies"}
    assert _outcomes(kb, {"site": "humeral-head", "arco_stage": "II", "phase": "chronic"}) == {
        "OF-001": "not-applicable", "RT-001": "not-applicable"}


def test_undecided_names_the_facts_that_decide_it(kb: KnowledgeBase) -> None:
    resolution = resolve(kb, {"site": "femoral-head"}, as_of=DAY)
    undecided = {o.rec.id: o for o in resolution.by_outcome("undecided")}
    assert sorted(undecided) == ["OF-001", "RT-001"]
    assert undecided["OF-001"].missing == ("arco_stage",)  # collapse is derived from the stage
    assert undecided["OF-001"].reason == "give arco_stage"
    assert undecided["RT-001"].missing == ("phase",)
    # Giving the missing fact decides it.
    assert _outcomes(kb, {"site": "femoral-head", "arco_stage": "IV"})["OF-001"] == "not-applicable"
    assert _outcomes(kb, {"site": "femoral-head", "phase": "acute"})["RT-001"] == "not-applicable"


def test_missing_fact_never_reads_as_false(kb: KnowledgeBase) -> None:
    assert _outcomes(kb, {})["OF-001"] == "undecided"


def test_overridden_names_the_winner_and_only_winners_override(kb: KnowledgeBase) -> None:
    avoid = _variant(kb, "RT-001", id="PR-001", when=parse({"comorbidities": {"has": "thrombocytopenia"}}),
                     action=replace(kb.recommendation("RT-001").action, kind="avoid", dose={}),  # type: ignore[union-attr]
                     overrides=("RT-001",))
    bigger = _with(kb, avoid)
    case = {"site": "knee", "phase": "chronic", "comorbidities": ["thrombocytopenia"]}
    resolution = resolve(bigger, case, as_of=DAY)
    rt = next(o for o in resolution.outcomes if o.rec.id == "RT-001")
    assert (rt.outcome, rt.overridden_by) == ("overridden", ("PR-001",))
    assert _outcomes(bigger, {**case, "comorbidities": []})["RT-001"] == "applies"
    # PR-001 itself overridden by a third one: it no longer overrides RT-001.
    top = _variant(kb, "RT-001", id="PR-002", overrides=("PR-001",), when=parse({"site": "knee"}),
                   action=replace(kb.recommendation("RT-001").action, dose={"sets": (1, 1)}))  # type: ignore[union-attr]
    outcomes = _outcomes(_with(bigger, top), case)
    assert (outcomes["PR-001"], outcomes["RT-001"], outcomes["PR-002"]) == ("overridden", "applies", "applies")


def test_open_recommendation_that_an_applying_one_overrides_stays_undecided_and_says_it_cannot_apply(
        kb: KnowledgeBase) -> None:
    # Its condition may still turn out false (then it does not apply) or true (then it is
    # overridden): neither is known, so neither is said; the reason says it cannot apply.
    winner = _variant(kb, "RT-001", id="RT-009", when=parse({"site": "knee"}), overrides=("RT-001",))
    outcome = next(o for o in resolve(_with(kb, winner), {"site": "knee"}, as_of=DAY).outcomes if o.rec.id == "RT-001")
    assert (outcome.outcome, outcome.missing, outcome.would_be_overridden_by) == ("undecided", ("phase",), ("RT-009",))
    assert outcome.reason == "give phase (it cannot apply: if it holds, RT-009 overrides it)"
    assert _outcomes(_with(kb, winner), {"site": "knee", "phase": "chronic"})["RT-001"] == "overridden"


def _light_dose(kb: KnowledgeBase) -> Recommendation:
    """An override of RT-001 for thrombocytopenia, as the shipped PR-005 is."""
    return _variant(kb, "RT-001", id="PR-009", title="Light dose when platelets are low",
                    when=parse({"comorbidities": {"has": "thrombocytopenia"}}),
                    action=replace(kb.recommendation("RT-001").action, dose={"sets": (1, 1)}),  # type: ignore[union-attr]
                    overrides=("RT-001",))


def test_undecided_override_leaves_what_it_overrides_undecided_and_names_it(kb: KnowledgeBase) -> None:
    # The issue: a missing blood count must not release the standard dose.
    resolution = resolve(_with(kb, _light_dose(kb)), {"site": "knee", "phase": "chronic"}, as_of=DAY)
    rt = next(o for o in resolution.outcomes if o.rec.id == "RT-001")
    assert rt.outcome == "undecided"
    assert [(p.id, p.title, p.missing) for p in rt.pending_overrides] == [
        ("PR-009", "Light dose when platelets are low", ("comorbidities",))]
    assert rt.missing == ("comorbidities",)
    assert rt.reason == "PR-009 (Light dose when platelets are low) overrides it if it applies: give comorbidities"
    assert rt.load_kg == {}
    assert "RT-001" not in resolution.ids("applies")
    # Either answer to the missing fact decides both.
    bigger = _with(kb, _light_dose(kb))
    assert _outcomes(bigger, {"site": "knee", "phase": "chronic", "comorbidities": []})["RT-001"] == "applies"
    assert _outcomes(bigger, {"site": "knee", "phase": "chronic", "comorbidities": ["thrombocytopenia"]})[
        "RT-001"] == "overridden"


def test_pending_chain_names_the_facts_of_every_link(kb: KnowledgeBase) -> None:
    # PR-010 overrides PR-009, which overrides RT-001; PR-010 is open on phase... on arco_stage.
    top = _variant(kb, "RT-001", id="PR-010", title="Top", when=parse({"arco_stage": "IV"}), overrides=("PR-009",))
    case = {"site": "knee", "phase": "chronic", "comorbidities": ["thrombocytopenia"]}
    resolution = resolve(_with(kb, _light_dose(kb), top), case, as_of=DAY)
    by_id = {o.rec.id: o for o in resolution.outcomes}
    assert by_id["PR-009"].outcome == "undecided"
    assert [(p.id, p.missing) for p in by_id["PR-009"].pending_overrides] == [("PR-010", ("arco_stage",))]
    assert by_id["RT-001"].outcome == "undecided"
    assert [(p.id, p.missing) for p in by_id["RT-001"].pending_overrides] == [("PR-009", ("arco_stage",))]


def test_unresolved_contradiction_is_flagged_on_both(kb: KnowledgeBase) -> None:
    rival = _variant(kb, "RT-001", id="RT-002", action=replace(kb.recommendation("RT-001").action,  # type: ignore[union-attr]
                                                                 dose={"intensity_pct_1rm": (70, 80)}))
    resolution = resolve(_with(kb, rival), {"site": "knee", "phase": "chronic"}, as_of=DAY)
    flags = {o.rec.id: o.conflicts_with for o in resolution.by_outcome("applies")}
    assert flags == {"RT-001": ("RT-002",), "RT-002": ("RT-001",)}


def test_status_filter_and_include_status(kb: KnowledgeBase) -> None:
    draft = _variant(kb, "RT-001", id="RT-003", status="draft")
    case = {"site": "knee", "phase": "chronic"}
    assert _outcomes(_with(kb, draft), case)["RT-003"] == "excluded"
    assert _outcomes(_with(kb, draft), case, statuses=("approved", "draft"))["RT-003"] == "applies"


def test_effective_dates(kb: KnowledgeBase) -> None:
    later = _variant(kb, "RT-001", id="RT-004", effective_from="2027-01-01")
    ended = _variant(kb, "RT-001", id="RT-005", effective_until="2026-01-01")
    outcomes = _outcomes(_with(kb, later, ended), {"site": "knee", "phase": "chronic"})
    assert (outcomes["RT-004"], outcomes["RT-005"]) == ("excluded", "excluded")
    later_on = resolve(_with(kb, later), {"site": "knee", "phase": "chronic"}, as_of=dt.date(2027, 2, 1))
    assert "RT-004" in later_on.ids("applies")


def test_superseded_drops_out(kb: KnowledgeBase) -> None:
    newer = _variant(kb, "RT-001", id="RT-006", supersedes=("RT-001",))
    resolution = resolve(_with(kb, newer), {"site": "knee", "phase": "chronic"}, as_of=DAY)
    rt = next(o for o in resolution.outcomes if o.rec.id == "RT-001")
    assert (rt.outcome, rt.reason) == ("excluded", "superseded by RT-006")


def test_percent_of_one_rep_max_becomes_kilograms(kb: KnowledgeBase) -> None:
    resolution = resolve(kb, {"site": "knee", "phase": "chronic", "one_rep_max_kg": 80}, as_of=DAY)
    rt = next(o for o in resolution.outcomes if o.rec.id == "RT-001")
    assert rt.load_kg == {"intensity_pct_1rm": (32.0, 48.0)}
    without = resolve(kb, {"site": "knee", "phase": "chronic"}, as_of=DAY)
    assert next(o for o in without.outcomes if o.rec.id == "RT-001").load_kg == {}


def test_derived_fact_given_directly_is_kept(kb: KnowledgeBase) -> None:
    assert _outcomes(kb, {"site": "femoral-head", "collapse": "pre-collapse"})["OF-001"] == "applies"


def _candidates(index: Index, facts: dict[str, Any]) -> set[str]:
    return {index.recommendations[i].id for i in index.candidates(facts, ("approved",), DAY.isoformat())}


def test_index_visits_only_candidates(kb: KnowledgeBase) -> None:
    index = Index(kb)
    assert _candidates(index, {"site": "humeral-head", "region": "upper-limb"}) == set()
    assert _candidates(index, {"site": "femoral-head", "region": "lower-limb"}) == {"OF-001", "RT-001"}
    assert _candidates(index, {}) == {"OF-001", "RT-001"}


def test_explanation_trace_agrees_with_outcome(kb: KnowledgeBase) -> None:
    resolution = resolve(kb, {"site": "knee", "phase": "acute"}, as_of=DAY, explain=True)
    rt = next(o for o in resolution.outcomes if o.rec.id == "RT-001")
    assert rt.outcome == "not-applicable"
    assert [(t.test, t.value, t.held) for t in rt.trace] == [
        ("region is lower-limb", "lower-limb", True), ("not (phase is acute)", "acute", False)]


def test_resolve_is_pure(kb: KnowledgeBase) -> None:
    case = {"site": "femoral-head", "arco_stage": "II"}
    first = resolve(kb, case, as_of=DAY)
    assert resolve(kb, case, as_of=DAY) == first
    assert case == {"site": "femoral-head", "arco_stage": "II"}


def test_golden_cases_of_the_mini_knowledge_base(kb: KnowledgeBase, tmp_path: Path) -> None:
    from avn_kb.resolve.golden import run_all, unexercised

    runs = run_all(kb, DAY)
    assert [(r.case.id, r.failures) for r in runs] == [("CASE-001", ()), ("CASE-002", ())]
    assert unexercised(kb, runs) == []


def _defined_for_femoral_head(kb: KnowledgeBase) -> KnowledgeBase:
    """The mini knowledge base with arco_stage defined only at the femoral head, and a
    recommendation that reads collapse alone."""
    vocabulary = kb.vocabulary
    assert vocabulary is not None
    facts = dict(vocabulary.facts)
    facts["arco_stage"] = replace(facts["arco_stage"], defined_for=parse({"site": "femoral-head"}))
    collapsed = _variant(kb, "OF-001", id="MO-009", when=parse({"collapse": "post-collapse"}))
    return replace(kb, vocabulary=replace(vocabulary, facts=facts), recommendations=kb.recommendations + (collapsed,))


def test_a_fact_the_case_cannot_give_is_decided_empty_and_never_asked_for(kb: KnowledgeBase) -> None:
    # At the knee arco_stage cannot be given, so collapse (read from it alone here) has no value:
    # what needs it does not apply, rather than waiting for a fact the case checks would refuse.
    defined = _defined_for_femoral_head(kb)
    resolution = resolve(defined, {"site": "knee", "phase": "chronic"}, as_of=DAY)
    outcomes = {o.rec.id: o for o in resolution.outcomes}
    assert outcomes["MO-009"].outcome == "not-applicable"
    assert all("arco_stage" not in o.missing for o in resolution.outcomes)
    # Where it can be given, it is asked for.
    at_hip = {o.rec.id: o for o in resolve(defined, {"site": "femoral-head"}, as_of=DAY).outcomes}
    assert (at_hip["MO-009"].outcome, at_hip["MO-009"].missing) == ("undecided", ("arco_stage",))
    # With the site unknown, the stage may still be given: still asked for.
    anywhere = {o.rec.id: o for o in resolve(defined, {}, as_of=DAY).outcomes}
    assert anywhere["MO-009"].outcome == "undecided" and "arco_stage" in anywhere["MO-009"].missing


def test_two_applying_doses_that_differ_are_flagged_on_both(kb: KnowledgeBase) -> None:
    # The issue: a copy of RT-001 at 60-80% beside RT-001's 40-60%: overlapping, so no conflict,
    # but two doses for one patient (AVN307 in the validator) and the answer says so.
    rival = _variant(kb, "RT-001", id="RT-002", action=replace(kb.recommendation("RT-001").action,  # type: ignore[union-attr]
                                                                 dose={"intensity_pct_1rm": (60, 80), "sets": (1, 3)}))
    resolution = resolve(_with(kb, rival), {"site": "knee", "phase": "chronic"}, as_of=DAY)
    flags = {o.rec.id: (o.conflicts_with, o.doses_differ_with) for o in resolution.by_outcome("applies")}
    assert flags == {"RT-001": ((), (("RT-002", ("intensity_pct_1rm",)),)),
                     "RT-002": ((), (("RT-001", ("intensity_pct_1rm",)),))}
    same = _variant(kb, "RT-001", id="RT-002")
    same_flags = {o.rec.id: o.doses_differ_with for o in resolve(_with(kb, same), {"site": "knee", "phase": "chronic"},
                                                                 as_of=DAY).by_outcome("applies")}
    assert same_flags == {"RT-001": (), "RT-002": ()}
