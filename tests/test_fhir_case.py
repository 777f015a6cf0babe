"""FHIR R4 Conditions and Observations to case facts through the shipped vocabulary's bindings:
a table of resources and the exact facts, sources and unread notes they give; then properties
over generated resources (never an exception, always a valid case, order does not matter, no
Condition never empties a set)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avn_kb.lang.case_checks import case_problems
from avn_kb.load.fhir_case import CLINICAL, VERIFICATION, FhirCase, Unread, case_from_fhir, next_page, resources_in
from avn_kb.load.fhir_observations import time_interval
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.knowledge import Vocabulary
from tests.conftest import SHIPPED
from tests.icd10cm import lookup

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
PATIENT = {"resourceType": "Patient", "id": "p1"}


def _vocabulary() -> Vocabulary:
    vocabulary = load_knowledge(SHIPPED, "knowledge").kb.vocabulary
    assert vocabulary is not None
    return vocabulary


VOCABULARY = _vocabulary()


def condition(cid: str, code: str, clinical: str | None = "active", verification: str | None = "confirmed",
              subject: str = "Patient/p1") -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Condition", "id": cid, "subject": {"reference": subject},
                                "code": {"coding": [{"system": ICD, "code": code}]}}
    if clinical:
        resource["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": clinical}]}
    if verification:
        resource["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": verification}]}
    return resource


def platelets(oid: str, value: Any, unit: str = "10*3/uL", when: str | None = "2026-11-30T08:00:00Z",
              status: str = "final", loinc: str = "777-3", **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Observation", "id": oid, "status": status,
                                "subject": {"reference": "Patient/p1"},
                                "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
                                "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}
    if when is not None:
        resource["effectiveDateTime"] = when
    resource.update(extra)
    return resource


SITE_UNMAPPED = "its code concerns site but gives none of its values"
CAUSES_UNMAPPED = "its code concerns causes but gives none of its values"

# (name, conditions, observations, facts, sources, unread)
ROWS: list[tuple[str, list[Any], list[Any], dict[str, Any], dict[str, tuple[str, ...]], list[Unread]]] = [
    ("nothing known", [], [], {}, {}, []),
    ("kienbock gives the lunate", [condition("c1", "M93.1")], [], {"site": "lunate"}, {"site": ("Condition/c1",)}, []),
    ("recurrence is active", [condition("c1", "M93.1", clinical="recurrence")], [], {"site": "lunate"},
     {"site": ("Condition/c1",)}, []),
    ("no verification status is accepted", [condition("c1", "M93.1", verification=None)], [], {"site": "lunate"},
     {"site": ("Condition/c1",)}, []),
    # M87.851: other osteonecrosis, right femur (the femoral head or the knee's condyles).
    ("femur does not give a site", [condition("c1", "M87.851")], [], {}, {},
     [Unread("Condition/c1", "site", SITE_UNMAPPED), Unread("Condition/c1", "causes", CAUSES_UNMAPPED)]),
    # M87.052 is idiopathic: it says no cause was found, and names a bone that is not a site.
    ("kienbock beside a femur keeps the site missing", [condition("c1", "M93.1"), condition("c2", "M87.052")], [],
     {"causes": []}, {"causes": ("Condition/c2",)}, [Unread("Condition/c2", "site", SITE_UNMAPPED)]),
    ("resolved is not read", [condition("c1", "M93.1", clinical="resolved")], [], {}, {},
     [Unread("Condition/c1", None, "its clinical status is resolved, not active")]),
    ("no clinical status is not read", [condition("c1", "M93.1", clinical=None)], [], {}, {},
     [Unread("Condition/c1", None, "its clinical status is not given, not active")]),
    ("refuted is not read", [condition("c1", "M93.1", verification="refuted")], [], {}, {},
     [Unread("Condition/c1", None, "its verification status is refuted")]),
    ("provisional is not read", [condition("c1", "M93.1", verification="provisional")], [], {}, {},
     [Unread("Condition/c1", None, "its verification status is provisional")]),
    ("another patient's condition", [condition("c1", "M93.1", subject="Patient/p2")], [], {}, {},
     [Unread("Condition/c1", None, "it is about Patient/p2, not Patient/p1")]),
    # M87.059: idiopathic aseptic necrosis of unspecified femur.
    ("idiopathic says no cause", [condition("c1", "M87.059")], [], {"causes": []}, {"causes": ("Condition/c1",)},
     [Unread("Condition/c1", "site", SITE_UNMAPPED)]),
    ("trauma alone does not give the set", [condition("c1", "M87.251")], [], {}, {},
     [Unread("Condition/c1", "site", SITE_UNMAPPED),
      Unread("Condition/c1", "causes", "shows trauma among causes, but Conditions cannot show that nothing "
                                       "else is: causes stays missing")]),
    ("idiopathic beside long-term steroids", [condition("c1", "M87.059"), condition("c2", "Z79.52")], [], {}, {},
     [Unread("Condition/c1", "site", SITE_UNMAPPED),
      Unread("Condition/c2", "causes", "shows corticosteroid among causes, but Conditions cannot show that "
                                       "nothing else is: causes stays missing"),
      Unread("Condition/c1", "causes", "says no causes were found, but other Conditions show some")]),
    ("idiopathic beside due to drugs", [condition("c1", "M87.059"), condition("c2", "M87.159")], [], {}, {},
     [Unread("Condition/c1", "site", SITE_UNMAPPED), Unread("Condition/c2", "site", SITE_UNMAPPED),
      Unread("Condition/c2", "causes", CAUSES_UNMAPPED),
      Unread("Condition/c1", "causes", "says no causes were found, but other Conditions show some")]),
    ("idiopathic beside a leukaemia", [condition("c1", "M87.059"), condition("c2", "C91.00")], [], {}, {},
     [Unread("Condition/c1", "site", SITE_UNMAPPED), Unread("Condition/c2", "causes", CAUSES_UNMAPPED),
      Unread("Condition/c1", "causes", "says no causes were found, but other Conditions show some")]),
    ("sickle-cell trait is not the disease", [condition("c1", "D57.3")], [], {}, {}, []),
    ("a platelet count in 10*3/uL", [], [platelets("o1", 25)], {"platelet_count": 25},
     {"platelet_count": ("Observation/o1",)}, []),
    ("per microlitre is divided by 1000", [], [platelets("o1", 150000, unit="/uL")], {"platelet_count": 150},
     {"platelet_count": ("Observation/o1",)}, []),
    ("a decimal stays a decimal", [], [platelets("o1", 19.9, unit="10*9/L", loinc="26515-7")],
     {"platelet_count": 19.9}, {"platelet_count": ("Observation/o1",)}, []),
    ("the latest final wins", [], [platelets("o1", 25, when="2026-11-01"), platelets("o2", 80),
                                   platelets("o3", 10, when="2026-12-01T08:00:00Z", status="preliminary")],
     {"platelet_count": 80}, {"platelet_count": ("Observation/o2",)},
     [Unread("Observation/o3", "platelet_count", "its status is preliminary, not final, amended or corrected")]),
    ("an amended result counts", [], [platelets("o1", 25, when="2026-11-01"), platelets("o2", 40, status="amended")],
     {"platelet_count": 40}, {"platelet_count": ("Observation/o2",)}, []),
    ("the same day without times, different values", [],
     [platelets("o1", 25, when="2026-11-30"), platelets("o2", 80, when="2026-11-30T08:00:00+01:00")], {}, {},
     [Unread("Observation/o1, Observation/o2", "platelet_count",
             "the latest results cannot be told apart in time and differ: Observation/o1 (25), Observation/o2 (80)")]),
    ("the same day without times, same value", [],
     [platelets("o1", 80, when="2026-11-30"), platelets("o2", 80, when="2026-11-30T08:00:00+01:00")],
     {"platelet_count": 80}, {"platelet_count": ("Observation/o1", "Observation/o2")}, []),
    ("an unreadable latest keeps it missing", [],
     [platelets("o1", 25, when="2026-11-01"), platelets("o2", 80, unit="K/uL")], {}, {},
     [Unread("Observation/o2", "platelet_count", "the latest result, Observation/o2, cannot be read: its unit "
             "'K/uL' (system 'http://unitsofmeasure.org') is not one platelet_count is read from (UCUM 10*9/L, "
             "10*3/uL, 10*3/mm3, /uL)")]),
    ("no effective time", [], [platelets("o1", 25, when="2026-11-01"), platelets("o2", 80, when=None)], {}, {},
     [Unread("Observation/o2", "platelet_count", "it has no effective time, so the latest platelet_count is not "
             "known")]),
    ("a bound is not a value", [], [platelets("o1", 25, valueQuantity={"value": 20, "comparator": "<",
                                                                       "system": UCUM, "code": "10*3/uL"})], {}, {},
     [Unread("Observation/o1", "platelet_count", "the latest result, Observation/o1, cannot be read: its value "
             "is a bound (<), not a measurement")]),
    ("outside the range", [], [platelets("o1", 3000)], {}, {},
     [Unread("Observation/o1", "platelet_count", "the latest result, Observation/o1, cannot be read: its value "
             "3000 10^9/L is outside platelet_count's range 0-2000")]),
    ("a pain score as an integer", [], [{"resourceType": "Observation", "id": "o1", "status": "final",
                                         "effectiveDateTime": "2026-11-30", "valueInteger": 7,
                                         "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]}}],
     {"pain_score": 7}, {"pain_score": ("Observation/o1",)}, []),
    ("a pain score must be whole", [], [{"resourceType": "Observation", "id": "o1", "status": "final",
                                         "effectiveDateTime": "2026-11-30",
                                         "valueQuantity": {"value": 6.5, "system": UCUM, "code": "{score}"},
                                         "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]}}],
     {}, {}, [Unread("Observation/o1", "pain_score", "the latest result, Observation/o1, cannot be read: its value "
                     "6.5 is not a whole number, which pain_score must be")]),
    ("not resources", ["text", {"resourceType": "Patient"}], [], {}, {},
     [Unread("Condition #0", None, "not a Condition resource"),
      Unread("Condition #1", None, "not a Condition resource")]),
]


@pytest.mark.parametrize("name,conditions,observations,facts,sources,unread", ROWS, ids=[r[0] for r in ROWS])
def test_resources_to_facts(name: str, conditions: list[Any], observations: list[Any], facts: dict[str, Any],
                            sources: dict[str, tuple[str, ...]], unread: list[Unread]) -> None:
    assert case_from_fhir(VOCABULARY, PATIENT, conditions, observations) == FhirCase(facts, tuple(unread), sources)


def test_resources_in_a_bundle() -> None:
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"resource": condition("c1", "M93.1")}, {"fullUrl": "x"}, "junk"]}
    assert resources_in(bundle) == [condition("c1", "M93.1")]
    assert resources_in(None) == []
    assert next_page(bundle) is None
    paged = {**bundle, "link": [{"relation": "self", "url": "https://ehr.example/fhir/Condition?patient=p1"},
                                {"relation": "next", "url": "https://ehr.example/fhir/Condition?page=2"}]}
    assert next_page(paged) == "https://ehr.example/fhir/Condition?page=2"


@pytest.mark.parametrize("text,ok", [("2026", True), ("2026-02", True), ("2026-02-29", False), ("2024-02-29", True),
                                     ("2026-11-30T08:00:00Z", True), ("2026-11-30T08:00:00.123+01:00", True),
                                     ("2026-11-30T08:00", False), ("yesterday", False), (20261130, False)])
def test_time_interval_accepts_fhir_datetimes_only(text: Any, ok: bool) -> None:
    interval = time_interval(text)
    assert (interval is not None) is ok
    if interval is not None:
        assert interval[0] <= interval[1]


CODES = ["M93.1", "M87.051", "M87.059", "M87.251", "M87.159", "Z79.52", "D57.1", "D57.3", "D69.6", "I10", "M87"]
CONDITION = st.builds(condition, st.sampled_from(["c1", "c2", "c3"]), st.sampled_from(CODES),
                      st.sampled_from(["active", "relapse", "resolved", None]),
                      st.sampled_from(["confirmed", "provisional", None]),
                      st.sampled_from(["Patient/p1", "Patient/p2"]))
OBSERVATION = st.builds(platelets, st.sampled_from(["o1", "o2", "o3"]),
                        st.one_of(st.integers(-5, 3000), st.floats(-1, 3000), st.just(float("nan")),
                                  st.text(max_size=2)),
                        st.sampled_from(["10*3/uL", "/uL", "10*9/L", "K/uL"]),
                        st.sampled_from(["2026", "2026-11", "2026-11-30", "2026-11-30T08:00:00Z", None, "bad"]),
                        st.sampled_from(["final", "amended", "preliminary", "cancelled"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(CONDITION, max_size=4), st.lists(OBSERVATION, max_size=4), st.randoms(use_true_random=False))
def test_properties(conditions: list[Any], observations: list[Any], random: Any) -> None:
    read = case_from_fhir(VOCABULARY, PATIENT, conditions, observations)
    assert case_problems(VOCABULARY, read.facts) == []
    assert set(read.sources) == set(read.facts)
    # The order the EHR lists resources in changes nothing.
    shuffled_c, shuffled_o = list(conditions), list(observations)
    random.shuffle(shuffled_c)
    random.shuffle(shuffled_o)
    assert case_from_fhir(VOCABULARY, PATIENT, shuffled_c, shuffled_o).facts == read.facts
    # Absence is not evidence: without Conditions, no Condition fact is given.
    assert set(case_from_fhir(VOCABULARY, PATIENT, [], observations).facts) <= {"platelet_count"}
    # A set is only ever given empty, and only from an idiopathic code of this patient.
    if "causes" in read.facts:
        assert read.facts["causes"] == []
        assert any(c["code"]["coding"][0]["code"].startswith("M87.0") for c in conditions)


def test_every_icd_10_cm_code_these_tests_use_is_real() -> None:
    used = {coding["code"] for _, conditions, _, _, _, _ in ROWS for resource in conditions
            if isinstance(resource, dict) for coding in resource.get("code", {}).get("coding", [])
            if coding.get("system") == ICD}
    used |= set(CODES)
    assert {code for code, found in lookup(used).items() if found["description"] is None} == set()


def test_the_table_resources_are_valid_r4() -> None:
    """The table feeds real resources (the package's R4B models; Condition and Observation are the
    same in R4), so that what is left unread is left for the reason the row names."""
    models = {"Condition": pytest.importorskip("fhir.resources.R4B.condition").Condition,
              "Observation": pytest.importorskip("fhir.resources.R4B.observation").Observation}
    for _, conditions, observations, *_ in ROWS:
        for resource in [*conditions, *observations]:
            if isinstance(resource, dict) and resource.get("resourceType") in models:
                models[resource["resourceType"]].model_validate(resource)
