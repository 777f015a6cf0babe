"""Terminology bindings are well formed (AVN128): every code a vocabulary fact declares (`codes`,
`none_codes`, `unmapped_codes`) names a known system and has that system's form, and every unit
(`units`) is a UCUM code. Forms: ICD-10-CM a letter, a digit, a digit or letter, then optionally a
dot and one to four digits or letters (M87.051, T38.0X5); LOINC digits, a hyphen and the mod-10
check digit LOINC computes (777-3); SNOMED CT 6 to 18 digits ending in a Verhoeff check digit
(22298006). Known systems: http://hl7.org/fhir/sid/icd-10-cm, http://loinc.org,
http://snomed.info/sct; http://unitsofmeasure.org is the system of `units`, not of a code.
Codes given for a value the fact does not have are AVN122, at the value.

Passing:  codes: [{system: "http://loinc.org", code: 777-3, display: ...}]
Failing:  codes: [{system: "http://loinc.org", code: 777-4, ...}] (check digit, AVN128);
          {system: "http://hl7.org/fhir/sid/icd-10", code: M87.05, ...} (unknown system, AVN128);
          {system: "http://hl7.org/fhir/sid/icd-10-cm", code: M8705, ...} (no dot, AVN128).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from avn_kb.model.bindings import CODE_SYSTEMS, ICD_10_CM, LOINC, SNOMED_CT, UCUM, Coding
from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Fact
from avn_kb.validate.checks.context import CheckContext

_ICD_10_CM = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_LOINC = re.compile(r"^([0-9]{1,7})-([0-9])$")
_SNOMED_CT = re.compile(r"^[1-9][0-9]{5,17}$")
_UCUM = re.compile(r"^[!-~]+$")  # printable ASCII without spaces (UCUM's case-sensitive codes)


def loinc_check_digit(digits: str) -> int:
    """LOINC's mod-10 check digit: from the right, every other digit (the first, third...) doubled,
    the digits of the products and of the others summed, the check digit what brings the sum to
    the next multiple of ten."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10


# Verhoeff's tables: the multiplication of the dihedral group D5 and the position permutation.
_VERHOEFF_D = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
               (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
               (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
               (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
_VERHOEFF_P = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
               (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
               (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))


def verhoeff_valid(number: str) -> bool:
    """Whether the last digit of `number` is its Verhoeff check digit (as SNOMED CT identifiers end)."""
    check = 0
    for position, char in enumerate(reversed(number)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(char)]]
    return check == 0


def _loinc_problem(code: str) -> str | None:
    match = _LOINC.match(code)
    if match is None:
        return "a LOINC code is digits, a hyphen and a check digit (777-3)"
    expected = loinc_check_digit(match.group(1))
    if int(match.group(2)) != expected:
        return f"its check digit should be {expected} ({match.group(1)}-{expected}): a digit is wrong"
    return None


def _icd_problem(code: str) -> str | None:
    if _ICD_10_CM.match(code):
        return None
    return ("an ICD-10-CM code is a letter, a digit, a digit or letter, then a dot and up to four more "
            "(M87.051), in capitals")


def _snomed_problem(code: str) -> str | None:
    if not _SNOMED_CT.match(code):
        return "a SNOMED CT identifier is 6 to 18 digits, not starting with 0"
    return None if verhoeff_valid(code) else "its last digit is not the Verhoeff check digit: a digit is wrong"


_FORM: dict[str, Callable[[str], str | None]] = {ICD_10_CM: _icd_problem, LOINC: _loinc_problem,
                                                 SNOMED_CT: _snomed_problem}


def check_terminology(ctx: CheckContext) -> Iterator[Finding]:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    for fact in vocabulary.facts.values():
        for bound in fact.value_codes:
            if bound not in fact.values:
                yield issue("AVN122", fact.where.path, fact.where.pointer + ("codes", bound),
                            f"{fact.name}: codes are given for {bound!r}, which is not one of its values "
                            f"({', '.join(fact.values)})", ids=(fact.name,), at_key=True)
        for value, coding in fact.every_coding():
            yield from _coding_findings(fact, value, coding)
        for unit in fact.units:
            if not _UCUM.match(unit.code):
                yield issue("AVN128", fact.where.path, unit.pointer + ("code",),
                            f"{fact.name}: unit {unit.code!r} is not a UCUM code (printable characters, no "
                            "spaces, e.g. 10*3/uL)", ids=(fact.name,))


def _coding_findings(fact: Fact, value: str | None, coding: Coding) -> Iterator[Finding]:
    owner = f"{fact.name} {value}" if value else fact.name
    if coding.system == UCUM:
        yield issue("AVN128", fact.where.path, coding.pointer + ("system",),
                    f"{owner}: {UCUM} is the system of units: declare the unit under units", ids=(fact.name,))
        return
    form = _FORM.get(coding.system)
    if form is None:
        yield issue("AVN128", fact.where.path, coding.pointer + ("system",),
                    f"{owner}: unknown code system {coding.system!r}: use one of {', '.join(CODE_SYSTEMS)}",
                    ids=(fact.name,))
        return
    problem = form(coding.code)
    if problem is not None:
        yield issue("AVN128", fact.where.path, coding.pointer + ("code",),
                    f"{owner}: {CODE_SYSTEMS[coding.system]} code {coding.code!r} is malformed: {problem}",
                    ids=(fact.name,))
