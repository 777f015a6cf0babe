"""Fixtures for the loading, syntax and schema codes and the terms (AVN101-AVN128): each positive
row breaks one thing in a copy of the mini knowledge base, and its negative is the smallest change
of that input that is fine (quoted, declared, inside the limit, inside the directory)."""

from __future__ import annotations

from tests.fixtures_per_code.rows import KB_MARK, ROOT_MARK, AtStart, Fixture, Link, Remove, Write, borrowed
from tests.test_checks_semantic import KB, OF, REFS, RT, VOCAB, Edit, Expect, append, replace
from tests.test_defined_for import ROWS as DEFINED_FOR_ROWS

CASES = "cases/basic.yaml"
TITLE = "    title: Resistive training dose\n"
PLAIN = "    plain_language: Lift light weights 10 to 15 times in a row, one to three rounds.\n"
NOT_ACUTE = "not: {phase: acute}"
CASE_003 = ("cases:\n  - id: CASE-003\n    title: Knee\n    facts: {site: knee, phase: chronic}\n"
            "    expect:\n      apply: [RT-001]\n")
DESIGN = "    design: systematic-review\n"
THIRD_CASE = CASE_003.removeprefix("cases:\n")
PAIN_FACT = "    integer: true\n"  # the pain score, the mini vocabulary's one number fact
PAIN_CODE = '    codes:\n      - {{system: "http://loinc.org", code: {}, display: Pain}}\n'
FACTS_1 = "phase: chronic}\n    expect:\n      apply: [OF-001, RT-001]"


def title(text: str) -> tuple[Edit, ...]:
    """RT-001's title line written as `text` (YAML, as it would stand in the file)."""
    return (replace(RT, TITLE, f"    title: {text}\n"),)


def nested_not(depth: int) -> tuple[Edit, ...]:
    """RT-001 excludes the acute phase through `depth` more (pairs of) `not`, meaning the same."""
    return (replace(RT, NOT_ACUTE, "not: " + "{not: " * depth + "{phase: acute}" + "}" * depth),)


def case_1_facts(facts: str) -> tuple[Edit, ...]:
    """CASE-001's facts ending with `facts` instead of `phase: chronic`."""
    return (replace(CASES, FACTS_1, FACTS_1.replace("phase: chronic}", facts + "}")),)


def rt_says(code: str, severity: str, needle: str, token: str, message: str, ids: tuple[str, ...] = ()) -> Expect:
    """A finding in resistive-training.yaml."""
    return Expect(code, severity, RT, needle, token, message, ids)


ROWS: list[Fixture] = [
    Fixture("AVN101", "link-leaving-the-directory", (Write("../outside.yaml", CASE_003),
                                                    Link("cases/linked.yaml", "../../outside.yaml")),
            (AtStart("AVN101", "error", "cases/linked.yaml", f"is a link to {ROOT_MARK}/outside.yaml, outside the "
                     "knowledge directory: copy the file in instead of linking it"),)),
    Fixture("AVN101", "link-inside-the-directory", (Write("elsewhere/knee.yaml", CASE_003),
                                                   Link("cases/linked.yaml", "../elsewhere/knee.yaml")), ()),
    Fixture("AVN102", "unclosed-flow-sequence", title("[Resistive training dose"),
            (rt_says("AVN102", "error", "statement: Light", ": Light",
                     "YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence opened at "
                     "line 7, column 12; close it with ']' or fix the syntax here"),)),
    Fixture("AVN102", "bracket-quoted", title('"[Resistive training dose"'), ()),
    Fixture("AVN103", "nul-byte", (replace(RT, "Lift light", "Lift\x00light"),),
            (rt_says("AVN103", "error", "plain_language: Lift", "\x00",
                     "NUL byte in the file; it looks binary: restore the YAML text"),)),
    Fixture("AVN103", "tab-instead", (replace(RT, "Lift light", "Lift\tlight"),), ()),
    Fixture("AVN104", "python-tag", title("!!python/name:os.system"),
            (rt_says("AVN104", "error", "title: !!python", "!!python",
                     "tag !!python/name:os.system is not allowed and was not applied (nothing is constructed from "
                     "tags): remove it and write plain YAML"),)),
    Fixture("AVN104", "python-tag-quoted", title("'!!python/name:os.system'"), ()),
    Fixture("AVN105", "case-fact-given-twice", case_1_facts("phase: chronic, phase: acute"),
            (Expect("AVN105", "error", CASES, "phase: acute", "phase: acute",
                    "duplicate key 'phase' (it already appears above in this mapping): keep one of them; the first "
                    "one is used"),)),
    Fixture("AVN105", "case-facts-distinct", case_1_facts("phase: chronic, pain_score: 3"), ()),
    Fixture("AVN106", "alias-without-anchor", (replace(RT, PLAIN, "    plain_language: *words\n"),),
            (rt_says("AVN106", "error", "plain_language: *words", "*words",
                     "alias *words has no anchor &words before it"),)),
    Fixture("AVN106", "alias-after-its-anchor", (replace(RT, "    statement: Light", "    statement: &words Light"),
                                                 replace(RT, PLAIN, "    plain_language: *words\n")), ()),
    Fixture("AVN107", "sixty-nots-deep", nested_not(60),
            (rt_says("AVN107", "error", "not: {not:", "{phase: acute}",
                     "nesting deeper than 64 levels: flatten the structure"),)),
    Fixture("AVN107", "fifty-eight-nots-deep", nested_not(58), ()),
    Fixture("AVN108", "plain-no", (replace(CASES, "title: Stage unknown", "title: no"),),
            (Expect("AVN108", "warning", CASES, "title: no", "no",
                    "plain 'no' is read here as the string 'no', but YAML 1.1 tools read it as a boolean: quote it "
                    "(or write true/false)"),)),
    Fixture("AVN108", "quoted-no", (replace(CASES, "title: Stage unknown", "title: 'no'"),), ()),
    Fixture("AVN109", "infinite-bound", (replace(RT, "sets: [1, 3]", "sets: [1, .inf]"),),
            (rt_says("AVN109", "error", "sets: [1, .inf]", ".inf",
                     ".inf is not a finite number: give a finite number"),)),
    Fixture("AVN109", "finite-bound", (replace(RT, "sets: [1, 3]", "sets: [1, 10]"),), ()),
    Fixture("AVN110", "only-a-comment", (Write(CASES, "# no cases yet\n"),),
            (AtStart("AVN110", "error", CASES, "file holds no YAML document (empty, or only comments): add the "
                     "content or delete the file"),)),
    Fixture("AVN110", "a-comment-and-a-case", (Write(CASES, "# no cases yet\n" + CASE_003),), ()),
    Fixture("AVN111", "version-a-number", (replace(RT, '    version: "1.0.0"\n', "    version: 1.0\n"),),
            (rt_says("AVN111", "error", "version: 1.0", "1.0",
                     'recommendations[0].version: 1.0 is a number, expected a string; quote it ("1.0")'),)),
    # A YAML 1.1 word kept as a string is warned about, and still refused where the schema wants
    # another value (this was reported as the warning alone, exit 0, with the reference not built).
    Fixture("AVN111", "plain-yes-for-a-status", (replace(REFS, DESIGN, DESIGN + "    status: yes\n"),),
            (Expect("AVN108", "warning", REFS, "status: yes", "yes", "plain 'yes' is read here as the string 'yes', "
                    "but YAML 1.1 tools read it as a boolean: quote it (or write true/false)"),
             Expect("AVN111", "error", REFS, "status: yes", "yes",
                    "references[0].status: 'yes' is not one of: active, retired"))),
    Fixture("AVN111", "version-plain-but-a-string", (replace(RT, '    version: "1.0.0"\n', "    version: 1.0.0\n"),),
            ()),
    Fixture("AVN112", "conflict-marker", (replace(RT, TITLE, "<<<<<<< HEAD\n" + TITLE),),
            (rt_says("AVN112", "error", "<<<<<<< HEAD", "<",
                     "merge-conflict marker: resolve the conflict and remove the marker lines"),)),
    Fixture("AVN112", "marker-in-a-comment", (replace(RT, TITLE, "    # <<<<<<< HEAD\n" + TITLE),), ()),
    # Without the bibliography every citation is unknown too.
    # The bibliography is absent, not empty: its ids are unknown, so no citation is called missing.
    Fixture("AVN113", "references-missing", (Remove(REFS),),
            (AtStart("AVN113", "error", REFS, "required file references.yaml is missing: create it (see "
                     "docs/format.md)"),)),
    Fixture("AVN113", "optional-cases-missing", (Remove(CASES),), ()),
    Fixture("AVN114", "byte-order-mark", (replace(RT, "# yaml-language", "\ufeff# yaml-language"),),
            (rt_says("AVN114", "warning", "# yaml-language", "\ufeff",
                     "file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"),)),
    Fixture("AVN114", "same-character-later", (replace(RT, "# yaml-language", "# \ufeffyaml-language"),), ()),
    Fixture("AVN115", "number-as-key", (replace(VOCAB, "topics:\n", "topics:\n  1: {label: One}\n"),),
            (Expect("AVN115", "error", VOCAB, "1: {label: One}", "1", "key 1 is not a string; quote it"),)),
    Fixture("AVN115", "quoted-number-as-key", (replace(VOCAB, "topics:\n", "topics:\n  '1': {label: One}\n"),), ()),
    Fixture("AVN116", "unknown-code-overridden", (append(KB, "severity:\n  AVN999: ignore\n"),),
            (Expect("AVN116", "error", KB, "AVN999: ignore", "AVN999",
                    "severity override for unknown code AVN999: remove it or use a code from docs/checks.md"),)),
    Fixture("AVN116", "known-code-overridden", (append(KB, "severity:\n  AVN202: ignore\n"),), ()),
    Fixture("AVN120", "case-id-twice", (append(CASES, THIRD_CASE.replace("CASE-003", "CASE-001")),),
            (Expect("AVN120", "error", CASES, "- id: CASE-001", "CASE-001", f"case id 'CASE-001' is already defined in "
                    f"{KB_MARK}/{CASES}: give this one a new id", ("CASE-001",), occurrence=1),)),
    Fixture("AVN120", "case-ids-distinct", (append(CASES, THIRD_CASE),), ()),
    Fixture("AVN121", "fact-misspelt", (replace(RT, "      region: lower-limb\n", "      regoin: lower-limb\n"),),
            (rt_says("AVN121", "error", "regoin: lower-limb", "lower-limb",
                     "RT-001: unknown fact 'regoin': declare it in vocabulary.yaml or use one of arco_stage, collapse, "
                     "comorbidities, one_rep_max_kg, pain_score, phase, region, site", ("RT-001",)),)),
    Fixture("AVN121", "fact-declared-so", (replace(RT, "      region: lower-limb\n", "      regoin: lower-limb\n"),
                                           replace(VOCAB, "  region:\n", "  regoin:\n")), ()),
    Fixture("AVN122", "phase-undeclared", (replace(RT, NOT_ACUTE, "not: {phase: subacute}"),),
            (rt_says("AVN122", "error", "not: {phase: subacute}", "subacute",
                     "RT-001: 'subacute' is not a value of phase (acute, chronic)", ("RT-001",)),)),
    Fixture("AVN122", "phase-declared", (replace(RT, NOT_ACUTE, "not: {phase: subacute}"),
                                         replace(VOCAB, "[acute, chronic]", "[acute, subacute, chronic]")),
            ()),
    Fixture("AVN123", "exercise-undeclared", (replace(RT, "exercises: [leg-press]", "exercises: [squat]"),),
            (rt_says("AVN123", "error", "exercises: [squat]", "squat",
                     "RT-001: 'squat' is not an exercise of resistive-training (leg-press, bench-press)",
                     ("RT-001",)),)),
    Fixture("AVN123", "exercise-declared", (replace(RT, "exercises: [leg-press]", "exercises: [bench-press]"),), ()),
    Fixture("AVN124", "range-reversed", (replace(RT, "sets: [1, 3]", "sets: [3, 1]"),),
            (rt_says("AVN124", "error", "sets: [3, 1]", "[3, 1]",
                     "RT-001: sets range [3, 1] has its minimum above its maximum: swap them", ("RT-001",)),)),
    Fixture("AVN124", "range-one-point", (replace(RT, "sets: [1, 3]", "sets: [3, 3]"),), ()),
    Fixture("AVN125", "has-on-an-enum", (replace(OF, "site: femoral-head,", "site: {has: femoral-head},"),),
            (Expect("AVN125", "error", OF, "site: {has: femoral-head}", "femoral-head",
                    "OF-001: site is a enum fact; test it with is / in or not_in", ("OF-001",)),)),
    Fixture("AVN125", "in-on-an-enum", (replace(OF, "site: femoral-head,", "site: {in: [femoral-head]},"),), ()),
    borrowed(DEFINED_FOR_ROWS, "AVN126", "stage-at-another-site"),
    borrowed(DEFINED_FOR_ROWS, "AVN126", "stage-at-its-site"),
    Fixture("AVN127", "expects-a-recommendation-not-written", (replace(CASES, "undecided: [OF-001]",
                                                                       "undecided: [OF-002]"),),
            (Expect("AVN127", "error", CASES, "undecided: [OF-002]", "OF-002",
                    "case CASE-002 expects OF-002 (undecided), which does not exist", ("CASE-002", "OF-002")),)),
    Fixture("AVN127", "expects-one-written", (replace(CASES, "undecided: [OF-001]", "not_apply: [OF-001]"),), ()),
    Fixture("AVN128", "loinc-check-digit-wrong", (replace(VOCAB, PAIN_FACT, PAIN_FACT + PAIN_CODE.format("72514-4")),),
            (Expect("AVN128", "error", VOCAB, "72514-4", "72514-4", "pain_score: LOINC code '72514-4' is malformed: "
                    "its check digit should be 3 (72514-3): a digit is wrong", ("pain_score",)),)),
    Fixture("AVN128", "loinc-check-digit-right", (replace(VOCAB, PAIN_FACT, PAIN_FACT + PAIN_CODE.format("72514-3")),),
            ()),
]
