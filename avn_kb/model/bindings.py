"""Terminology bindings: the codes of other systems (ICD-10-CM, LOINC, SNOMED CT) that say a fact
has a value, and the UCUM units a number fact is read from. Declared in the vocabulary, checked by
AVN128, used to read case facts from FHIR resources (avn_kb/load/fhir_case.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ICD_10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
SNOMED_CT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
CODE_SYSTEMS = {ICD_10_CM: "ICD-10-CM", LOINC: "LOINC", SNOMED_CT: "SNOMED CT"}  # URI -> name; UCUM: units only


@dataclass(frozen=True)
class Coding:
    """A code of another system that stands for a fact's value (or, for a number fact, for the
    observation it is read from). `prefix`: it also stands for every code that begins with it (an
    ICD-10-CM category and its subcodes), only when the vocabulary says so."""

    system: str
    code: str
    display: str | None = None
    prefix: bool = False
    pointer: tuple[Any, ...] = ()  # where it is declared in the vocabulary file

    def matches(self, system: str | None, code: str | None) -> bool:
        if system != self.system or not code:
            return False
        return code.startswith(self.code) if self.prefix else code == self.code


@dataclass(frozen=True)
class UnitConversion:
    """A UCUM unit a number fact is read from: the value in the fact's own unit is the value in
    this unit times `factor` (only exact factors are declared: 10*3/uL is 10^9/L, factor 1)."""

    code: str
    factor: Decimal
    pointer: tuple[Any, ...] = ()

    def convert(self, value: Decimal) -> Decimal:
        return value * self.factor
