"""AVN128: terminology codes in the vocabulary are of a known system and well formed for it
(ICD-10-CM pattern, LOINC mod-10 check digit, SNOMED CT Verhoeff check digit, UCUM units); and
every code the shipped vocabulary declares is a real one (ICD-10-CM against the code list that
`simple-icd-10-cm` bundles; LOINC by check digit here, by record in docs/interop.md)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.bindings import ICD_10_CM, LOINC
from avn_kb.validate.checks.terminology import loinc_check_digit, verhoeff_valid
from tests.conftest import MINI, SHIPPED, validate_json
from tests.icd10cm import lookup

VOCAB = "vocabulary.yaml"
ANCHOR = "    values: [thrombocytopenia, osteoporosis]\n"
PAIN = "    integer: true\n"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def _planted(tmp_path: Path, comorbidity_codes: str = "", pain_codes: str = "") -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    path = kb / VOCAB
    text = path.read_text()
    text = text.replace(ANCHOR, ANCHOR + comorbidity_codes, 1).replace(PAIN, PAIN + pain_codes, 1)
    path.write_text(text)
    return kb


def _line_col(kb: Path, needle: str) -> tuple[int, int]:
    for number, line in enumerate((kb / VOCAB).read_text().splitlines(), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


GOOD_SET = ("    codes:\n      thrombocytopenia:\n"
            f'        - {{system: "{ICD}", code: D69.6, display: "Thrombocytopenia, unspecified"}}\n')
GOOD_NUMBER = ('    codes:\n      - {system: "http://loinc.org", code: 72514-3, display: Pain}\n'
               '    units:\n      - {code: "1", factor: 1}\n')

# (name, comorbidity yaml, pain yaml, text located at, message)
BAD: list[tuple[str, str, str, str, str]] = [
    ("loinc check digit", "", GOOD_NUMBER.replace("72514-3", "72514-4"), "72514-4",
     "pain_score: LOINC code '72514-4' is malformed: its check digit should be 3 (72514-3): a digit is wrong"),
    ("loinc form", "", GOOD_NUMBER.replace("72514-3", "LP72514"), "LP72514",
     "pain_score: LOINC code 'LP72514' is malformed: a LOINC code is digits, a hyphen and a check digit (777-3)"),
    ("icd without dot", GOOD_SET.replace("D69.6", "D696"), "", "D696",
     "comorbidities thrombocytopenia: ICD-10-CM code 'D696' is malformed: an ICD-10-CM code is a letter, a digit, "
     "a digit or letter, then a dot and up to four more (M87.051), in capitals"),
    ("icd lower case", GOOD_SET.replace("D69.6", "d69.6"), "", "d69.6",
     "comorbidities thrombocytopenia: ICD-10-CM code 'd69.6' is malformed: an ICD-10-CM code is a letter, a "
     "digit, a digit or letter, then a dot and up to four more (M87.051), in capitals"),
    ("snomed verhoeff", GOOD_SET.replace(ICD, "http://snomed.info/sct").replace("D69.6", '"302215001"'), "",
     "302215001", "comorbidities thrombocytopenia: SNOMED CT code '302215001' is malformed: its last digit is "
     "not the Verhoeff check digit: a digit is wrong"),
    ("snomed form", GOOD_SET.replace(ICD, "http://snomed.info/sct").replace("D69.6", '"0123"'), "", "0123",
     "comorbidities thrombocytopenia: SNOMED CT code '0123' is malformed: a SNOMED CT identifier is 6 to 18 "
     "digits, not starting with 0"),
    ("unknown system", GOOD_SET.replace(ICD, "http://hl7.org/fhir/sid/icd-10"), "", "http://hl7.org/fhir/sid/icd-10\"",
     "comorbidities thrombocytopenia: unknown code system 'http://hl7.org/fhir/sid/icd-10': use one of "
     "http://hl7.org/fhir/sid/icd-10-cm, http://loinc.org, http://snomed.info/sct"),
    ("ucum as a code system", "", GOOD_NUMBER.replace("http://loinc.org", "http://unitsofmeasure.org"),
     "http://unitsofmeasure.org", "pain_score: http://unitsofmeasure.org is the system of units: declare the unit "
     "under units"),
    ("unit with a space", "", GOOD_NUMBER.replace('code: "1"', 'code: "10 3/uL"'), "10 3/uL",
     "pain_score: unit '10 3/uL' is not a UCUM code (printable characters, no spaces, e.g. 10*3/uL)"),
]


@pytest.mark.parametrize("name,comorbidity,pain,needle,message", BAD, ids=[row[0] for row in BAD])
def test_malformed_code_is_avn128_at_the_code(tmp_path: Path, name: str, comorbidity: str, pain: str, needle: str,
                                              message: str) -> None:
    kb = _planted(tmp_path, comorbidity, pain)
    code, report = validate_json(kb)
    line, column = _line_col(kb, needle)
    # A quoted scalar starts at its quote.
    if (kb / VOCAB).read_text().splitlines()[line - 1][column - 2] == '"':
        column -= 1
    assert code == 1
    assert report["findings"] == [{"code": "AVN128", "severity": "error", "path": str(kb / VOCAB), "line": line,
                                   "column": column, "message": message, "ids": [message.split(" ")[0].rstrip(":")]}]


def test_codes_for_an_undeclared_value_are_avn122_at_the_value(tmp_path: Path) -> None:
    kb = _planted(tmp_path, GOOD_SET.replace("      thrombocytopenia:", "      anaemia:"))
    code, report = validate_json(kb)
    line, column = _line_col(kb, "anaemia:")
    assert (code, report["findings"]) == (1, [{
        "code": "AVN122", "severity": "error", "path": str(kb / VOCAB), "line": line, "column": column,
        "message": "comorbidities: codes are given for 'anaemia', which is not one of its values "
                   "(thrombocytopenia, osteoporosis)", "ids": ["comorbidities"]}])


@pytest.mark.parametrize("comorbidity,pain", [(GOOD_SET, ""), ("", GOOD_NUMBER), (GOOD_SET, GOOD_NUMBER)],
                         ids=["set", "number", "both"])
def test_well_formed_codes_validate_clean(tmp_path: Path, comorbidity: str, pain: str) -> None:
    code, report = validate_json(_planted(tmp_path, comorbidity, pain))
    assert (code, report["findings"]) == (0, [])


@pytest.mark.parametrize("digits,check", [("777", 3), ("26515", 7), ("72514", 3), ("12345", 5), ("0", 0)])
def test_loinc_check_digit(digits: str, check: int) -> None:
    assert loinc_check_digit(digits) == check


@pytest.mark.parametrize("number,valid", [("22298006", True), ("73211009", True), ("404684003", True),
                                          ("22298007", False), ("73211090", False), ("2363", True)])
def test_verhoeff(number: str, valid: bool) -> None:
    assert verhoeff_valid(number) is valid


def _shipped_codings() -> list[tuple[str, Any]]:
    vocabulary = load_knowledge(SHIPPED, "knowledge").kb.vocabulary
    assert vocabulary is not None
    return [(f"{fact.name}:{coding.code}", coding) for fact in vocabulary.facts.values()
            for _, coding in fact.every_coding()]


def test_every_shipped_icd_10_cm_code_is_in_the_real_code_list() -> None:
    codings = [(name, c) for name, c in _shipped_codings() if c.system == ICD_10_CM]
    assert len(codings) >= 10
    found = lookup({c.code for _, c in codings} | {"M87.99"})
    assert found["M87.99"]["description"] is None  # the list can say no: M87.9 has no subcodes
    wrong = [(name, c.display, found[c.code]["description"]) for name, c in codings
             if found[c.code]["description"] != c.display]
    assert wrong == []


def test_every_shipped_prefix_is_a_code_whose_subcodes_begin_with_it() -> None:
    # A prefix stands for the code and the codes below it in the list: each of those must begin
    # with it, so that matching by prefix finds exactly them.
    prefixes = [c for _, c in _shipped_codings() if c.prefix]
    found = lookup({c.code for c in prefixes})
    for coding in prefixes:
        below = found[coding.code]["descendants"]
        assert found[coding.code]["description"] is not None, coding.code
        assert isinstance(below, list) and all(code.startswith(coding.code) for code in below), coding.code


def test_every_shipped_loinc_code_has_its_check_digit_and_is_listed_in_interop_docs() -> None:
    docs = (SHIPPED.parent / "docs" / "interop.md").read_text()
    codings = [c for _, c in _shipped_codings() if c.system == LOINC]
    assert codings
    for coding in codings:
        digits, check = coding.code.split("-")
        assert loinc_check_digit(digits) == int(check)
        assert f"`{coding.code}`" in docs, f"{coding.code} is not listed with where it was confirmed"
