"""Two doses for one case (AVN307) and dose text that disagrees with the structured dose (AVN308),
end to end: each defect planted in a copy of the small valid knowledge base (or of the shipped one,
for the defects issue 12 found), and `avn-kb validate --format json` must report exactly the
findings listed, every field compared; a near-identical variant must give none.

AVN307 witnesses are put to the resolver: both recommendations apply to the witness case and
neither is overridden there, so the case really is given two doses."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from avn_kb.load.knowledge import load_knowledge
from avn_kb.resolve.resolver import resolve
from tests.conftest import SHIPPED
from tests.test_checks_semantic import (
    ALL_STATUSES,
    RT,
    VOCAB,
    Edit,
    Expect,
    append,
    conflict_message,
    expected_findings,
    planted,
    replace,
    rt_rec,
    two_doses_message,
    validate_json,
)

RT1_DOES = "do resistive-training (intensity_pct_1rm 40-60; repetitions 10-15; sets 1-3; exercises leg-press)"
KNEE = "{site: knee}"
KNEE_CASE = {"phase": "chronic", "site": "knee"}
KNEE_SHOWN = "{phase: chronic, site: knee}"


def dosed(dose: str) -> str:
    return f"{{kind: do, target: resistive-training, dose: {dose}}}"


def rt2(dose: str, when: str = KNEE, status: str = "approved", more: str = "") -> Edit:
    """RT-002 beside the mini knowledge base's RT-001 (intensity 40-60, repetitions 10-15, sets 1-3)."""
    return append(RT, rt_rec("RT-002", when, dosed(dose), status=status, more=more))


def two_doses(dose: str, token: str, ranges: str, case: dict[str, Any] | None = None, shown: str = KNEE_SHOWN,
              accepted: str | None = None) -> Expect:
    """AVN307 on RT-002's dose (at its first differing parameter) against RT-001."""
    return Expect("AVN307", "error", RT, f"dose: {dose}", token, two_doses_message("RT-001", "RT-002", shown, ranges),
                  ("RT-002", "RT-001"), case or KNEE_CASE, accepted=accepted)


# The mini vocabulary with the words its resistive-training doses are written in.
WRITTEN = (
    replace(VOCAB, "per_kg_of: one_rep_max_kg}", 'per_kg_of: one_rep_max_kg, written_as: ["% of 1RM", "%"]}'),
    replace(VOCAB, "repetitions: {unit: repetitions, min: 1, max: 50}",
            "repetitions: {unit: repetitions, min: 1, max: 50, written_as: [repetitions, reps]}"),
    replace(VOCAB, "sets: {unit: sets, min: 1, max: 10}", "sets: {unit: sets, min: 1, max: 10, written_as: [sets]}"),
)
STATEMENT = "statement: Light to moderate resistive training, 10-15 repetitions at 40-60% of 1RM, 1-3 sets."
PLAIN = "plain_language: Lift light weights 10 to 15 times in a row, one to three rounds."
RT1_DOSE = "dose: {intensity_pct_1rm: [40, 60], repetitions: [10, 15], sets: [1, 3]}"


def rt1_dose(new: str) -> Edit:
    return replace(RT, RT1_DOSE, f"dose: {new}")


def rt1_says(field: str, text: str) -> Edit:
    return replace(RT, STATEMENT if field == "statement" else PLAIN, f"{field}: {text}")


def wording(field: str, said: str, parameter: str, read: str, dose: str | None, text_token: str) -> Expect:
    """AVN308 on RT-001's `field`."""
    head = f'RT-001: the {field} says "{said}" ({parameter} {read})'
    if dose is None:
        message = (f"{head} but the structured dose has no {parameter}: add it to `action.dose`, or take the number "
                   "out of the text")
    else:
        message = f"{head} but the structured dose gives {parameter} {dose}: make the text and `action.dose.{parameter}` agree"
    return Expect("AVN308", "error", RT, f"    {field}:", text_token, message, ("RT-001",))


ACCEPT = "    accepted:\n      - code: {code}\n        reason: The board gives both doses on purpose.\n"

ROWS: list[tuple[str, str, tuple[Edit, ...], tuple[Expect, ...]]] = [
    # AVN307: overlapping but different ranges of one parameter, both can apply, no link
    ("AVN307", "intensity-overlaps", (rt2("{intensity_pct_1rm: [60, 80]}"),),
     (two_doses("{intensity_pct_1rm: [60, 80]}", "[60, 80]", "intensity_pct_1rm 40-60 against 60-80"),)),
    ("AVN307", "single-value-inside-the-range", (rt2("{intensity_pct_1rm: 50}"),),
     (two_doses("{intensity_pct_1rm: 50}", "50", "intensity_pct_1rm 40-60 against 50"),)),
    ("AVN307", "touching-at-one-end", (rt2("{repetitions: [15, 20]}"),),
     (two_doses("{repetitions: [15, 20]}", "[15, 20]", "repetitions 10-15 against 15-20"),)),
    ("AVN307", "two-parameters-differ", (rt2("{sets: [2, 4], intensity_pct_1rm: [50, 70]}"),),
     (two_doses("{sets: [2, 4], intensity_pct_1rm: [50, 70]}", "[50, 70]",
                "intensity_pct_1rm 40-60 against 50-70, sets 1-3 against 2-4"),)),
    ("AVN307", "a-draft-counts", (rt2("{intensity_pct_1rm: [60, 80]}", status="draft"),),
     (two_doses("{intensity_pct_1rm: [60, 80]}", "[60, 80]", "intensity_pct_1rm 40-60 against 60-80"),)),
    ("AVN307", "accepted-with-a-reason",
     (rt2("{intensity_pct_1rm: [60, 80]}", more=ACCEPT.format(code="AVN307")),),
     (two_doses("{intensity_pct_1rm: [60, 80]}", "[60, 80]", "intensity_pct_1rm 40-60 against 60-80",
                accepted="The board gives both doses on purpose."),)),
    ("AVN307", "same-range", (rt2("{intensity_pct_1rm: [40, 60]}"),), ()),
    ("AVN307", "other-parameters-only", (append(RT, rt_rec("RT-002", KNEE, dosed("{rest_seconds: [60, 90]}"))),
                                         replace(VOCAB, "sets: {unit: sets, min: 1, max: 10}",
                                                 "sets: {unit: sets, min: 1, max: 10}\n"
                                                 "      rest_seconds: {unit: s, min: 0, max: 600}")), ()),
    ("AVN307", "overrides-the-other", (rt2("{intensity_pct_1rm: [60, 80]}", more="    overrides: [RT-001]\n"),), ()),
    ("AVN307", "overridden-by-the-other",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    overrides: [RT-002]\n"),
      rt2("{intensity_pct_1rm: [60, 80]}")), ()),
    ("AVN307", "never-both", (rt2("{intensity_pct_1rm: [60, 80]}", when="{phase: acute}"),), ()),
    ("AVN307", "retired", (rt2("{intensity_pct_1rm: [60, 80]}", status="retired",
                               more="    retired_reason: Withdrawn.\n"),), ()),
    ("AVN307", "in-force-at-other-times",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    effective: {from: 2026-01-01}\n"),
      rt2("{intensity_pct_1rm: [60, 80]}", more="    effective: {until: 2025-12-31}\n")), ()),
    # Disjoint ranges stay a conflict, and are not reported twice, even beside an overlapping one.
    ("AVN307", "disjoint-is-a-conflict", (rt2("{intensity_pct_1rm: [70, 80]}"),),
     (Expect("AVN301", "error", RT, f"when: {KNEE}", "{",
             conflict_message("RT-001", "RT-002", KNEE_SHOWN, RT1_DOES,
                              "do resistive-training (intensity_pct_1rm 70-80)", "intensity_pct_1rm 40-60 against 70-80"),
             ("RT-002", "RT-001"), KNEE_CASE),)),
    ("AVN307", "disjoint-beside-overlapping", (rt2("{intensity_pct_1rm: [50, 70], sets: [5, 6]}"),),
     (Expect("AVN301", "error", RT, f"when: {KNEE}", "{",
             conflict_message("RT-001", "RT-002", KNEE_SHOWN, RT1_DOES,
                              "do resistive-training (intensity_pct_1rm 50-70; sets 5-6)", "sets 1-3 against 5-6"),
             ("RT-002", "RT-001"), KNEE_CASE),)),
    # AVN308: the text's numbers against the structured dose
    ("AVN308", "text-and-dose-agree", WRITTEN, ()),
    ("AVN308", "dose-changed", (*WRITTEN, rt1_dose("{intensity_pct_1rm: [50, 70], repetitions: [10, 15], sets: [1, 3]}")),
     (wording("statement", "40-60% of 1RM", "intensity_pct_1rm", "40-60", "50-70", "Light"),)),
    ("AVN308", "text-changed", (*WRITTEN, rt1_says("statement", "Resistive training, 12-15 reps at 40-60% of 1RM.")),
     (wording("statement", "12-15 reps", "repetitions", "12-15", "10-15", "Resistive"),)),
    ("AVN308", "text-gives-what-the-dose-lacks",
     (*WRITTEN, rt1_dose("{intensity_pct_1rm: [40, 60], repetitions: [10, 15]}")),
     (wording("statement", "1-3 sets", "sets", "1-3", None, "Light"),)),
    ("AVN308", "plain-language-too",
     (*WRITTEN, rt1_says("plain_language", "Lift light weights, in two or four sets.")),
     (wording("plain_language", "two or four sets", "sets", "2-4", "1-3", "Lift"),)),
    ("AVN308", "or-is-a-range", (*WRITTEN, rt1_says("plain_language", "Lift light weights, in one or three sets.")), ()),
    ("AVN308", "upper-end-agrees", (*WRITTEN, rt1_says("plain_language", "Lift light weights, up to 3 sets.")), ()),
    ("AVN308", "upper-end-disagrees", (*WRITTEN, rt1_says("plain_language", "Lift light weights, up to 4 sets.")),
     (wording("plain_language", "up to 4 sets", "sets", "at most 4", "1-3", "Lift"),)),
    ("AVN308", "a-dose-word-without-a-number",
     (*WRITTEN, rt1_says("plain_language", "Lift light weights in sets, with rests between sets.")), ()),
    ("AVN308", "nothing-declared", (rt1_dose("{intensity_pct_1rm: [50, 70], repetitions: [10, 15], sets: [1, 3]}"),),
     ()),
    ("AVN308", "retired-not-read",
     (*WRITTEN, replace(RT, "    status: approved\n", "    status: retired\n    retired_reason: Replaced.\n"),
      rt1_dose("{intensity_pct_1rm: [50, 70], repetitions: [10, 15], sets: [1, 3]}")), ()),
    ("AVN308", "accepted-with-a-reason",
     (*WRITTEN, replace(RT, "    certainty: very-low\n", "    certainty: very-low\n" + ACCEPT.format(code="AVN308")),
      rt1_dose("{intensity_pct_1rm: [50, 70], repetitions: [10, 15], sets: [1, 3]}")),
     (Expect("AVN308", "error", RT, "    statement:", "Light",
             'RT-001: the statement says "40-60% of 1RM" (intensity_pct_1rm 40-60) but the structured dose gives '
             "intensity_pct_1rm 50-70: make the text and `action.dose.intensity_pct_1rm` agree", ("RT-001",),
             accepted="The board gives both doses on purpose."),)),
    ("AVN308", "same-words-for-two-parameters",
     (*WRITTEN, replace(VOCAB, "written_as: [repetitions, reps]", "written_as: [repetitions, sets]")),
     (Expect("AVN308", "error", VOCAB, "written_as: [sets]", "sets]",
             "resistive-training: 'sets' is written_as of both repetitions and sets, so a number before it cannot be "
             "checked against either: keep it on one of them"),
      )),
]


def _params() -> list[Any]:
    return [pytest.param(edits, expected, id=f"{code}-{name}") for code, name, edits, expected in ROWS]


def test_every_code_has_a_failing_and_a_passing_fixture() -> None:
    for code in ("AVN307", "AVN308"):
        rows = [row for row in ROWS if row[0] == code]
        assert any(any(e.code == code for e in row[3]) for row in rows)
        assert any(not row[3] for row in rows)
    assert len({(row[0], row[1]) for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("edits,expected", _params())
def test_planted_defect_is_reported_exactly(tmp_path: Path, edits: tuple[Edit, ...],
                                            expected: tuple[Expect, ...]) -> None:
    kb = planted(tmp_path, edits)
    exit_code, report = validate_json(kb)
    assert report["findings"] == expected_findings(kb, expected)
    errors = sum(1 for e in expected if e.severity == "error" and e.accepted is None)
    assert (report["summary"]["errors"], report["summary"]["warnings"]) == (errors, 0)
    assert exit_code == (1 if errors else 0)


@pytest.mark.parametrize("edits,expected", [p for p in _params() if any(e.code == "AVN307" for e in p.values[1])])
def test_two_dose_witnesses_are_cases_the_resolver_gives_both_doses(tmp_path: Path, edits: tuple[Edit, ...],
                                                                    expected: tuple[Expect, ...]) -> None:
    kb_dir = planted(tmp_path, edits)
    _, report = validate_json(kb_dir)
    kb = load_knowledge(kb_dir, str(kb_dir)).kb
    for finding in (f for f in report["findings"] if f["code"] == "AVN307"):
        outcomes = {o.rec.id: o.outcome for o in resolve(kb, finding["witness"], as_of=dt.date(2026, 6, 1),
                                                          statuses=ALL_STATUSES).outcomes}
        assert [outcomes[rec_id] for rec_id in finding["ids"]] == ["applies", "applies"]


# RT-003 overrides RT-002 and RT-002 overrides RT-001: the chain leaves RT-001 beside RT-003.
CHAIN = (append(RT, rt_rec("RT-002", "{site: knee}", dosed("{sets: [1, 3]}"), more="    overrides: [RT-001]\n")),
         append(RT, rt_rec("RT-003", "{site: knee}", dosed("{sets: [2, 3]}"), more="    overrides: [RT-002]\n")))


def test_an_override_chain_leaves_two_doses_to_the_resolver(tmp_path: Path) -> None:
    """Overrides are not transitive: where all three apply, RT-003 beats RT-002, which is then
    beaten and beats nobody, so RT-001 and RT-003 both apply, with sets 1-3 and 2-3."""
    kb_dir = planted(tmp_path, CHAIN)
    kb = load_knowledge(kb_dir, str(kb_dir)).kb
    outcomes = {o.rec.id: o.outcome for o in resolve(kb, KNEE_CASE, as_of=dt.date(2026, 6, 1)).outcomes}
    assert [outcomes[i] for i in ("RT-001", "RT-002", "RT-003")] == ["applies", "overridden", "applies"]
    _, report = validate_json(kb_dir)
    assert report["findings"] == expected_findings(kb_dir, (
        Expect("AVN307", "error", RT, "dose: {sets: [2, 3]}", "[2, 3]",
               two_doses_message("RT-001", "RT-003", KNEE_SHOWN, "sets 1-3 against 2-3"), ("RT-003", "RT-001"),
               KNEE_CASE),))


# --- issue 12's two examples, on a copy of the shipped knowledge base --------------------------------

def _rt001(text: str) -> str:
    return re.search(r"  - id: RT-001\n.*?(?=\n  - id: )", text, re.DOTALL)[0]  # type: ignore[index]


def _unaccepted(kb: Path) -> tuple[int, list[dict[str, Any]]]:
    exit_code, report = validate_json(kb, "--as-of", "2026-12-01")
    return exit_code, [f for f in report["findings"] if "accepted" not in f]


def _shipped_with(tmp_path: Path, change: Any) -> Path:
    kb = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, kb)
    path = kb / RT
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    return kb


SHIPPED_INTENSITY = "intensity_pct_1rm: [40, 60]"
SHIPPED_SAYS = ('RT-{}: the statement says "40-60% of the estimated one-repetition maximum" (intensity_pct_1rm 40-60) '
                "but the structured dose gives intensity_pct_1rm {}: make the text and `action.dose.intensity_pct_1rm` "
                "agree")


def test_a_copy_of_rt001_with_a_heavier_dose_gives_two_doses(tmp_path: Path) -> None:
    def add_copy(text: str) -> str:
        copy = _rt001(text).replace("id: RT-001", "id: RT-901").replace(SHIPPED_INTENSITY, "intensity_pct_1rm: [60, 80]")
        return text.rstrip("\n") + "\n\n" + copy + "\n"

    kb = _shipped_with(tmp_path, add_copy)
    exit_code, findings = _unaccepted(kb)
    case = {"phase": "subacute", "site": "femoral-head", "ficat_stage": "I"}
    # The copy is not overridden by the light programme in cytopenia (PR-005), as RT-001 is, so
    # their effort bands (9-11 and 11-13) make a second pair. A low platelet count alone is a
    # cytopenia for PR-005 since the second clinical reading, so the witness records none.
    cytopenia = {"hematologic_malignancy": True, "phase": "subacute", "site": "femoral-head",
                 "platelet_count": 0, "comorbidities": [], "ficat_stage": "I"}
    shipped = (SHIPPED / RT).read_text(encoding="utf-8")
    before_copy = shipped.count("\n    statement:")  # the copy's is the last one
    statement = Expect("AVN308", "error", RT, "    statement: >-", ">-", SHIPPED_SAYS.format("901", "60-80"),
                       ("RT-901",), occurrence=before_copy)
    assert findings == expected_findings(kb, (
        Expect("AVN307", "error", RT, "intensity_pct_1rm: [60, 80]", "[60, 80]",
               two_doses_message("RT-001", "RT-901", "{phase: subacute, site: femoral-head, ficat_stage: I}",
                                 "intensity_pct_1rm 40-60 against 60-80"), ("RT-901", "RT-001"), case),
        Expect("AVN307", "error", RT, "effort_rpe: [11, 13]", "[11, 13]",
               two_doses_message("PR-005", "RT-901",
                                 "{hematologic_malignancy: true, phase: subacute, site: femoral-head, "
                                 "platelet_count: 0, comorbidities: [], ficat_stage: I}",
                                 "effort_rpe 9-11 against 11-13"), ("RT-901", "PR-005"), cytopenia,
               occurrence=shipped.count("effort_rpe: [11, 13]")),
        statement))
    assert exit_code == 1


def test_rt001_dose_changed_under_its_statement_is_reported(tmp_path: Path) -> None:
    kb = _shipped_with(tmp_path, lambda text: text.replace(SHIPPED_INTENSITY, "intensity_pct_1rm: [50, 70]", 1))
    exit_code, findings = _unaccepted(kb)
    assert findings == expected_findings(kb, (
        Expect("AVN308", "error", RT, "    statement: >-", ">-", SHIPPED_SAYS.format("001", "50-70"), ("RT-001",),
               occurrence=0),))
    assert exit_code == 1


def test_the_shipped_doses_are_declared_and_read() -> None:
    """The shipped knowledge base is checked, not skipped: its vocabulary declares the words, and
    RT-001's statement and plain-language text give doses that are read (and agree)."""
    from avn_kb.lang.dose_text import readers

    kb = load_knowledge(SHIPPED, "knowledge").kb
    assert kb.vocabulary is not None
    reader = readers(kb.vocabulary.interventions)["resistive-training"]
    rt001 = kb.recommendation("RT-001")
    assert rt001 is not None
    read = [(m.parameter, m.low, m.high) for text in (rt001.statement, rt001.plain_language)
            for m in reader.mentions(text)]
    assert read == [("repetitions", 10, 15), ("intensity_pct_1rm", 40, 60), ("effort_rpe", 11, 13), ("sets", 1, 3),
                    ("sessions_per_week", 2, 3), ("sessions_per_week", 2, 3)]
    assert all(rt001.action.dose[name] == (low, high) for name, low, high in read)

