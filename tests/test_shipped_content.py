"""Safety properties of the shipped guidance (issue 13), checked over a grid of patients rather than
a few golden cases: no standard training dose after collapse, with collapse unknown, with a red
flag (or red flags not asked about), with low or unknown platelet counts in a haematological
malignancy; no applying recommendation prescribes an exercise that loads the affected site; the
corticosteroid rule holds whatever other causes are recorded. And the stages are accepted only at
their own sites: ARCO at the femoral head, Lichtman at the lunate, Ficat elsewhere."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from avn_kb.lang.case_checks import case_problems
from avn_kb.lang.exercise_loads import loading_exercises
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.resolve.resolver import Index, Resolution, resolve
from tests.conftest import SHIPPED, run_cli

DAY = dt.date(2026, 12, 1)
STANDARD = ("RT-001", "RT-002", "RT-004")
# Everything that loads the affected joint: the standard dose and progression, quadriceps work,
# submaximal testing, the post-collapse and site programmes, conditioning, the light programme.
LOADING = ("RT-001", "RT-002", "RT-017", "RT-004", "RT-009", "RT-010", "RT-011", "RT-012", "RT-013", "RT-014",
           "RT-015", "RT-016", "CO-001", "PR-005", "PR-006")
STAGES = {"femoral-head": [("arco_stage", v) for v in ("I", "II", "IIIA", "IIIB", "IV")]
          + [("ficat_stage", v) for v in ("I", "II", "III", "IV")],
          "knee": [("ficat_stage", v) for v in ("I", "II", "III", "IV")],
          "talus": [("ficat_stage", v) for v in ("I", "II", "III", "IV")],
          "humeral-head": [("ficat_stage", v) for v in ("I", "II", "III", "IV")],
          "elbow": [("ficat_stage", v) for v in ("I", "II", "III", "IV")],
          "lunate": [("lichtman_stage", v) for v in ("I", "II", "IIIA", "IIIB", "IIIC", "IV")]}
# (hematologic_malignancy, comorbidities, platelet_count); None leaves the fact out.
BLOOD = [(False, [], None), (True, [], None), (True, ["thrombocytopenia"], 20), (True, ["thrombocytopenia"], 21),
         (True, ["thrombocytopenia"], 50), (True, [], 51), (False, ["thrombocytopenia"], 25), (None, None, None),
         (True, ["thrombocytopenia"], 19.9), (True, ["thrombocytopenia"], 50.5)]
RED_FLAGS: list[list[str] | None] = [[], ["new-limp"], None]
CAUSES = [[], ["corticosteroid"], ["corticosteroid", "hematologic-malignancy-treatment"]]


@cache
def shipped() -> tuple[KnowledgeBase, Index]:
    kb = load_knowledge(SHIPPED, "knowledge").kb
    return kb, Index(kb)


def grid() -> Iterator[dict[str, Any]]:
    """Every combination of site and stage (or none), blood counts, red flags and causes, chronic
    phase, as a patient case with the unknown facts left out."""
    for site, stages in STAGES.items():
        for stage, blood, flags, causes in itertools.product([None, *stages], BLOOD, RED_FLAGS, CAUSES):
            values = {"site": site, "other_affected_sites": [], "phase": "chronic", "causes": causes,
                      "other_joint_pain": False,
                      "hematologic_malignancy": blood[0], "comorbidities": blood[1], "platelet_count": blood[2],
                      "red_flags": flags}
            if stage is not None:
                values[stage[0]] = stage[1]
            yield {fact: value for fact, value in values.items() if value is not None}


@cache
def resolved() -> tuple[tuple[dict[str, Any], Resolution], ...]:
    kb, index = shipped()
    assert kb.vocabulary is not None
    accepted = [case for case in grid() if not case_problems(kb.vocabulary, case)]
    return tuple((case, resolve(kb, case, as_of=DAY, index=index)) for case in accepted)


def applying(resolution: Resolution) -> set[str]:
    return set(resolution.ids("applies"))


def test_the_grid_reaches_every_kind_of_patient() -> None:
    """The properties below are not vacuous: the grid holds cases of each kind, and the standard
    dose does apply to some of them."""
    cases = resolved()
    # 37 sites and stages (none included) x 10 blood-count records x 3 red-flag answers x 3 cause
    # sets: every one of them is a valid patient, none is refused.
    assert len(cases) == 37 * 10 * 3 * 3
    kinds = {(r.facts.get("collapse"), r.facts.get("platelet_tier"), tuple(c.get("red_flags", ("?",)))) for c, r in cases}
    assert {("post-collapse", "none", ()), ("pre-collapse", "none", ()), (None, "none", ()),
            ("pre-collapse", "walking-only", ()), ("pre-collapse", None, ()), ("pre-collapse", "none", ("?",)),
            ("pre-collapse", "none", ("new-limp",))} <= kinds
    assert sum(1 for _, r in cases if {"RT-001", "RT-002"} & applying(r)) > 50


@pytest.mark.parametrize(("name", "unsafe"), [pytest.param(*row, id=row[0]) for row in [
    ("after collapse", lambda c, r: r.facts.get("collapse") == "post-collapse"),
    ("with collapse unknown", lambda c, r: "collapse" not in r.facts),
    ("with a red flag", lambda c, r: bool(c.get("red_flags"))),
    ("with red flags not asked about", lambda c, r: "red_flags" not in c),
    ("with platelets at 50 or below", lambda c, r: c.get("platelet_count", 999) <= 50),
    ("with a haematological malignancy and no count", lambda c, r: c.get("hematologic_malignancy") is True
     and "platelet_count" not in c),
    ("with blood counts unknown", lambda c, r: "hematologic_malignancy" not in c),
]])
def test_no_standard_dose_or_progression(name: str, unsafe: Any) -> None:
    cases = [(c, r) for c, r in resolved() if unsafe(c, r)]
    assert cases, name
    for case, resolution in cases:
        assert not applying(resolution) & set(STANDARD), (name, case)


@pytest.mark.parametrize(("name", "unsafe"), [pytest.param(*row, id=row[0]) for row in [
    ("with a red flag", lambda c: bool(c.get("red_flags"))),
    ("with red flags not asked about", lambda c: "red_flags" not in c),
    ("with platelets at 20 or below", lambda c: c.get("platelet_count", 999) <= 20),
]])
def test_nothing_loads_the_affected_joint(name: str, unsafe: Any) -> None:
    cases = [(c, r) for c, r in resolved() if unsafe(c)]
    assert cases, name
    for case, resolution in cases:
        assert not applying(resolution) & set(LOADING), (name, case)


def test_no_applying_recommendation_prescribes_an_exercise_that_loads_the_site() -> None:
    kb, _ = shipped()
    assert kb.vocabulary is not None
    prescribed = 0
    for case, resolution in resolved():
        for outcome in resolution.by_outcome("applies"):
            prescribed += len(outcome.rec.action.exercises)
            assert loading_exercises(kb.vocabulary, outcome.rec.action, case) == (), (outcome.rec.id, case)
    assert prescribed > 0


def test_quadriceps_work_only_before_collapse_and_never_at_the_knee() -> None:
    """Second reading, H1: the quadriceps recommendation (RT-017, replacing RT-003) applies only
    where the quadriceps do not compress the affected joint and the joint has not collapsed; the
    retired RT-003, which invited stair training at every stage, applies nowhere."""
    reached = 0
    for case, resolution in resolved():
        applies = applying(resolution)
        assert "RT-003" not in applies, case
        if case["site"] == "knee" or resolution.facts.get("collapse") != "pre-collapse":
            assert "RT-017" not in applies, case
        reached += "RT-017" in applies
    assert reached > 0


# (platelet count, its tier): whole numbers on a boundary take the lower tier, decimals the tier
# of the interval they fall in; none falls between two tiers.
COUNT_TIERS = [(0, "walking-only"), (19.9, "walking-only"), (20, "walking-only"), (20.1, "light"), (20.5, "light"),
               (30, "light"), (30.05, "moderate"), (30.5, "moderate"), (50, "moderate"), (50.01, "none"),
               (50.5, "none"), (51, "none"), (2000, "none")]


@pytest.mark.parametrize(("count", "tier"), COUNT_TIERS)
def test_a_count_with_decimals_falls_in_exactly_one_tier(count: float, tier: str) -> None:
    """Lower: 19.9 was refused as "not a whole number"; counts are reported with decimals. The
    count-set recommendation PR-008 (no limit from the count) applies exactly above 50."""
    kb, index = shipped()
    assert kb.vocabulary is not None
    case = {"site": "femoral-head", "arco_stage": "II", "phase": "chronic", "hematologic_malignancy": True,
            "platelet_count": count, "red_flags": [], "causes": [], "other_joint_pain": False}
    assert case_problems(kb.vocabulary, case) == []
    resolution = resolve(kb, case, as_of=DAY, index=index)
    assert resolution.facts["platelet_tier"] == tier
    assert ("PR-008" in applying(resolution)) == (count > 50)


def test_a_decimal_count_is_accepted_on_the_command_line() -> None:
    result = run_cli("query", "--kb", str(SHIPPED), "--as-of", DAY.isoformat(), "--format", "json",
                     "--set", "hematologic_malignancy=true", "--set", "platelet_count=19.9")
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout)["case"]["platelet_count"] == 19.9


def test_a_red_flag_leaves_no_count_tier_that_permits_exercise() -> None:
    """Second reading, H2: with a red flag, no platelet tier that allows exercise (PR-008 to
    PR-010) applies beside the stop-loading rule PR-007, which does."""
    cases = [(c, r) for c, r in resolved() if c.get("red_flags")]
    assert cases
    for case, resolution in cases:
        applies = applying(resolution)
        assert "PR-007" in applies, case
        assert not applies & {"PR-008", "PR-009", "PR-010"}, case


@pytest.mark.parametrize(("stage", "applies", "never"), [
    (("arco_stage", "IIIA"), {"MO-009"}, {"MO-008", "MO-010"}),
    (("ficat_stage", "III"), {"MO-009"}, {"MO-008"}),
    (("arco_stage", "IIIB"), {"MO-010"}, {"MO-008"}),
    (("arco_stage", "IV"), {"MO-010"}, {"MO-008"}),
])
def test_early_collapse_of_the_femoral_head_is_assessed_for_joint_preservation(
        stage: tuple[str, str], applies: set[str], never: set[str]) -> None:
    """Second reading, H3: early collapse of the femoral head (ARCO IIIA; Ficat III, whose depth
    is not measured) gets prompt referral including joint preservation (MO-009), never the
    arthroplasty-only referral; deeper collapse and arthritis get MO-010."""
    cases = [(c, r) for c, r in resolved() if c["site"] == "femoral-head" and c.get(stage[0]) == stage[1]]
    assert cases
    for case, resolution in cases:
        assert applies <= applying(resolution), case
        assert not applying(resolution) & never, case


BASE = {"phase": "chronic", "causes": [], "hematologic_malignancy": False, "comorbidities": [],
        "red_flags": [], "other_joint_pain": False}


def outcomes_of(**facts: Any) -> dict[str, str]:
    kb, index = shipped()
    resolution = resolve(kb, {**BASE, **facts}, as_of=DAY, index=index)
    return {o.rec.id: o.outcome for o in resolution.outcomes}


@pytest.mark.parametrize("facts", [
    {"site": "femoral-head", "arco_stage": "II", "hematologic_malignancy": True, "comorbidities": ["anaemia"],
     "platelet_count": 100},
    {"site": "knee", "ficat_stage": "I", "hematologic_malignancy": True, "comorbidities": ["anaemia"],
     "platelet_count": 300},
    {"site": "talus", "ficat_stage": "II", "hematologic_malignancy": True, "platelet_count": 40},
])
def test_anaemia_or_a_low_count_alone_in_a_malignancy_gets_the_light_programme(facts: dict[str, Any]) -> None:
    """Second reading, M3 and M6: anaemia, or a low count without a recorded thrombocytopenia,
    in a haematological malignancy gives the light programme and never the standard dose."""
    outcomes = outcomes_of(**facts)
    assert outcomes["PR-005"] == "applies"
    assert outcomes["PR-004"] == "applies"
    assert all(outcomes[i] != "applies" for i in (*STANDARD, "RT-009"))


@pytest.mark.parametrize("site, stage", [("femoral-head", ("arco_stage", "II")), ("knee", ("ficat_stage", "I")),
                                         ("talus", ("ficat_stage", "II"))])
def test_sickle_cell_disease_never_gets_the_standard_progression(site: str, stage: tuple[str, str]) -> None:
    """Second reading, M4: with sickle cell disease the gradual, effort-limited advice (PR-012)
    replaces the standard progression and the test to fatigue."""
    outcomes = outcomes_of(site=site, causes=["sickle-cell-disease"], **{stage[0]: stage[1]})
    assert outcomes["PR-012"] == "applies"
    assert outcomes["RT-004"] != "applies" and outcomes["RT-009"] != "applies"


def test_conditioning_keeps_cycling_off_the_talus() -> None:
    """Second reading, M5: the conditioning advice that applies at a collapsed talus does not offer
    stationary cycling there (the pedal loads the foot), and keeps sickle cell away from cool water."""
    kb, _ = shipped()
    assert outcomes_of(site="talus", ficat_stage="IV")["CO-001"] == "applies"
    text = " ".join(next(r for r in kb.recommendations if r.id == "CO-001").statement.split())
    assert "at the talus, deep-water exercise or arm ergometry, not cycling" in text
    assert "avoid cool water" in text


def test_the_corticosteroid_rule_holds_whatever_other_causes_are_recorded() -> None:
    """PR-006 is never ruled out for a pre-collapse, corticosteroid-related case: it applies, or a
    stricter rule (the light programme, a red flag, a low platelet tier) overrides it, or one of
    those is still undecided."""
    cases = [(c, r) for c, r in resolved()
             if "corticosteroid" in c["causes"] and r.facts.get("collapse") == "pre-collapse"]
    assert any(len(c["causes"]) == 2 for c, _ in cases)
    for case, resolution in cases:
        assert "PR-006" not in resolution.ids("not-applicable"), case
    assert any("PR-006" in applying(r) and len(c["causes"]) == 2 for c, r in cases)


@pytest.mark.parametrize(("facts", "message"), [
    (("site=humeral-head", "arco_stage=II"),
     ("arco_stage is given (II) but is defined only where site is femoral-head, and this case has site "
      "humeral-head: remove arco_stage or give the fact defined for such cases")),
    (("site=femoral-head", "lichtman_stage=II"),
     ("lichtman_stage is given (II) but is defined only where site is lunate, and this case has site "
      "femoral-head: remove lichtman_stage or give the fact defined for such cases")),
    (("site=lunate", "ficat_stage=II"),
     ("ficat_stage is given (II) but is defined only where site not in [lunate], and this case has site "
      "lunate: remove ficat_stage or give the fact defined for such cases")),
    (("site=talus", "knee_osteonecrosis_type=spontaneous"),
     ("knee_osteonecrosis_type is given (spontaneous) but is defined only where site is knee, and this case "
      "has site talus: remove knee_osteonecrosis_type or give the fact defined for such cases")),
    (("platelet_count=25", "hematologic_malignancy=false", "comorbidities="),
     "the facts give platelet_tier more than one value (light, none): correct the facts that disagree"),
    # Lower (second reading): the kind of knee osteonecrosis and the recorded causes disagree.
    (("site=knee", "knee_osteonecrosis_type=spontaneous", "causes=corticosteroid"),
     "the facts give systemic_cause more than one value (absent, present): correct the facts that disagree"),
    (("site=knee", "knee_osteonecrosis_type=secondary", "causes="),
     "the facts give systemic_cause more than one value (absent, present): correct the facts that disagree"),
    (("site=knee", "knee_osteonecrosis_type=secondary", "causes=other"),
     "the facts give systemic_cause more than one value (absent, present): correct the facts that disagree"),
])
def test_a_fact_given_where_it_does_not_belong_is_refused(facts: tuple[str, ...], message: str) -> None:
    result = run_cli("query", "--kb", str(SHIPPED), "--as-of", DAY.isoformat(),
                     *(arg for fact in facts for arg in ("--set", fact)))
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"avn-kb query: --set: {message}\n")


@pytest.mark.parametrize(("facts", "case"), [
    (("site=femoral-head", "arco_stage=II"), {"site": "femoral-head", "arco_stage": "II"}),
    (("site=lunate", "lichtman_stage=II"), {"site": "lunate", "lichtman_stage": "II"}),
    (("site=humeral-head", "ficat_stage=II"), {"site": "humeral-head", "ficat_stage": "II"}),
    (("site=knee", "knee_osteonecrosis_type=spontaneous"), {"site": "knee", "knee_osteonecrosis_type": "spontaneous"}),
    (("platelet_count=25", "hematologic_malignancy=false", "comorbidities=thrombocytopenia"),
     {"platelet_count": 25, "hematologic_malignancy": False, "comorbidities": ["thrombocytopenia"]}),
    (("site=knee", "knee_osteonecrosis_type=secondary", "causes=other-systemic"),
     {"site": "knee", "knee_osteonecrosis_type": "secondary", "causes": ["other-systemic"]}),
    (("site=knee", "knee_osteonecrosis_type=spontaneous", "causes=trauma"),
     {"site": "knee", "knee_osteonecrosis_type": "spontaneous", "causes": ["trauma"]}),
])
def test_the_same_facts_where_they_belong_are_answered(facts: tuple[str, ...], case: dict[str, Any]) -> None:
    result = run_cli("query", "--kb", str(SHIPPED), "--as-of", DAY.isoformat(), "--format", "json",
                     *(arg for fact in facts for arg in ("--set", fact)))
    assert (result.exit_code, result.stderr, json.loads(result.stdout)["case"]) == (0, "", case)


def test_a_golden_case_giving_arco_at_the_humeral_head_is_refused(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, kb)
    (kb / "cases" / "refused.yaml").write_text(
        "cases:\n"
        "  - id: XX-001\n"
        "    title: ARCO given at the humeral head\n"
        "    facts: {site: humeral-head, arco_stage: IIIA, phase: chronic}\n"
        "    expect:\n"
        "      not_apply: [RT-002]\n", encoding="utf-8")
    result = run_cli("validate", str(kb), "--format", "json", "--as-of", DAY.isoformat())
    findings = json.loads(result.stdout)["findings"]
    assert result.exit_code == 1
    assert [(f["code"], f["severity"], Path(f["path"]).name, f["line"], f["message"]) for f in findings
            if not f.get("accepted")] == [
        ("AVN126", "error", "refused.yaml", 4,
         ("case XX-001: arco_stage is given (IIIA) but is defined only where site is femoral-head, and this case "
          "has site humeral-head: remove arco_stage or give the fact defined for such cases"))]


KNEE_CAUSES: list[list[str] | None] = [None, [], ["corticosteroid"], ["alcohol", "trauma"], ["other"], ["trauma"],
                                       ["sickle-cell-disease"], ["other-systemic"]]
SYSTEMIC = {"corticosteroid", "alcohol", "sickle-cell-disease", "hematologic-malignancy-treatment", "other-systemic"}


@pytest.mark.parametrize("kind", [None, "spontaneous", "secondary", "post-arthroscopic"])
@pytest.mark.parametrize("causes", KNEE_CAUSES)
def test_the_kind_of_knee_osteonecrosis_and_its_causes_agree(kind: str | None, causes: list[str] | None) -> None:
    """Lower (second reading): OF-009 (spontaneous knee) and MO-006 (a systemic cause) never both
    apply; a spontaneous knee with a systemic cause and a secondary knee with causes recorded but
    none systemic are refused, and a secondary knee always has its hips imaged."""
    kb, index = shipped()
    assert kb.vocabulary is not None
    case: dict[str, Any] = {"site": "knee", "ficat_stage": "II", "phase": "chronic"}
    if kind is not None:
        case["knee_osteonecrosis_type"] = kind
    if causes is not None:
        case["causes"] = causes
    systemic = causes is not None and bool(SYSTEMIC & set(causes))
    refused = (kind == "spontaneous" and systemic) or (kind == "secondary" and causes is not None and not systemic)
    assert bool(case_problems(kb.vocabulary, case)) == refused
    if refused:
        return
    applies = applying(resolve(kb, case, as_of=DAY, index=index))
    assert not {"OF-009", "MO-006"} <= applies
    assert ("OF-009" in applies) == (kind == "spontaneous")
    if kind == "secondary" or systemic:
        assert "MO-006" in applies


SITES = ("femoral-head", "knee", "talus", "humeral-head", "elbow", "lunate")


@pytest.mark.parametrize("site", SITES)
@pytest.mark.parametrize("other", SITES)
def test_no_applying_exercise_loads_another_affected_site(site: str, other: str) -> None:
    """Second reading, M2: disease is often multifocal and each site's exercise list loads other
    sites. With another site affected, no applying recommendation prescribes an exercise that loads
    it; with the other sites unknown, no site list applies (it stays undecided)."""
    kb, index = shipped()
    assert kb.vocabulary is not None
    stage = ("lichtman_stage", "II") if site == "lunate" else ("ficat_stage", "II")
    case: dict[str, Any] = {"site": site, stage[0]: stage[1], "phase": "chronic", "causes": ["corticosteroid"],
                            "hematologic_malignancy": False, "comorbidities": [], "red_flags": [],
                            "other_joint_pain": False}
    lists = {"RT-011", "RT-012", "RT-013", "RT-014", "RT-016", "RT-017"}
    unknown = resolve(kb, case, as_of=DAY, index=index)
    assert not applying(unknown) & lists
    case["other_affected_sites"] = [other]
    resolution = resolve(kb, {**case}, as_of=DAY, index=index)
    for outcome in resolution.by_outcome("applies"):
        assert loading_exercises(kb.vocabulary, outcome.rec.action, case) == (), (outcome.rec.id, case)

