"""Exercises that declare the cases they load (`interventions.<name>.exercises[].loads`): AVN309 on an
approved recommendation prescribing one where its condition admits such a case (with the witness,
accepted with a reason, exact under `defined_for`), the term checks on the declaration, and
`loading_exercises`, the resolver's three-valued reading of the same declaration."""

from __future__ import annotations

from dataclasses import replace as replaced
from pathlib import Path
from typing import Any

import pytest

from avn_kb.lang.case_checks import case_problems
from avn_kb.lang.derive import with_derived
from avn_kb.lang.exercise_loads import loading_exercises, loads_condition
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.conditions import evaluate, parse
from avn_kb.model.knowledge import Action, Exercise, Vocabulary
from tests.conftest import MINI
from tests.planted_rows import Row, assert_each_code_fails_and_passes, assert_reported_exactly, params
from tests.test_checks_semantic import (
    RT,
    RT1_ACTION,
    VOCAB,
    Edit,
    Expect,
    append,
    planted,
    replace,
    rt_rec,
    validate_json,
)

PLAIN = "    exercises: [leg-press, bench-press]\n"


def exercises(leg_press: str, bench_press: str = "bench-press") -> Edit:
    """Declare the two exercises of the mini vocabulary as these YAML items."""
    return replace(VOCAB, PLAIN, f"    exercises:\n      - {leg_press}\n      - {bench_press}\n")


def loads(condition: str) -> Edit:
    return exercises(f"{{id: leg-press, label: Leg press, loads: {condition}}}")


def loading_message(rec_id: str, where: str, case: str) -> str:
    return (f"{rec_id} prescribes leg-press, which loads the affected part where {where}, in a case its condition "
            f"admits: {case}; remove leg-press from the action, narrow the condition to exclude such cases, or "
            "accept AVN309 with a reason")


LOWER = loads("{region: lower-limb}")
RT1_EXERCISES = "      exercises: [leg-press]"
RT1_LOADS = Expect("AVN309", "error", RT, RT1_EXERCISES, "leg-press",
                   loading_message("RT-001", "region is lower-limb", "{phase: chronic, site: femoral-head}"),
                   ("RT-001",), {"phase": "chronic", "site": "femoral-head"})
ACCEPTED = "    accepted:\n      - code: AVN309\n        reason: A graded loading programme, on purpose.\n"
HUMERAL = "{site: humeral-head}"
POST_COLLAPSE_STAGES = "{arco_stage: {in: [IIIA, IIIB, IV]}}"
ARCO_AT_THE_HIP = replace(VOCAB, "    values: [I, II, IIIA, IIIB, IV]\n",
                          "    values: [I, II, IIIA, IIIB, IV]\n    defined_for: {site: femoral-head}\n")
RT2_EXERCISES = "exercises: [leg-press]}"

ROWS: list[Row] = [
    ("AVN309", "loads-the-cases-it-is-prescribed-for", (LOWER,), (RT1_LOADS,)),
    ("AVN309", "loads-other-cases", (loads("{region: upper-limb}"),), ()),
    ("AVN309", "declared-without-loads", (exercises("{id: leg-press, label: Leg press}"),), ()),
    ("AVN309", "accepted-with-a-reason",
     (LOWER, replace(RT, "    certainty: very-low\n", "    certainty: very-low\n" + ACCEPTED)),
     (replaced(RT1_LOADS, accepted="A graded loading programme, on purpose."),)),
    ("AVN309", "draft-not-judged", (LOWER, replace(RT, "    status: approved\n", "    status: draft\n")), ()),
    ("AVN309", "loads-only-undefined-cases",
     (ARCO_AT_THE_HIP, loads(POST_COLLAPSE_STAGES),
      append(RT, rt_rec("RT-002", HUMERAL, RT1_ACTION))),
     (Expect("AVN309", "error", RT, RT1_EXERCISES, "leg-press",
             loading_message("RT-001", "arco_stage in [IIIA, IIIB, IV]",
                             "{phase: chronic, site: femoral-head, arco_stage: IIIA}"),
             ("RT-001",), {"phase": "chronic", "site": "femoral-head", "arco_stage": "IIIA"}),)),
    ("AVN309", "loads-cases-the-stage-is-undeclared-for",
     (loads(POST_COLLAPSE_STAGES), append(RT, rt_rec("RT-002", HUMERAL, RT1_ACTION))),
     (Expect("AVN309", "error", RT, RT1_EXERCISES, "leg-press",
             loading_message("RT-001", "arco_stage in [IIIA, IIIB, IV]",
                             "{phase: chronic, site: femoral-head, arco_stage: IIIA}"),
             ("RT-001",), {"phase": "chronic", "site": "femoral-head", "arco_stage": "IIIA"}),
      Expect("AVN309", "error", RT, RT2_EXERCISES, "leg-press",
             loading_message("RT-002", "arco_stage in [IIIA, IIIB, IV]", "{site: humeral-head, arco_stage: IIIA}"),
             ("RT-002",), {"site": "humeral-head", "arco_stage": "IIIA"}))),
    # The declaration is checked like any other condition, and once.
    ("AVN121", "loads-an-unknown-fact", (loads("{stie: knee}"),),
     (Expect("AVN121", "error", VOCAB, "loads: {stie: knee}", "knee",
             "resistive-training exercise leg-press: unknown fact 'stie': declare it in vocabulary.yaml or use one "
             "of arco_stage, collapse, comorbidities, one_rep_max_kg, pain_score, phase, region, site",
             ("resistive-training exercise leg-press",)),)),
    ("AVN122", "loads-an-unknown-value", (loads("{site: hip}"),),
     (Expect("AVN122", "error", VOCAB, "loads: {site: hip}", "hip",
             "resistive-training exercise leg-press: 'hip' is not a value of site (femoral-head, knee, humeral-head)",
             ("resistive-training exercise leg-press",)),)),
    ("AVN111", "misspelt-loads", (exercises("{id: leg-press, load: {site: knee}}"),),
     (Expect("AVN111", "error", VOCAB, "load: {site: knee}", "load",
             "interventions.resistive-training.exercises[0]: unknown field 'load' (allowed: description, id, label, "
             "loads): remove or rename it"),
      # The intervention is not built, so what refers to it is judged against the rest of the vocabulary.
      Expect("AVN123", "error", "references.yaml", "covers: [resistive-training]", "resistive-training",
             "williams-2007-aha: covers 'resistive-training', which is not a declared intervention",
             ("williams-2007-aha",)))),
    ("AVN120", "declared-twice", (exercises("leg-press", "{id: leg-press, loads: {site: knee}}"),),
     (Expect("AVN120", "error", VOCAB, "- {id: leg-press, loads", "{",
             "resistive-training: exercise 'leg-press' is declared more than once: keep one declaration"),)),
]


def test_every_code_has_a_failing_and_a_passing_row() -> None:
    assert_each_code_fails_and_passes(ROWS, ("AVN309",))


@pytest.mark.parametrize("edits,expected", params(ROWS))
def test_loading_exercise_findings_are_reported_exactly(tmp_path: Path, edits: tuple[Edit, ...],
                                                        expected: tuple[Expect, ...]) -> None:
    assert_reported_exactly(tmp_path, edits, expected)


@pytest.mark.parametrize("edits", [row[2] for row in ROWS if any(e.code == "AVN309" for e in row[3])])
def test_every_witness_is_a_valid_case_on_which_both_hold(tmp_path: Path, edits: tuple[Edit, ...]) -> None:
    kb_dir = planted(tmp_path, edits)
    _, report = validate_json(kb_dir)
    kb = load_knowledge(kb_dir, str(kb_dir)).kb
    assert kb.vocabulary is not None
    for finding in (f for f in report["findings"] if f["code"] == "AVN309"):
        rec = kb.recommendation(finding["ids"][0])
        assert rec is not None
        witness = finding["witness"]
        assert case_problems(kb.vocabulary, witness) == []
        loading = loads_condition(kb.vocabulary, rec.action.target, "leg-press")
        assert loading is not None
        facts = with_derived(kb.vocabulary, witness)
        assert (evaluate(rec.when, facts), evaluate(loading, facts)) == (True, True)
        assert loading_exercises(kb.vocabulary, rec.action, witness) == (("leg-press", True),)


# --- loading_exercises: what the resolver marks on an answer ------------------------------------------

def _vocabulary() -> Vocabulary:
    vocabulary = load_knowledge(MINI, "mini").kb.vocabulary
    assert vocabulary is not None
    training = vocabulary.interventions["resistive-training"]
    details = {"leg-press": Exercise("leg-press", "Leg press", parse({"region": "lower-limb"})),
               "bench-press": Exercise("bench-press", None, parse({"site": "humeral-head"})),
               "biceps-curl": Exercise("biceps-curl")}
    training = replaced(training, exercises=tuple(details), exercise_details=details)
    return replaced(vocabulary, interventions={**vocabulary.interventions, "resistive-training": training})


VOCABULARY = _vocabulary()
ALL_THREE = Action("do", "resistive-training", exercises=("leg-press", "bench-press", "biceps-curl"))


@pytest.mark.parametrize("action,facts,expected", [
    pytest.param(ALL_THREE, {}, (("leg-press", None), ("bench-press", None)), id="nothing-known"),
    pytest.param(ALL_THREE, {"site": "knee"}, (("leg-press", True),), id="lower-limb"),
    pytest.param(ALL_THREE, {"site": "humeral-head"}, (("bench-press", True),), id="humeral-head"),
    pytest.param(ALL_THREE, {"region": "upper-limb"}, (("bench-press", None),), id="derived-fact-given"),
    pytest.param(replaced(ALL_THREE, exercises=("bench-press", "leg-press")), {"phase": "acute"},
                 (("bench-press", None), ("leg-press", None)), id="in-the-action-order"),
    pytest.param(replaced(ALL_THREE, kind="consider"), {"site": "femoral-head"}, (("leg-press", True),),
                 id="consider-prescribes"),
    pytest.param(replaced(ALL_THREE, kind="avoid"), {"site": "femoral-head"}, (), id="avoid-prescribes-nothing"),
    pytest.param(replaced(ALL_THREE, exercises=("biceps-curl",)), {}, (), id="no-loads-declared"),
    pytest.param(Action("do", "resistive-training"), {"site": "knee"}, (), id="no-exercises"),
    pytest.param(Action("do", "protected-weight-bearing", exercises=("leg-press",)), {"site": "knee"}, (),
                 id="another-intervention"),
])
def test_loading_exercises(action: Action, facts: dict[str, Any],
                           expected: tuple[tuple[str, bool | None], ...]) -> None:
    assert loading_exercises(VOCABULARY, action, facts) == expected
    assert loading_exercises(VOCABULARY, action, with_derived(VOCABULARY, facts)) == expected


def test_plain_and_detailed_exercises_load_alike(tmp_path: Path) -> None:
    kb = load_knowledge(planted(tmp_path, (LOWER,)), "kb").kb
    assert kb.vocabulary is not None
    training = kb.vocabulary.interventions["resistive-training"]
    assert training.exercises == ("leg-press", "bench-press")
    assert {name: (e.id, e.label, e.loads is not None) for name, e in training.exercise_details.items()} == {
        "leg-press": ("leg-press", "Leg press", True), "bench-press": ("bench-press", None, False)}
