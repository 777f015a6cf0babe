"""The official YAML test suite (tests/data/yaml-test-suite/) through the loader that reads the
knowledge files (avn_kb.load.safe_yaml.load_yaml): every invalid case refused with a located
finding, every valid case read to the reference value of its JSON, or refused for a reason listed
here. Nothing else: a valid case newly refused, or one listed here that is now read, fails.

The reasons are of two kinds. By policy, the safe subset refuses tags, more or fewer than one
document per file, and keys that are not plain strings. By the parser's limits, libyaml (which
gives the lines and columns) cannot read some valid YAML 1.2, or reads it differently from YAML
1.2 (yaml-rs, cross-checked): those are refused with a finding that says so, never read wrong.
docs/reliability.md ("YAML test suite") states the counts; a test keeps it in step.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from avn_kb.load.safe_yaml import load_yaml
from avn_kb.model.findings import Finding
from benchmarks.yaml_suite import Case, load_suite, same
from tests.conftest import ROOT

CASES = load_suite()
BY_ID = {case.id: case for case in CASES}

# reason -> (code of the first error, words its message holds, the valid cases refused for it)
REFUSED: dict[str, tuple[str, str, frozenset[str]]] = {
    "policy: no tags (nothing is constructed from a tag)": ("AVN104", "is not allowed", frozenset(
        "2XXW 565N 6CK3 7FWL C4HZ CC74 CUP7 J7PZ M5C3 P76L UGM3 Z67P Z9M4".split())),
    "policy: one YAML document per file (these have several, or none)": ("AVN110", "YAML document", frozenset(
        "35KP 5TYM 6WLZ 6XDY 6ZKB 8G76 98YD 9DXL 9KAX 9WXW AVM7 JHB9 KSS4 L383 PUW8 RZT7 U9NS".split())),
    "policy: keys are plain strings (a collection, an alias or null as a key)": ("AVN115", "key", frozenset(
        "26DV 4FJ6 6BFJ 6PBE 9MMW DFF7 E76Z FH7J KK5P LX3P M2N8/00 M2N8/01 M5DY PW8X Q9WF RZP5 SBG9 "
        "V9D5 X38W XW4D".split())),
    # Two empty (null) keys: refused by policy too, but neither libyaml nor yaml-rs reads the text.
    "policy: null keys, which neither parser reads": ("AVN102", "YAML syntax error", frozenset({"2JQS"})),
    "parser: valid YAML 1.2 that libyaml cannot read (flow keys on their own line, `:x` and `?x` "
    "in flow, tabs as separation, directives, `...` and `---` placement, unusual anchors)": (
        "AVN102", "libyaml, the parser that gives the locations, cannot read", frozenset(
            "2LFX 4ABK 4MUZ/00 4MUZ/01 4MUZ/02 58MP 5MUD 5T43 6BCT 6CA3 6LVF 6M2F 7Z25 8XYN 96NN/00 "
            "96NN/01 9SA2 A2M4 BEC7 CFD4 DBG4 DK3J DK95/00 DK95/03 DK95/04 FP8R FRK4 HM87/00 HWV9 "
            "K3WX M7A3 MUS6/05 MUS6/06 NHX8 NJ66 NKF9 Q5MG QT73 R4YG S3PD SM9W/01 UKK6/00 UT92 "
            "VJP3/01 W4TN W5VH Y79Y/001 Y79Y/010".split())),
    "parser: libyaml reads another value than YAML 1.2 (caught by the cross-check)": (
        "AVN102", "read differently", frozenset("2SXE 652Z HM87/01 JEF9/02 L24T/01 Y2GN".split())),
}
REASON = {case_id: reason for reason, (_, _, ids) in REFUSED.items() for case_id in ids}

# Valid cases the suite gives no JSON for, read by the loader: their value from the suite's event
# tree (2G84/03 `=VAL |`, UKK6/02 `=VAL <!> :`: an empty string) or, where the package gives no
# tree, from the YAML 1.2 specification (MUS6/03, MUS6/04: a directive, then an empty document).
WITHOUT_JSON: dict[str, Any] = {"2G84/03": "", "UKK6/02": "", "MUS6/03": None, "MUS6/04": None}


def _errors(case: Case) -> tuple[Any, list[Finding]]:
    doc = load_yaml("suite.yaml", case.yaml.encode("utf-8"))
    errors = [finding for finding in doc.findings if finding.severity == "error"]
    assert errors or doc.ok, (case.id, doc.findings)
    return (doc.value if doc.ok and not errors else None), errors


def _located(finding: Finding, case: Case) -> bool:
    lines = case.yaml.split("\n")
    return finding.path == "suite.yaml" and 1 <= finding.line <= len(lines) and finding.column >= 1


@pytest.mark.parametrize("case", [c for c in CASES if c.fail], ids=lambda c: c.id)
def test_invalid_case_is_refused_at_a_place(case: Case) -> None:
    _, errors = _errors(case)
    assert errors, f"{case.id} ({case.name}) is not valid YAML, yet it was accepted"
    assert _located(errors[0], case), errors[0]


@pytest.mark.parametrize("case", [c for c in CASES if not c.fail], ids=lambda c: c.id)
def test_valid_case_is_read_right_or_refused_for_its_listed_reason(case: Case) -> None:
    value, errors = _errors(case)
    if case.id in REASON:
        code, words, _ = REFUSED[REASON[case.id]]
        assert errors, f"{case.id} is listed as refused ({REASON[case.id]}) but is now read: {value!r}"
        assert (errors[0].code, words in errors[0].message) == (code, True), errors[0]
        assert _located(errors[0], case), errors[0]
        return
    assert not errors, f"{case.id} ({case.name}) is valid YAML and not listed as refused: {errors[0]}"
    expected = WITHOUT_JSON[case.id] if case.documents is None else case.documents
    if case.documents is not None:
        assert len(expected) == 1, f"{case.id}: several documents, yet read as one"
        expected = expected[0]
    assert same(value, expected), (case.id, value, expected)


def test_the_lists_name_valid_cases_once() -> None:
    listed = [case_id for _, _, ids in REFUSED.values() for case_id in ids] + list(WITHOUT_JSON)
    assert len(listed) == len(set(listed))
    assert all(case_id in BY_ID and not BY_ID[case_id].fail for case_id in listed)
    assert all(BY_ID[case_id].documents is None for case_id in WITHOUT_JSON)


def suite_counts() -> dict[str, int]:
    """The counts docs/reliability.md states, from the lists above and the suite."""
    valid = [case for case in CASES if not case.fail]
    policy = sum(len(ids) for reason, (_, _, ids) in REFUSED.items() if reason.startswith("policy"))
    return {"cases": len(CASES), "invalid, refused": len(CASES) - len(valid), "invalid, accepted": 0,
            "valid, read to the reference value": len(valid) - len(REASON),
            "valid, read to another value": 0, "valid, refused by policy": policy,
            "valid, refused because libyaml cannot read them or reads them differently":
                len(REASON) - policy}


def test_reliability_doc_states_the_counts() -> None:
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    section = text.split("## YAML test suite", 1)[1].split("\n## ", 1)[0]
    stated = dict(re.findall(r"^\| (.+?) \| (\d+) \|$", section, re.MULTILINE))
    assert {name: int(number) for name, number in stated.items()} == suite_counts()


@pytest.mark.parametrize(("yaml_text", "expected"), [
    ('key: "value"# invalid comment\n',  # SU5Z: libyaml accepts it
     ("AVN102", 1, 13, "YAML syntax error: comments must be separated from other tokens by whitespace "
      "(not valid YAML 1.2, though some YAML 1.1 tools accept it); fix the syntax here")),
    ("---\nkey: &an:chor value\n",  # Y2GN: libyaml reads the anchor `an`, then the value `:chor value`
     ("AVN102", 2, 6, "YAML read differently: libyaml (which gives the locations) reads ':chor value' here, "
      "yaml-rs (YAML 1.2) reads 'value' (an anchor or alias name holds ':', e.g. '&a:'; YAML 1.2 allows it, "
      "libyaml does not: rename it); write it in a plainer form (quote the value, or use block style) so "
      "that both parsers read it alike")),
    ("a: ok\nb: [?x]\n",  # HM87/01 in a mapping: located at the list item
     ("AVN102", 2, 5, "YAML read differently: libyaml (which gives the locations) reads {'x': None} here, "
      "yaml-rs (YAML 1.2) reads '?x'; write it in a plainer form (quote the value, or use block style) so "
      "that both parsers read it alike")),
    ("&a: key: &a value\nfoo:\n  *a:\n",  # 2SXE: there is no non-string key to blame
     ("AVN102", 1, 1, "YAML read differently by libyaml (which sees a key that is not a string here) and by "
      "YAML 1.2 (which does not) (an anchor or alias name holds ':', e.g. '&a:'; YAML 1.2 allows it, libyaml "
      "does not: rename it); write it in a plainer form (quote the value, or use block style) so that both "
      "parsers read it alike")),
    ("{x: :x}\n",  # 58MP
     ("AVN102", 1, 5, "valid YAML 1.2 that libyaml, the parser that gives the locations, cannot read (did not "
      "find expected node content while parsing a flow node); write it in a plainer form (quote the value, "
      "or use block style) so that both parsers read it alike")),
    ("\t[\n\t]\n",  # 6CA3
     ("AVN102", 1, 1, "tab character at the start of a line, which YAML 1.2 allows here but libyaml, the "
      "parser that gives the locations, cannot read: replace the tab with spaces")),
    ("~: x\n",  # a null key that is there: still the policy's finding
     ("AVN115", 1, 1, "key None is not a string; quote it")),
])
def test_refusal_says_what_and_where(yaml_text: str, expected: tuple[str, int, int, str]) -> None:
    doc = load_yaml("kb.yaml", yaml_text.encode("utf-8"))
    code, line, column, message = expected
    assert (doc.ok, doc.value) == (False, None)
    assert doc.findings == [Finding(code, "error", "kb.yaml", line, column, message)]


@pytest.mark.parametrize(("yaml_text", "value"), [
    ("a: 1_000\nb: 0b11\nc: 0x_1\n", {"a": "1_000", "b": "0b11", "c": "0x_1"}),  # YAML 1.2 core: strings
    ("a: |\n\nb: >\n", {"a": "", "b": ""}),  # empty block scalars (yaml-rs: a lone line break)
    ("a: |+\n\n", {"a": "\n"}),
])
def test_deliberate_differences_from_yaml_rs_are_not_refused(yaml_text: str, value: Any) -> None:
    doc = load_yaml("kb.yaml", yaml_text.encode("utf-8"), fast=False)
    assert (doc.ok, doc.findings) == (True, [])
    assert same(doc.value, value)


@pytest.mark.parametrize(("yaml_text", "expected"), [
    # libyaml stops at line 1; yaml-rs would read on into 30,000 levels of nesting and crash the
    # process (a segmentation fault, measured): it is not given the text, and the finding is libyaml's.
    ("- {x: :x}\n- " + "- " * 30_000 + "x\n",
     ("AVN102", 1, 7, "YAML syntax error: did not find expected node content while parsing a flow node; "
      "fix the syntax here")),
    ("~: x\nb:\n- " + "- " * 30_000 + "x\n", ("AVN115", 1, 1, "key None is not a string; quote it")),
])
def test_second_reading_is_never_given_what_could_crash_it(yaml_text: str,
                                                          expected: tuple[str, int, int, str]) -> None:
    doc = load_yaml("kb.yaml", yaml_text.encode("utf-8"))
    code, line, column, message = expected
    assert doc.findings == [Finding(code, "error", "kb.yaml", line, column, message)]
