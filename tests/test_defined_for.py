"""Facts defined only for some cases (`defined_for`), end to end: a golden case giving one outside
its cases is AVN126; a condition that needs one there never holds (AVN302); no witness ever shows
such a case; the condition itself is checked like any other (AVN121, AVN122, AVN125) and may not
depend on the fact (AVN310). Each row plants a defect in a copy of the mini knowledge base and
compares every finding field of `avn-kb validate --format json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from avn_kb.lang.derive import undefined_here, with_derived
from avn_kb.load.knowledge import load_knowledge
from tests.conftest import run_cli
from tests.planted_rows import Row, assert_each_code_fails_and_passes, assert_reported_exactly, params
from tests.test_checks_semantic import (
    AVOID_RT,
    RT,
    RT1_ACTION,
    RT1_DOES,
    VOCAB,
    Edit,
    Expect,
    append,
    conflict_message,
    planted,
    replace,
    rt_rec,
)

CASES = "cases/basic.yaml"
ARCO_VALUES = "    values: [I, II, IIIA, IIIB, IV]\n"


def defined_for(condition: str, after: str = ARCO_VALUES) -> Edit:
    """Declare `defined_for` on the fact whose declaration has the line `after` (ARCO by default)."""
    return replace(VOCAB, after, f"{after}    defined_for: {condition}\n")


ARCO_AT_THE_HIP = defined_for("{site: femoral-head}")
COLLAPSE_VALUES = "    values: [pre-collapse, post-collapse]\n"


def case(case_id: str, facts: str) -> Edit:
    return append(CASES, f"  - id: {case_id}\n    title: A test case\n    facts: {facts}\n"
                         "    expect:\n      not_apply: [OF-001]\n")


def outside(fact: str, value: str, condition: str, has: str) -> str:
    return (f"{fact} is given ({value}) but is defined only where {condition}, and this case has {has}: "
            f"remove {fact} or give the fact defined for such cases")


PAIN_UNIT = "    unit: NRS\n"
HIGH_PAIN = "{pain_score: {min: 8}}"
NEVER = "RT-002 can never apply: no case satisfies its condition; fix the condition"
HUMERAL_ARCO = "{site: humeral-head, arco_stage: II}"

ROWS: list[Row] = [
    # AVN126: a golden case gives a fact outside the cases it is defined for
    ("AVN126", "stage-at-another-site", (ARCO_AT_THE_HIP, case("CASE-003", HUMERAL_ARCO)),
     (Expect("AVN126", "error", CASES, f"facts: {HUMERAL_ARCO}", "II",
             "case CASE-003: " + outside("arco_stage", "II", "site is femoral-head", "site humeral-head"),
             ("CASE-003",)),)),
    ("AVN126", "stage-where-site-unknown", (ARCO_AT_THE_HIP, case("CASE-003", "{arco_stage: II, phase: chronic}")),
     ()),
    ("AVN126", "stage-at-its-site", (ARCO_AT_THE_HIP, case("CASE-003", "{site: femoral-head, arco_stage: IV}")), ()),
    ("AVN126", "no-defined-for", (case("CASE-003", HUMERAL_ARCO),), ()),
    ("AVN126", "defined-through-a-derived-fact",
     (defined_for("{region: lower-limb}"), case("CASE-003", HUMERAL_ARCO)),
     (Expect("AVN126", "error", CASES, f"facts: {HUMERAL_ARCO}", "II",
             "case CASE-003: " + outside("arco_stage", "II", "region is lower-limb", "region upper-limb"),
             ("CASE-003",)),)),
    ("AVN126", "derived-fact-given-outside",
     (defined_for("{site: femoral-head}", COLLAPSE_VALUES), case("CASE-003", "{site: knee, collapse: pre-collapse}")),
     (Expect("AVN126", "error", CASES, "facts: {site: knee, collapse: pre-collapse}", "pre-collapse",
             "case CASE-003: " + outside("collapse", "pre-collapse", "site is femoral-head", "site knee"),
             ("CASE-003",)),)),
    ("AVN126", "derived-fact-derived-outside",
     (defined_for("{site: femoral-head}", COLLAPSE_VALUES), case("CASE-003", "{site: knee, arco_stage: IV}")),
     (Expect("AVN126", "error", CASES, "facts: {site: knee, arco_stage: IV}", "{",
             "case CASE-003: collapse is derived as post-collapse but is defined only where site is femoral-head, "
             "and this case has site knee: correct the facts it is derived from", ("CASE-003",)),)),
    ("AVN126", "set-fact-outside",
     (defined_for("{phase: chronic}", "    values: [thrombocytopenia, osteoporosis]\n"),
      case("CASE-003", "{phase: acute, comorbidities: [osteoporosis]}")),
     (Expect("AVN126", "error", CASES, "facts: {phase: acute, comorbidities: [osteoporosis]}", "[",
             "case CASE-003: " + outside("comorbidities", "[osteoporosis]", "phase is chronic", "phase acute"),
             ("CASE-003",)),)),
    ("AVN126", "number-fact-outside",
     (replace(VOCAB, "    unit: kg\n", "    unit: kg\n    defined_for: {region: lower-limb}\n"),
      case("CASE-003", "{site: humeral-head, one_rep_max_kg: 42.5}")),
     (Expect("AVN126", "error", CASES, "facts: {site: humeral-head, one_rep_max_kg: 42.5}", "42.5",
             "case CASE-003: " + outside("one_rep_max_kg", "42.5", "region is lower-limb", "region upper-limb"),
             ("CASE-003",)),)),
    # AVN302: a condition that needs the fact where it is undefined never holds
    ("AVN302", "stage-at-another-site", (ARCO_AT_THE_HIP, append(RT, rt_rec("RT-002", HUMERAL_ARCO, RT1_ACTION))),
     (Expect("AVN302", "error", RT, f"when: {HUMERAL_ARCO}", "{", NEVER, ("RT-002",)),)),
    ("AVN302", "collapse-at-another-site",
     (ARCO_AT_THE_HIP, append(RT, rt_rec("RT-002", "{site: humeral-head, collapse: pre-collapse}", RT1_ACTION))),
     (Expect("AVN302", "error", RT, "when: {site: humeral-head, collapse: pre-collapse}", "{", NEVER, ("RT-002",)),)),
    ("AVN302", "stage-outside-any-site",
     (ARCO_AT_THE_HIP, append(RT, rt_rec("RT-002", "{arco_stage: II, site: {not_in: [femoral-head]}}", RT1_ACTION))),
     (Expect("AVN302", "error", RT, "when: {arco_stage: II, site: {not_in: [femoral-head]}}", "{", NEVER,
             ("RT-002",)),)),
    ("AVN302", "stage-at-another-site-undeclared", (append(RT, rt_rec("RT-002", HUMERAL_ARCO, RT1_ACTION)),), ()),
    ("AVN302", "stage-at-its-site",
     (ARCO_AT_THE_HIP, append(RT, rt_rec("RT-002", "{site: femoral-head, arco_stage: II}", RT1_ACTION))), ()),
    ("AVN302", "stage-site-unsaid", (ARCO_AT_THE_HIP, append(RT, rt_rec("RT-002", "{arco_stage: II}", RT1_ACTION))),
     ()),
    # AVN301: the witness is a case the fact is defined for (femoral-head comes first otherwise)
    ("AVN301", "witness-at-the-site-the-score-is-defined-for",
     (defined_for("{site: knee}", PAIN_UNIT), append(RT, rt_rec("RT-002", HIGH_PAIN, AVOID_RT, direction="against"))),
     (Expect("AVN301", "error", RT, f"when: {HIGH_PAIN}", "{",
             conflict_message("RT-001", "RT-002", "{phase: chronic, site: knee, pain_score: 8}", RT1_DOES,
                              "avoid resistive-training", "do against avoid"),
             ("RT-002", "RT-001"), {"phase": "chronic", "site": "knee", "pain_score": 8}),)),
    ("AVN301", "no-witness-where-the-score-is-undefined",
     (defined_for("{site: humeral-head}", PAIN_UNIT),
      append(RT, rt_rec("RT-002", HIGH_PAIN, AVOID_RT, direction="against"))), ()),
    # The condition is checked like any other
    ("AVN121", "unknown-fact", (defined_for("{stie: femoral-head}"),),
     (Expect("AVN121", "error", VOCAB, "defined_for: {stie", "femoral-head",
             "arco_stage: unknown fact 'stie': declare it in vocabulary.yaml or use one of arco_stage, collapse, "
             "comorbidities, one_rep_max_kg, pain_score, phase, region, site", ("arco_stage",)),)),
    ("AVN122", "unknown-value", (defined_for("{site: hip}"),),
     (Expect("AVN122", "error", VOCAB, "defined_for: {site: hip}", "hip",
             "arco_stage: 'hip' is not a value of site (femoral-head, knee, humeral-head)", ("arco_stage",)),)),
    ("AVN125", "wrong-test", (defined_for("{site: {has: knee}}"),),
     (Expect("AVN125", "error", VOCAB, "defined_for: {site: {has: knee}}", "knee",
             "arco_stage: site is a enum fact; test it with is / in or not_in", ("arco_stage",)),)),
    # AVN310: the condition reads the fact itself
    ("AVN310", "defined-by-what-it-derives", (defined_for("{collapse: pre-collapse}"),),
     (Expect("AVN310", "error", VOCAB, "defined_for: {collapse", "{",
             "cycle in defined_for: arco_stage -> collapse -> arco_stage; the cases a fact is defined for must be "
             "told by facts that do not depend on it"),)),
    ("AVN310", "defined-by-itself", (defined_for("{arco_stage: {in: [I, II]}}"),),
     (Expect("AVN310", "error", VOCAB, "defined_for: {arco_stage", "{",
             "cycle in defined_for: arco_stage -> arco_stage; the cases a fact is defined for must be told by "
             "facts that do not depend on it"),)),
    ("AVN310", "defined-by-a-derived-fact-of-others", (defined_for("{region: lower-limb}"),), ()),
]


def test_every_code_has_a_failing_and_a_passing_row() -> None:
    assert_each_code_fails_and_passes(ROWS, ("AVN126", "AVN302", "AVN301", "AVN310"))


@pytest.mark.parametrize("edits,expected", params(ROWS))
def test_defined_for_findings_are_reported_exactly(tmp_path: Path, edits: tuple[Edit, ...],
                                                   expected: tuple[Expect, ...]) -> None:
    assert_reported_exactly(tmp_path, edits, expected)


# --- cases from the outside world: query refuses them, naming the fact -----------------------------

HUMERAL_ARCO_MESSAGE = outside("arco_stage", "II", "site is femoral-head", "site humeral-head")


@pytest.mark.parametrize("how,expected", [
    pytest.param(("--set", "site=humeral-head", "--set", "arco_stage=II"), f"--set: {HUMERAL_ARCO_MESSAGE}",
                 id="set-options"),
    pytest.param(("{case}",), "{case}:2:13: " + HUMERAL_ARCO_MESSAGE, id="case-file"),
    pytest.param(("--batch", "{batch}"), "{batch}:1: " + HUMERAL_ARCO_MESSAGE, id="batch-line"),
])
def test_query_refuses_a_fact_outside_its_definition(tmp_path: Path, how: tuple[str, ...], expected: str) -> None:
    kb = planted(tmp_path, (ARCO_AT_THE_HIP,))
    (tmp_path / "case.yaml").write_text("site: humeral-head\narco_stage: II\n")
    (tmp_path / "cases.jsonl").write_text('{"site": "humeral-head", "arco_stage": "II"}\n')
    paths = {"case": str(tmp_path / "case.yaml"), "batch": str(tmp_path / "cases.jsonl")}
    result = run_cli("query", "--kb", str(kb), *(arg.format(**paths) for arg in how))
    assert (result.exit_code, result.stderr.splitlines()) == (2, [f"avn-kb query: {expected.format(**paths)}"])


def test_query_accepts_the_fact_where_its_condition_is_unknown(tmp_path: Path) -> None:
    kb = planted(tmp_path, (ARCO_AT_THE_HIP,))
    result = run_cli("query", "--kb", str(kb), "--set", "arco_stage=II", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["case"] == {"arco_stage": "II"}


def test_refusal_exits_2_from_a_real_process(tmp_path: Path) -> None:
    kb = planted(tmp_path, (ARCO_AT_THE_HIP,))
    done = subprocess.run([sys.executable, "-m", "avn_kb", "query", "--kb", str(kb), "--set", "site=humeral-head",
                           "--set", "arco_stage=II"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"avn-kb query: --set: {HUMERAL_ARCO_MESSAGE}\n")


def test_coverage_marks_the_cells_that_are_no_case(tmp_path: Path) -> None:
    kb = planted(tmp_path, (ARCO_AT_THE_HIP,))
    lines = run_cli("coverage", str(kb)).stdout.splitlines()
    assert lines[0].endswith("(lower case: only once more facts are known; -: no such case)")
    assert [line.split() for line in lines[2:]] == [["femoral-head", "Or", "Or", ".r", ".r", ".r"],
                                                    ["knee", "-", "-", "-", "-", "-"],
                                                    ["humeral-head", "-", "-", "-", "-", "-"]]
    cells = json.loads(run_cli("coverage", str(kb), "--format", "json").stdout)["cells"]
    assert [(c["site"], c["arco_stage"]) for c in cells if c.get("refused")] == [
        (site, stage) for site in ("knee", "humeral-head") for stage in ("I", "II", "IIIA", "IIIB", "IV")]
    assert all(c["recommendations"] == [] for c in cells if c.get("refused"))


@pytest.mark.parametrize("facts,expected", [
    pytest.param({"site": "humeral-head"}, {"arco_stage"}, id="another-site"),
    pytest.param({"site": "femoral-head"}, set(), id="its-site"),
    pytest.param({}, set(), id="site-unknown"),
])
def test_undefined_here_names_the_facts_a_case_cannot_give(tmp_path: Path, facts: dict[str, str],
                                                            expected: set[str]) -> None:
    """What the resolver must not ask for ("give arco_stage" at the humeral head)."""
    vocabulary = load_knowledge(planted(tmp_path, (ARCO_AT_THE_HIP,)), "kb").kb.vocabulary
    assert vocabulary is not None
    assert undefined_here(vocabulary, with_derived(vocabulary, facts)) == expected
