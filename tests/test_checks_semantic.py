"""Semantic checks end to end (AVN205-AVN210 evidence, AVN301-AVN312 logic and graphs, AVN401-AVN406
lifecycle): each is planted in a copy of the small valid knowledge base, and `avn-kb validate --format
json` must report exactly that finding (code, severity, path, line, column, message, ids and, for
conflicts and gaps, the witness case); a near-identical valid variant must validate clean.

Every witness the validator gives is then put to the resolver: a conflict's witness is a valid case
on which both recommendations apply, a gap's a valid case on which no approved recommendation on
the target applies."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from avn_kb.lang.case_checks import case_problems
from avn_kb.lang.derive import with_derived
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.conditions import evaluate
from avn_kb.resolve.resolver import resolve
from tests.conftest import MINI
from tests.conftest import validate_json as _validate_json

RT = "recommendations/resistive-training.yaml"
OF = "recommendations/offloading.yaml"
REFS = "references.yaml"
KB = "kb.yaml"
VOCAB = "vocabulary.yaml"
ALL_STATUSES = ("draft", "submitted", "under-review", "approved", "retired")


# --- planting defects --------------------------------------------------------------------------

@dataclass(frozen=True)
class Edit:
    """Replace the first `old` in `file` by `new`; with `old` None, append `new` to the file."""

    file: str
    old: str | None
    new: str


def replace(file: str, old: str, new: str) -> Edit:
    return Edit(file, old, new)


def append(file: str, text: str) -> Edit:
    return Edit(file, None, text)


def planted(tmp_path: Path, edits: tuple[Edit, ...]) -> Path:
    """A copy of the mini knowledge base with the edits made."""
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    for edit in edits:
        path = kb / edit.file
        text = path.read_text(encoding="utf-8")
        if edit.old is None:
            text += edit.new
        else:
            assert edit.old in text, f"{edit.old!r} not in {edit.file}"
            text = text.replace(edit.old, edit.new, 1)
        path.write_text(text, encoding="utf-8")
    return kb


@dataclass(frozen=True)
class Expect:
    """A finding expected at the one line of `file` containing `needle`, at the column where
    `token` starts on that line."""

    code: str
    severity: str
    file: str
    needle: str
    token: str
    message: str
    ids: tuple[str, ...] = ()
    witness: dict[str, Any] | None = None
    accepted: str | None = None
    occurrence: int | None = None  # which line, when the needle is on several; None: it must be on one


def located(kb: Path, expect: Expect) -> dict[str, Any]:
    """The JSON finding `expect` describes, in this copy of the knowledge base."""
    lines = (kb / expect.file).read_text(encoding="utf-8").splitlines()
    hits = [number for number, text in enumerate(lines, start=1) if expect.needle in text]
    if expect.occurrence is None:
        assert len(hits) == 1, f"{expect.needle!r} is on lines {hits} of {expect.file}, not on exactly one"
    line = hits[expect.occurrence or 0]
    text = lines[line - 1]
    assert expect.token in text, f"{expect.token!r} not on line {line}: {text!r}"
    item: dict[str, Any] = {"code": expect.code, "severity": expect.severity, "path": f"{kb}/{expect.file}",
                            "line": line, "column": text.index(expect.token) + 1, "message": expect.message}
    if expect.ids:
        item["ids"] = list(expect.ids)
    if expect.witness is not None:
        item["witness"] = expect.witness
    if expect.accepted is not None:
        item["accepted"] = expect.accepted
    return item


def expected_findings(kb: Path, expected: tuple[Expect, ...]) -> list[dict[str, Any]]:
    """In the report's order: path, line, column, code, message."""
    items = [located(kb, e) for e in expected]
    return sorted(items, key=lambda f: (f["path"], f["line"], f["column"], f["code"], f["message"]))


def validate_json(kb: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """`avn-kb validate --format json`, judged as of 2026-06-01 unless the arguments say otherwise
    (the mini knowledge base's reviews fall due in 2028)."""
    return _validate_json(kb, *(args if "--as-of" in args else ("--as-of", "2026-06-01", *args)))


# --- recommendations to add ------------------------------------------------------------------

REVIEW = "    review: {approved_on: 2026-01-10, reviewers: [rev-a, rev-b], next_review_due: 2028-01-10}\n"
RT1_ACTION = ("{kind: do, target: resistive-training, dose: {intensity_pct_1rm: [40, 60], repetitions: [10, 15], "
              "sets: [1, 3]}, exercises: [leg-press]}")
RT1_DOES = "do resistive-training (intensity_pct_1rm 40-60; repetitions 10-15; sets 1-3; exercises leg-press)"
AVOID_RT = "{kind: avoid, target: resistive-training}"
THROMBO = "{comorbidities: {has: thrombocytopenia}}"
RETIRE_RT1 = replace(RT, "    status: approved\n", "    status: retired\n    retired_reason: Replaced by RT-002.\n")


def rt_rec(rec_id: str, when: str, action: str, direction: str = "for", status: str = "approved",
           more: str = "") -> str:
    """A resistive-training recommendation (appended to resistive-training.yaml), valid on its own."""
    return (f"  - id: {rec_id}\n"
            '    version: "1.0.0"\n'
            f"    status: {status}\n"
            f"    title: Test recommendation {rec_id}\n"
            "    statement: A statement for the tests.\n"
            "    plain_language: A sentence for patients.\n"
            "    population: avn\n"
            f"    when: {when}\n"
            f"    action: {action}\n"
            f"    strength: {{level: conditional, direction: {direction}}}\n"
            "    certainty: very-low\n"
            "    evidence: {indirect: true, reason: The dose comes from cardiac rehabilitation.}\n"
            "    citations:\n"
            "      - ref: williams-2007-aha\n"
            + REVIEW + more)


def of_rec(rec_id: str, when: str, action: str, status: str = "approved") -> str:
    """An offloading recommendation (appended to offloading.yaml), valid on its own."""
    return (f"  - id: {rec_id}\n"
            '    version: "1.0.0"\n'
            f"    status: {status}\n"
            f"    title: Test recommendation {rec_id}\n"
            "    statement: A statement for the tests.\n"
            "    plain_language: A sentence for patients.\n"
            "    population: avn-femoral-head\n"
            f"    when: {when}\n"
            f"    action: {action}\n"
            "    strength: {level: conditional, direction: for}\n"
            "    certainty: low\n"
            "    evidence: {indirect: false}\n"
            "    citations:\n"
            "      - ref: mont-1996\n"
            + REVIEW)


def precaution(more: str = "", when: str = THROMBO, status: str = "approved") -> Edit:
    """RT-002: avoid resistive-training with thrombocytopenia (against RT-001)."""
    return append(RT, rt_rec("RT-002", when, AVOID_RT, direction="against", status=status, more=more))


def conflict_message(a: str, b: str, case: str, does_a: str, does_b: str, why: str) -> str:
    return (f"{a} and {b} both apply to {case}: {does_a} vs {does_b} ({why}); add `overrides: [{a}]` to {b} "
            f"(or `overrides: [{b}]` to {a}) for the one that should win, or narrow a condition")


def two_doses_message(a: str, b: str, case: str, ranges: str, target: str = "resistive-training") -> str:
    return (f"{a} and {b} both apply to {case} with different doses of {target}: {ranges}; make the ranges agree, "
            f"add `overrides: [{a}]` to {b} (or `overrides: [{b}]` to {a}) for the one that should win, or narrow a "
            "condition")


def gap_message(target: str, case: str, day: str = "2026-06-01") -> str:
    return (f"no approved recommendation on {target} in force on {day} applies to {case}; add one for such "
            "cases (see `avn-kb coverage`)")


def redundant_message(narrow: str, wide: str, does: str) -> str:
    return (f"{narrow} is redundant: {wide} (the wider one) gives the same action ({does}) whenever {narrow} "
            "applies; merge or retire one")


def cited(rec_id: str, ref: str, file: str, code: str, severity: str, message: str) -> Expect:
    """A finding on a citation's `ref`."""
    return Expect(code, severity, file, f"- ref: {ref}", ref, message, (rec_id, ref))


# --- the table ---------------------------------------------------------------------------------
# (code the row is about, name, edits, extra CLI arguments, expected findings: all of them)

WIDE_SCOPE = replace(KB, "      when: {site: femoral-head, collapse: pre-collapse}\n",
                     "      when: {site: femoral-head}\n")
POST_COLLAPSE = "{site: femoral-head, collapse: post-collapse}"
NWB = "{kind: consider, target: protected-weight-bearing, level: non-weight-bearing}"
PWB_GAPS = tuple(
    Expect("AVN304", "warning", KB, "- target: protected-weight-bearing", "target",
           gap_message("protected-weight-bearing", f"{{site: femoral-head, arco_stage: {stage}}}"),
           ("protected-weight-bearing",), {"site": "femoral-head", "arco_stage": stage})
    for stage in ("IIIA", "IIIB", "IV"))
# Examples are spread over different regions: the chronic humeral head is a gap of its own.
RT_GAPS = tuple(
    Expect("AVN304", "warning", KB, "- resistive-training", "resistive-training",
           gap_message("resistive-training", f"{{phase: {phase}, site: {site}}}"),
           ("resistive-training",), {"phase": phase, "site": site})
    for phase, site in (("acute", "femoral-head"), ("acute", "knee"), ("chronic", "humeral-head")))
THROMBO_CASE = {"comorbidities": ["thrombocytopenia"], "phase": "chronic", "site": "femoral-head"}

ROWS: list[tuple[str, str, tuple[Edit, ...], tuple[str, ...], tuple[Expect, ...]]] = [
    # AVN205 off-topic citation
    ("AVN205", "reference-on-another-topic",
     (replace(REFS, "    topics: [offloading]\n", "    topics: [exercise-prescription]\n"),), (),
     (cited("OF-001", "mont-1996", OF, "AVN205", "error",
            "OF-001 (offloading) cites mont-1996, whose topics (exercise-prescription) do not include offloading: "
            "cite a source on the subject or correct the reference's topics"),)),
    ("AVN205", "topic-among-several",
     (replace(REFS, "    topics: [offloading]\n", "    topics: [exercise-prescription, offloading]\n"),), (), ()),
    # AVN206 undeclared indirect evidence
    ("AVN206", "indirect-not-declared",
     (replace(RT, "    evidence:\n      indirect: true\n      reason: The dose comes from guidance for people with "
              "cardiovascular disease.\n", "    evidence: {indirect: false}\n"),), (),
     (Expect("AVN206", "error", RT, "evidence: {indirect: false}", "{",
             "RT-001 is for avn, but every reference it cites studied another population (williams-2007-aha: "
             "cardiovascular-disease): set `evidence: {indirect: true, reason: ...}` and lower the certainty, or "
             "cite direct evidence", ("RT-001",)),)),
    ("AVN206", "same-population-direct",
     (replace(RT, "    evidence:\n      indirect: true\n      reason: The dose comes from guidance for people with "
              "cardiovascular disease.\n", "    evidence: {indirect: false}\n"),
      replace(REFS, "    population: cardiovascular-disease\n", "    population: avn\n")), (), ()),
    ("AVN206", "sub-population-matches",
     (replace(RT, "    evidence:\n      indirect: true\n      reason: The dose comes from guidance for people with "
              "cardiovascular disease.\n", "    evidence: {indirect: false}\n"),
      replace(REFS, "    population: cardiovascular-disease\n", "    population: avn-femoral-head\n")), (), ()),
    # AVN207 certainty above the evidence
    ("AVN207", "high-on-indirect",
     (replace(RT, "    certainty: very-low\n", "    certainty: high\n"),), (),
     (Expect("AVN207", "warning", RT, "certainty: high", "high",
             "RT-001: certainty high rests on indirect evidence; GRADE rates it down: lower it", ("RT-001",)),)),
    ("AVN207", "moderate-on-indirect",
     (replace(RT, "    certainty: very-low\n", "    certainty: moderate\n"),), (), ()),
    ("AVN207", "moderate-on-expert-opinion",
     (replace(OF, "    certainty: low\n    evidence: {indirect: false}\n",
              "    certainty: moderate\n    evidence: {indirect: false, expert_opinion: true}\n"),), (),
     (Expect("AVN207", "warning", OF, "certainty: moderate", "moderate",
             "OF-001: certainty moderate rests on expert opinion alone; GRADE rates it down: lower it",
             ("OF-001",)),)),
    ("AVN207", "low-on-expert-opinion",
     (replace(OF, "    evidence: {indirect: false}\n", "    evidence: {indirect: false, expert_opinion: true}\n"),),
     (), ()),
    # AVN208 locator required by policy
    ("AVN208", "locator-missing",
     (replace(KB, "locator_required: false", "locator_required: true"),
      replace(RT, "      - ref: williams-2007-aha\n", "      - ref: williams-2007-aha\n        locator: Table 3\n")),
     (), (cited("OF-001", "mont-1996", OF, "AVN208", "error",
                "OF-001 cites mont-1996 without a locator; the policy requires one: add `locator:` (page, table or "
                "section)"),)),
    ("AVN208", "every-citation-located",
     (replace(KB, "locator_required: false", "locator_required: true"),
      replace(RT, "      - ref: williams-2007-aha\n", "      - ref: williams-2007-aha\n        locator: Table 3\n"),
      replace(OF, "      - ref: mont-1996\n", "      - ref: mont-1996\n        locator: p. 172\n")), (), ()),
    # AVN209 retired reference cited
    ("AVN209", "retired-reference",
     (replace(REFS, "    design: systematic-review\n", "    design: systematic-review\n    status: retired\n"),), (),
     (cited("OF-001", "mont-1996", OF, "AVN209", "warning",
            "OF-001 cites mont-1996, which is retired: replace the citation"),)),
    ("AVN209", "active-reference",
     (replace(REFS, "    design: systematic-review\n", "    design: systematic-review\n    status: active\n"),),
     (), ()),
    # AVN210 the reference does not cover the intervention
    ("AVN210", "not-covered",
     (replace(REFS, "    covers: [protected-weight-bearing]\n", "    covers: [resistive-training]\n"),), (),
     (cited("OF-001", "mont-1996", OF, "AVN210", "error",
            "OF-001 is about protected-weight-bearing, but mont-1996 covers only resistive-training: cite the "
            "publication the claim comes from"),)),
    ("AVN210", "covered-among-several",
     (replace(REFS, "    covers: [protected-weight-bearing]\n",
              "    covers: [resistive-training, protected-weight-bearing]\n"),), (), ()),
    ("AVN210", "no-covers-list",
     (replace(REFS, "    covers: [protected-weight-bearing]\n", ""),), (), ()),
    # AVN301 conflicts, with the witness case
    ("AVN301", "precaution-against-rt001", (precaution(),), (),
     (Expect("AVN301", "error", RT, "when: {comorbidities", "{",
             conflict_message("RT-001", "RT-002", "{comorbidities: [thrombocytopenia], phase: chronic, site: "
                              "femoral-head}", RT1_DOES, "avoid resistive-training", "do against avoid"),
             ("RT-002", "RT-001"), THROMBO_CASE),)),
    ("AVN301", "precaution-overrides-rt001", (precaution(more="    overrides: [RT-001]\n"),), (), ()),
    ("AVN301", "rt001-overrides-precaution",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    overrides: [RT-002]\n"), precaution()),
     (), ()),
    ("AVN301", "precaution-never-together", (precaution(when="{phase: acute}"),), (), ()),
    ("AVN301", "precaution-retired",
     (precaution(status="retired", more="    retired_reason: Withdrawn.\n"),), (), ()),
    ("AVN301", "precaution-in-force-at-other-times",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    effective: {from: 2026-01-01}\n"),
      precaution(more="    effective: {until: 2025-12-31}\n")), (), ()),
    ("AVN301", "dose-ranges-apart",
     (append(RT, rt_rec("RT-002", "{site: knee}", "{kind: do, target: resistive-training, dose: {sets: [5, 6]}}")),),
     (), (Expect("AVN301", "error", RT, "when: {site: knee}", "{",
                 conflict_message("RT-001", "RT-002", "{phase: chronic, site: knee}", RT1_DOES,
                                  "do resistive-training (sets 5-6)", "sets 1-3 against 5-6"),
                 ("RT-002", "RT-001"), {"phase": "chronic", "site": "knee"}),)),
    # Ranges that overlap but differ are not a contradiction: two doses for one case (AVN307).
    ("AVN301", "dose-ranges-overlap",
     (append(RT, rt_rec("RT-002", "{site: knee}", "{kind: do, target: resistive-training, dose: {sets: [3, 6]}}")),),
     (), (Expect("AVN307", "error", RT, "dose: {sets: [3, 6]}", "[3, 6]",
                 two_doses_message("RT-001", "RT-002", "{phase: chronic, site: knee}", "sets 1-3 against 3-6"),
                 ("RT-002", "RT-001"), {"phase": "chronic", "site": "knee"}),)),
    ("AVN301", "dose-ranges-equal",
     (append(RT, rt_rec("RT-002", "{site: knee}", "{kind: do, target: resistive-training, dose: {sets: [1, 3]}}")),),
     (), ()),
    ("AVN301", "levels-differ",
     (append(OF, of_rec("OF-002", "{site: femoral-head, arco_stage: II}", NWB)),), (),
     (Expect("AVN301", "error", OF, "when: {site: femoral-head, arco_stage: II}", "{",
             conflict_message("OF-001", "OF-002", "{site: femoral-head, arco_stage: II}",
                              "consider protected-weight-bearing (level partial)",
                              "consider protected-weight-bearing (level non-weight-bearing)",
                              "level partial against non-weight-bearing"),
             ("OF-002", "OF-001"), {"site": "femoral-head", "arco_stage": "II"}),)),
    ("AVN301", "levels-differ-stages-apart",
     (append(OF, of_rec("OF-002", "{site: femoral-head, arco_stage: IIIA}", NWB)),), (), ()),
    # AVN302 condition that can never hold
    ("AVN302", "knee-in-upper-limb",
     (replace(RT, "      region: lower-limb\n", "      region: upper-limb\n      site: knee\n"),), (),
     (Expect("AVN302", "error", RT, "region: upper-limb", "region",
             "RT-001 can never apply: no case satisfies its condition; fix the condition", ("RT-001",)),)),
    ("AVN302", "knee-in-lower-limb",
     (replace(RT, "      region: lower-limb\n", "      region: lower-limb\n      site: knee\n"),), (), ()),
    ("AVN302", "number-range-empty",
     (replace(RT, "      region: lower-limb\n",
              "      region: lower-limb\n      all: [{pain_score: {min: 8}}, {pain_score: {max: 7}}]\n"),), (),
     (Expect("AVN302", "error", RT, "region: lower-limb", "region",
             "RT-001 can never apply: no case satisfies its condition; fix the condition", ("RT-001",)),)),
    ("AVN302", "number-range-one-point",
     (replace(RT, "      region: lower-limb\n",
              "      region: lower-limb\n      all: [{pain_score: {min: 7}}, {pain_score: {max: 7}}]\n"),), (), ()),
    ("AVN302", "has-and-lacks-same",
     (replace(RT, "      region: lower-limb\n",
              "      region: lower-limb\n      comorbidities: {has: osteoporosis, lacks: osteoporosis}\n"),), (),
     (Expect("AVN302", "error", RT, "region: lower-limb", "region",
             "RT-001 can never apply: no case satisfies its condition; fix the condition", ("RT-001",)),)),
    ("AVN302", "has-and-lacks-different",
     (replace(RT, "      region: lower-limb\n",
              "      region: lower-limb\n      comorbidities: {has: osteoporosis, lacks: thrombocytopenia}\n"),),
     (), ()),
    # AVN303 redundancy: the finding is on the narrow one and names the wider one
    ("AVN303", "narrower-added",
     (append(RT, rt_rec("RT-002", "{site: knee, phase: chronic}", RT1_ACTION)),), (),
     (Expect("AVN303", "warning", RT, "- id: RT-002", "RT-002", redundant_message("RT-002", "RT-001", RT1_DOES),
             ("RT-002", "RT-001")),)),
    ("AVN303", "overlapping-added",
     (append(RT, rt_rec("RT-002", "{site: knee}", RT1_ACTION)),), (), ()),
    ("AVN303", "wider-added",
     (append(RT, rt_rec("RT-002", "{phase: chronic}", RT1_ACTION)),), (),
     (Expect("AVN303", "warning", RT, "- id: RT-001", "RT-001", redundant_message("RT-001", "RT-002", RT1_DOES),
             ("RT-001", "RT-002")),)),
    ("AVN303", "wider-with-other-exercise",
     (append(RT, rt_rec("RT-002", "{phase: chronic}", RT1_ACTION.replace("leg-press", "bench-press"))),), (), ()),
    # AVN304 gaps, with the witness cases (at most three)
    ("AVN304", "scope-widened", (WIDE_SCOPE,), (), PWB_GAPS),
    ("AVN304", "scope-widened-and-covered",
     (WIDE_SCOPE, append(OF, of_rec("OF-002", POST_COLLAPSE, NWB))), (), ()),
    ("AVN304", "scope-widened-cover-only-draft",
     (WIDE_SCOPE, append(OF, of_rec("OF-002", POST_COLLAPSE, NWB, status="draft"))), (), PWB_GAPS),
    ("AVN304", "every-case-needs-resistive-training",
     (replace(KB, "      when: {site: femoral-head, collapse: pre-collapse}\n",
              "      when: {site: femoral-head, collapse: pre-collapse}\n    - resistive-training\n"),), (), RT_GAPS),
    # AVN305 strength direction against the action
    ("AVN305", "do-against",
     (replace(RT, "direction: for}", "direction: against}"),), (),
     (Expect("AVN305", "error", RT, "direction: against", "against",
             "RT-001: strength is against but the action is `do`, which is for: make them agree", ("RT-001",)),)),
    ("AVN305", "avoid-for",
     (replace(OF, "{kind: consider,", "{kind: avoid,"),), (),
     (Expect("AVN305", "error", OF, "direction: for", "for}",
             "OF-001: strength is for but the action is `avoid`, which is against: make them agree", ("OF-001",)),)),
    ("AVN305", "avoid-against",
     (replace(OF, "{kind: consider,", "{kind: avoid,"), replace(OF, "direction: for}", "direction: against}")), (),
     ()),
    # AVN310 cycles; the message names the cycle
    ("AVN310", "overrides-cycle",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    overrides: [RT-002]\n"),
      precaution(more="    overrides: [RT-001]\n")), (),
     (Expect("AVN310", "error", RT, "overrides: [RT-002]", "[",
             "cycle in overrides: RT-001 -> RT-002 -> RT-001; remove one link so the order is clear",
             ("RT-001", "RT-002")),)),
    ("AVN310", "overrides-self",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    overrides: [RT-001]\n"),), (),
     (Expect("AVN310", "error", RT, "overrides: [RT-001]", "[",
             "cycle in overrides: RT-001 -> RT-001; remove one link so the order is clear", ("RT-001",)),)),
    ("AVN310", "supersedes-cycle",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    supersedes: [RT-002]\n"),
      precaution(status="draft", more="    supersedes: [RT-001]\n")), (),
     (Expect("AVN310", "error", RT, "supersedes: [RT-002]", "[",
             "cycle in supersedes: RT-001 -> RT-002 -> RT-001; remove one link so the order is clear",
             ("RT-001", "RT-002")),)),
    ("AVN310", "supersedes-one-way", (precaution(status="draft", more="    supersedes: [RT-001]\n"),), (), ()),
    ("AVN310", "derived-cycle",
     (replace(VOCAB, "derived:\n",
              "derived:\n  alpha:\n    label: Alpha\n    values: [high, low]\n    cases:\n      - value: high\n"
              "        when: {beta: high}\n  beta:\n    label: Beta\n    values: [high, low]\n    cases:\n"
              "      - value: high\n        when: {alpha: high}\n"),), (),
     (Expect("AVN310", "error", VOCAB, "label: Alpha", "label",
             "cycle in derived facts: alpha -> beta -> alpha; a derived fact cannot depend on itself"),)),
    ("AVN310", "derived-chain",
     (replace(VOCAB, "derived:\n",
              "derived:\n  alpha:\n    label: Alpha\n    values: [high, low]\n    cases:\n      - value: high\n"
              "        when: {beta: high}\n  beta:\n    label: Beta\n    values: [high, low]\n    cases:\n"
              "      - value: high\n        when: {site: knee}\n"),), (), ()),
    # AVN311 links to recommendations that do not exist
    ("AVN311", "overrides-nothing",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    overrides: [RT-999]\n"),), (),
     (Expect("AVN311", "error", RT, "overrides: [RT-999]", "RT-999",
             "RT-001 overrides RT-999, which does not exist: correct the id or remove it", ("RT-001", "RT-999")),)),
    ("AVN311", "supersedes-nothing",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    supersedes: [OF-001, RT-998]\n"),), (),
     (Expect("AVN311", "error", RT, "supersedes: [OF-001, RT-998]", "RT-998",
             "RT-001 supersedes RT-998, which does not exist: correct the id or remove it", ("RT-001", "RT-998")),
      Expect("AVN312", "error", OF, "status: approved", "approved",
             "OF-001 is superseded by RT-001 but is still approved: retire it (status: retired with a "
             "retired_reason)", ("OF-001", "RT-001")))),
    ("AVN311", "overrides-existing",
     (replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    overrides: [OF-001]\n"),), (), ()),
    # AVN312 approved recommendation superseded by an approved one
    ("AVN312", "both-approved",
     (append(RT, rt_rec("RT-002", "{region: lower-limb}", RT1_ACTION.replace("[1, 3]", "[2, 4]"),
                        more="    supersedes: [RT-001]\n")),), (),
     (Expect("AVN312", "error", RT, "status: approved", "approved",
             "RT-001 is superseded by RT-002 but is still approved: retire it (status: retired with a "
             "retired_reason)", ("RT-001", "RT-002"), occurrence=0),)),
    ("AVN312", "old-one-retired",
     (RETIRE_RT1, append(RT, rt_rec("RT-002", "{region: lower-limb}", RT1_ACTION.replace("[1, 3]", "[2, 4]"),
                                    more="    supersedes: [RT-001]\n"))), (), ()),
    ("AVN312", "new-one-draft",
     (append(RT, rt_rec("RT-002", "{region: lower-limb}", RT1_ACTION.replace("[1, 3]", "[2, 4]"), status="draft",
                        more="    supersedes: [RT-001]\n")),), (), ()),
    # AVN401 approval incomplete
    ("AVN401", "one-reviewer",
     (replace(RT, "reviewers: [rev-a, rev-b]", "reviewers: [rev-a]"),), (),
     (Expect("AVN401", "error", RT, "status: approved", "approved",
             "RT-001 is approved by 1 distinct board reviewer(s); the policy needs 2: add reviewers to "
             "review.reviewers", ("RT-001",)),)),
    ("AVN401", "no-approval-date",
     (replace(RT, "      approved_on: 2026-01-10\n", ""),), (),
     (Expect("AVN401", "error", RT, "status: approved", "approved",
             "RT-001 is approved but has no review.approved_on date: add it", ("RT-001",)),)),
    ("AVN401", "one-reviewer-is-the-policy",
     (replace(RT, "reviewers: [rev-a, rev-b]", "reviewers: [rev-a]"),
      replace(KB, "reviewers_required: 2", "reviewers_required: 1")), (), ()),
    ("AVN401", "draft-needs-no-approval",
     (replace(RT, "    status: approved\n", "    status: draft\n"), replace(RT, "      approved_on: 2026-01-10\n", ""),
      replace(RT, "reviewers: [rev-a, rev-b]", "reviewers: [rev-a]")), (), ()),
    # AVN402 reviewer not on the board
    ("AVN402", "stranger-among-reviewers",
     (replace(RT, "reviewers: [rev-a, rev-b]", "reviewers: [rev-a, rev-b, dr-who]"),), (),
     (Expect("AVN402", "error", RT, "reviewers: [rev-a, rev-b, dr-who]", "dr-who",
             "RT-001: reviewer 'dr-who' is not on the editorial board in kb.yaml (rev-a, rev-b): add them to the "
             "board or correct the id", ("RT-001",)),)),
    ("AVN402", "stranger-does-not-count",
     (replace(RT, "reviewers: [rev-a, rev-b]", "reviewers: [rev-a, dr-who]"),), (),
     (Expect("AVN402", "error", RT, "reviewers: [rev-a, dr-who]", "dr-who",
             "RT-001: reviewer 'dr-who' is not on the editorial board in kb.yaml (rev-a, rev-b): add them to the "
             "board or correct the id", ("RT-001",)),
      Expect("AVN401", "error", RT, "status: approved", "approved",
             "RT-001 is approved by 1 distinct board reviewer(s); the policy needs 2: add reviewers to "
             "review.reviewers", ("RT-001",)))),
    ("AVN402", "stranger-on-a-draft",
     (replace(RT, "    status: approved\n", "    status: draft\n"),
      replace(RT, "reviewers: [rev-a, rev-b]", "reviewers: [dr-who]")),
     (), (Expect("AVN402", "error", RT, "reviewers: [dr-who]", "dr-who",
                 "RT-001: reviewer 'dr-who' is not on the editorial board in kb.yaml (rev-a, rev-b): add them to "
                 "the board or correct the id", ("RT-001",)),)),
    ("AVN402", "stranger-joins-the-board",
     (replace(RT, "reviewers: [rev-a, rev-b]", "reviewers: [rev-a, rev-b, dr-who]"),
      replace(KB, "    role: physiotherapist\n",
                  "    role: physiotherapist\n  - id: dr-who\n    role: methodologist\n")),
     (), ()),
    # AVN403 review overdue, judged --as-of
    ("AVN403", "due-yesterday",
     (replace(RT, "next_review_due: 2028-01-10", "next_review_due: 2027-06-01"),), ("--as-of", "2027-06-02"),
     (Expect("AVN403", "warning", RT, "next_review_due: 2027-06-01", "2027-06-01",
             "RT-001: review was due on 2027-06-01 (as of 2027-06-02): review it and set a new date", ("RT-001",)),)),
    ("AVN403", "due-today",
     (replace(RT, "next_review_due: 2028-01-10", "next_review_due: 2027-06-01"),), ("--as-of", "2027-06-01"), ()),
    ("AVN403", "due-yesterday-but-retired",
     (replace(RT, "next_review_due: 2028-01-10", "next_review_due: 2027-06-01"), RETIRE_RT1),
     ("--as-of", "2027-06-02"), ()),
    ("AVN403", "both-overdue", (), ("--as-of", "2028-01-11"),
     (Expect("AVN403", "warning", OF, "next_review_due", "2028-01-10",
             "OF-001: review was due on 2028-01-10 (as of 2028-01-11): review it and set a new date", ("OF-001",)),
      Expect("AVN403", "warning", RT, "next_review_due", "2028-01-10",
             "RT-001: review was due on 2028-01-10 (as of 2028-01-11): review it and set a new date",
             ("RT-001",)))),
    # AVN404 links to retired recommendations
    ("AVN404", "overrides-a-retired-one",
     (RETIRE_RT1, append(RT, rt_rec("RT-002", "{region: lower-limb}", RT1_ACTION, more="    overrides: [RT-001]\n"))),
     (), (Expect("AVN404", "warning", RT, "overrides: [RT-001]", "RT-001",
                 "RT-002 overrides RT-001, which is retired: the override has no effect; remove it",
                 ("RT-002", "RT-001")),)),
    ("AVN404", "supersedes-a-retired-one",
     (RETIRE_RT1, append(RT, rt_rec("RT-002", "{region: lower-limb}", RT1_ACTION, more="    supersedes: [RT-001]\n"))),
     (), ()),
    ("AVN404", "retired-one-overrides",
     (RETIRE_RT1, replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    overrides: [OF-001]\n")), (),
     (Expect("AVN404", "warning", RT, "overrides: [OF-001]", "OF-001",
             "RT-001 is retired but still overrides OF-001: remove the override", ("RT-001", "OF-001")),)),
    ("AVN404", "retired-one-supersedes",
     (RETIRE_RT1, replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    supersedes: [OF-001]\n")), (),
     (Expect("AVN404", "warning", RT, "supersedes: [OF-001]", "OF-001",
             "RT-001 is retired but still supersedes OF-001: whatever replaces RT-001 should supersede it instead",
             ("RT-001", "OF-001")),)),
    # AVN405 effective period reversed
    ("AVN405", "ends-before-it-starts",
     (replace(RT, "    certainty: very-low\n",
              "    certainty: very-low\n    effective: {from: 2027-01-01, until: 2026-01-01}\n"),), (),
     (Expect("AVN405", "error", RT, "effective: {", "2026-01-01",
             "RT-001: effective until 2026-01-01, before it starts on 2027-01-01: correct the dates", ("RT-001",)),)),
    ("AVN405", "one-day",
     (replace(RT, "    certainty: very-low\n",
              "    certainty: very-low\n    effective: {from: 2026-01-01, until: 2026-01-01}\n"),), (), ()),
    # AVN406 accepted finding with an unknown code
    ("AVN406", "unknown-code",
     (replace(RT, "    certainty: very-low\n",
              "    certainty: very-low\n    accepted:\n      - code: AVN999\n        reason: Not a check.\n"),), (),
     (Expect("AVN406", "error", RT, "code: AVN999", "AVN999",
             "RT-001 accepts AVN999, which is not a check code: use one from docs/checks.md", ("RT-001",)),)),
    ("AVN406", "known-code",
     (replace(RT, "    certainty: very-low\n",
              "    certainty: very-low\n    accepted:\n      - code: AVN303\n        reason: Kept on purpose.\n"),),
     (), ()),
]

CODES_UNDER_TEST = ("AVN205", "AVN206", "AVN207", "AVN208", "AVN209", "AVN210", "AVN301", "AVN302", "AVN303",
                    "AVN304", "AVN305", "AVN310", "AVN311", "AVN312", "AVN401", "AVN402", "AVN403", "AVN404",
                    "AVN405", "AVN406")


def _params(rows: list[tuple[str, str, tuple[Edit, ...], tuple[str, ...], tuple[Expect, ...]]]) -> list[Any]:
    return [pytest.param(edits, args, expected, id=f"{code}-{name}") for code, name, edits, args, expected in rows]


def test_the_table_has_a_failing_and_a_passing_fixture_for_every_code() -> None:
    for code in CODES_UNDER_TEST:
        rows = [row for row in ROWS if row[0] == code]
        assert any(any(e.code == code for e in row[4]) for row in rows), f"no fixture plants {code}"
        assert any(not any(e.code == code for e in row[4]) for row in rows), f"no valid variant for {code}"
    assert len({(row[0], row[1]) for row in ROWS}) == len(ROWS)


def test_the_copy_of_the_mini_knowledge_base_is_clean(tmp_path: Path) -> None:
    exit_code, report = validate_json(planted(tmp_path, ()))
    assert (exit_code, report["findings"]) == (0, [])


@pytest.mark.parametrize("edits,args,expected", _params(ROWS))
def test_planted_defect_is_reported_exactly(tmp_path: Path, edits: tuple[Edit, ...], args: tuple[str, ...],
                                            expected: tuple[Expect, ...]) -> None:
    kb = planted(tmp_path, edits)
    exit_code, report = validate_json(kb, *args)
    assert report["findings"] == expected_findings(kb, expected)
    errors = sum(1 for e in expected if e.severity == "error")
    warnings = sum(1 for e in expected if e.severity == "warning")
    assert (report["summary"]["errors"], report["summary"]["warnings"]) == (errors, warnings)
    assert exit_code == (1 if errors else 0)


# --- acceptance ----------------------------------------------------------------------------------

NARROW_RT2 = rt_rec("RT-002", "{site: knee, phase: chronic}", RT1_ACTION,
                    more="    accepted:\n      - code: AVN303\n        reason: Kept apart on purpose.\n")


@pytest.mark.parametrize("strict", [(), ("--strict",)], ids=["default", "strict"])
def test_accepted_finding_is_listed_but_not_counted(tmp_path: Path, strict: tuple[str, ...]) -> None:
    kb = planted(tmp_path, (append(RT, NARROW_RT2),))
    exit_code, report = validate_json(kb, *strict)
    assert report["findings"] == expected_findings(kb, (
        Expect("AVN303", "warning", RT, "- id: RT-002", "RT-002", redundant_message("RT-002", "RT-001", RT1_DOES),
               ("RT-002", "RT-001"), accepted="Kept apart on purpose."),))
    summary = report["summary"]
    assert (summary["errors"], summary["warnings"], summary["accepted"], summary["exit_code"]) == (0, 0, 1, 0)
    assert exit_code == 0


ACCEPT_303 = "    certainty: {}\n    accepted:\n      - code: AVN303\n        reason: Kept apart on purpose.\n"


def test_acceptance_by_the_other_recommendation_named_counts(tmp_path: Path) -> None:
    """Any recommendation a finding names may accept it (RT-001 is named second here)."""
    kb = planted(tmp_path, (
        replace(RT, "    certainty: very-low\n", ACCEPT_303.format("very-low")),
        append(RT, rt_rec("RT-002", "{site: knee, phase: chronic}", RT1_ACTION))))
    exit_code, report = validate_json(kb, "--strict")
    assert report["findings"] == expected_findings(kb, (
        Expect("AVN303", "warning", RT, "- id: RT-002", "RT-002", redundant_message("RT-002", "RT-001", RT1_DOES),
               ("RT-002", "RT-001"), accepted="Kept apart on purpose."),))
    assert (report["summary"]["warnings"], report["summary"]["accepted"], exit_code) == (0, 1, 0)


def test_acceptance_by_a_recommendation_not_named_does_not_count(tmp_path: Path) -> None:
    kb = planted(tmp_path, (
        replace(OF, "    certainty: low\n", ACCEPT_303.format("low")),
        append(RT, rt_rec("RT-002", "{site: knee, phase: chronic}", RT1_ACTION))))
    exit_code, report = validate_json(kb, "--strict")
    assert report["findings"] == expected_findings(kb, (
        Expect("AVN303", "warning", RT, "- id: RT-002", "RT-002", redundant_message("RT-002", "RT-001", RT1_DOES),
               ("RT-002", "RT-001")),))
    assert (report["summary"]["warnings"], report["summary"]["accepted"], exit_code) == (1, 0, 1)


# --- witnesses: real cases, confirmed by the resolver -----------------------------------------------

WITNESS_ROWS = [row for row in ROWS if any(e.code in ("AVN301", "AVN304") for e in row[4])]


def _day_both_in_force(kb_recs: list[Any]) -> dt.date:
    start = max([rec.effective_from or "2026-06-01" for rec in kb_recs])
    return dt.date.fromisoformat(start)


@pytest.mark.parametrize("edits,args,expected", _params(WITNESS_ROWS))
def test_witnesses_are_cases_the_resolver_agrees_with(tmp_path: Path, edits: tuple[Edit, ...],
                                                      args: tuple[str, ...], expected: tuple[Expect, ...]) -> None:
    kb_dir = planted(tmp_path, edits)
    _, report = validate_json(kb_dir, *args)
    found = [f for f in report["findings"] if f["code"] in ("AVN301", "AVN304")]
    assert len(found) == sum(1 for e in expected if e.code in ("AVN301", "AVN304"))
    kb = load_knowledge(kb_dir, str(kb_dir)).kb
    assert kb.vocabulary is not None and kb.manifest is not None
    for finding in found:
        witness = finding["witness"]
        assert case_problems(kb.vocabulary, witness) == [], f"witness {witness} is not a valid case"
        facts = with_derived(kb.vocabulary, witness)
        if finding["code"] == "AVN301":
            recs = [kb.recommendation(rec_id) for rec_id in finding["ids"]]
            assert all(rec is not None for rec in recs)
            assert [evaluate(rec.when, facts) for rec in recs] == [True, True]  # type: ignore[union-attr]
            resolution = resolve(kb, witness, as_of=_day_both_in_force(recs), statuses=ALL_STATUSES)
            outcomes = {o.rec.id: o for o in resolution.outcomes}
            first, second = finding["ids"]
            assert (outcomes[first].outcome, outcomes[second].outcome) == ("applies", "applies")
            assert second in outcomes[first].conflicts_with and first in outcomes[second].conflicts_with
        else:
            target = finding["ids"][0]
            scope = dict(kb.manifest.decision_required)[target]
            assert evaluate(scope, facts) is True
            on_target = [rec for rec in kb.recommendations if rec.status == "approved" and rec.action.target == target]
            assert [evaluate(rec.when, facts) for rec in on_target] == [False] * len(on_target)
            resolution = resolve(kb, witness, statuses=("approved",))
            assert [o.rec.id for o in resolution.outcomes
                    if o.rec.action.target == target and o.outcome in ("applies", "undecided")] == []


# --- defects found while writing these tests --------------------------------------------------------

# RT-002 overrides RT-003 and RT-003 overrides RT-001; nothing overrides RT-001 on behalf of RT-002.
CHAIN = (precaution(more="    overrides: [RT-003]\n"),
         append(RT, rt_rec("RT-003", "{comorbidities: {has: osteoporosis}}", AVOID_RT, direction="against",
                           more="    overrides: [RT-001]\n")))


def test_resolver_reports_the_conflict_an_override_chain_leaves(tmp_path: Path) -> None:
    """On this case the resolver says RT-001 and RT-002 both apply and conflict, because overrides
    are not transitive: so the validator must report the conflict too (next test)."""
    kb_dir = planted(tmp_path, CHAIN)
    kb = load_knowledge(kb_dir, str(kb_dir)).kb
    outcomes = {o.rec.id: o for o in resolve(kb, THROMBO_CASE, as_of=dt.date(2026, 6, 1)).outcomes}
    assert [(i, outcomes[i].outcome, outcomes[i].conflicts_with) for i in ("RT-001", "RT-002", "RT-003")] == [
        ("RT-001", "applies", ("RT-002",)), ("RT-002", "applies", ("RT-001",)), ("RT-003", "not-applicable", ())]


def test_conflict_is_reported_when_only_an_override_chain_links_the_two(tmp_path: Path) -> None:
    kb = planted(tmp_path, CHAIN)
    _, report = validate_json(kb)
    assert report["findings"] == expected_findings(kb, (
        Expect("AVN301", "error", RT, "when: {comorbidities: {has: thrombocytopenia}}", "{",
               conflict_message("RT-001", "RT-002", "{comorbidities: [thrombocytopenia], phase: chronic, site: "
                                "femoral-head}", RT1_DOES, "avoid resistive-training", "do against avoid"),
               ("RT-002", "RT-001"), THROMBO_CASE),))


def test_no_conflict_between_integer_ranges_with_no_whole_number_in_common(tmp_path: Path) -> None:
    kb = planted(tmp_path, (
        replace(RT, "      region: lower-limb\n", "      region: lower-limb\n      pain_score: {max: 7.5}\n"),
        precaution(when="{pain_score: {min: 7.2}}")))
    _, report = validate_json(kb)
    assert report["findings"] == []


def test_unknown_accepted_code_is_located_after_a_repeated_one(tmp_path: Path) -> None:
    kb = planted(tmp_path, (replace(
        RT, "    certainty: very-low\n",
        "    certainty: very-low\n    accepted:\n      - code: AVN303\n        reason: One.\n"
        "      - code: AVN303\n        reason: Two.\n      - code: AVN999\n        reason: Not a check.\n"),))
    _, report = validate_json(kb)
    unknown = [f for f in report["findings"] if "AVN999" in f["message"]]
    assert unknown == expected_findings(kb, (
        Expect("AVN406", "error", RT, "code: AVN999", "AVN999",
               "RT-001 accepts AVN999, which is not a check code: use one from docs/checks.md", ("RT-001",)),))
    twice = [(f["code"], f["line"], f["message"]) for f in report["findings"] if "AVN999" not in f["message"]]
    line = next(n for n, text in enumerate((kb / RT).read_text().splitlines(), 1) if "reason: Two." in text) - 1
    assert twice == [("AVN406", line, "RT-001 accepts AVN303 twice: keep one entry with one reason")]


def test_no_redundancy_between_recommendations_never_in_force_together(tmp_path: Path) -> None:
    kb = planted(tmp_path, (
        replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    effective: {until: 2025-12-31}\n"),
        append(RT, rt_rec("RT-002", "{site: knee, phase: chronic}", RT1_ACTION,
                           more="    effective: {from: 2026-01-01}\n"))))
    _, report = validate_json(kb, "--as-of", "2026-06-01")
    assert report["findings"] == []
