"""CDS Hooks cards from resolved answers (shipped and small knowledge bases), every response
checked against schema/cds-hooks-response.schema.json; the discovery entry and its prefetch
templates against schema/cds-hooks-discovery.schema.json; requests against the request schema."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import replace
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from avn_kb.load.fhir_case import Unread, case_from_fhir
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.answers.data import as_data
from avn_kb.output.cards import cards, discovery, missing_prefetch, prefetch_templates, prefetched
from avn_kb.output.site import render
from avn_kb.output.text import markdown_escape as escape
from avn_kb.resolve.resolver import resolve
from tests.conftest import MINI, ROOT, SHIPPED

DAY = dt.date(2026, 12, 2)
ARTICLE = "https://avn-kb.example/guidance/index.html"


def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((ROOT / "schema" / name).read_text()))


RESPONSE, DISCOVERY, REQUEST = (_validator(f"cds-hooks-{kind}.schema.json") for kind in ("response", "discovery",
                                                                                         "request"))
SHIPPED_KB = load_knowledge(SHIPPED, "knowledge").kb
MINI_KB = load_knowledge(MINI, "mini").kb


def _response(kb: KnowledgeBase, case: dict[str, Any], unread: tuple[Unread, ...] = ()) -> tuple[dict[str, Any],
                                                                                                 dict[str, Any]]:
    data = as_data(kb, resolve(kb, case, as_of=DAY))
    assert kb.vocabulary is not None
    response = cards(kb.vocabulary, data, ARTICLE, unread)
    errors = [e.message for e in RESPONSE.iter_errors(response)]
    assert errors == []
    return data, response


CASES = [
    {"site": "femoral-head", "arco_stage": "II", "phase": "chronic", "estimated_one_rep_max_kg": 60, "causes": [],
     "red_flags": [], "hematologic_malignancy": False, "comorbidities": []},
    {"site": "knee", "ficat_stage": "I", "phase": "subacute", "hematologic_malignancy": True,
     "comorbidities": ["thrombocytopenia"], "platelet_count": 25, "red_flags": []},
    {"site": "femoral-head", "arco_stage": "IIIA", "phase": "chronic", "causes": ["corticosteroid"], "red_flags": [],
     "hematologic_malignancy": False, "comorbidities": []},
    {},
]


@pytest.mark.parametrize("case", CASES, ids=["pre-collapse hip", "low platelets", "collapsed hip", "nothing known"])
def test_one_card_per_applying_recommendation(case: dict[str, Any]) -> None:
    data, response = _response(SHIPPED_KB, case)
    applying = [item for item in data["recommendations"] if item["outcome"] == "applies"]
    by_summary = {card["summary"]: card for card in response["cards"]}
    html = render(SHIPPED_KB, "html")["index.html"]
    precaution_topics = {name for name, topic in SHIPPED_KB.vocabulary.topics.items()  # type: ignore[union-attr]
                         if topic.get("cds_indicator") == "warning"}
    for item in applying:
        kind = {"do": "Do", "consider": "Consider", "avoid": "Avoid"}[item["action"]["kind"]]
        card = by_summary[f"{kind}: {item['title']} ({item['id']})"]
        warning = item["action"]["kind"] == "avoid" or item["topic"] in precaution_topics
        assert card["indicator"] == ("warning" if warning else "info")
        assert card["source"]["url"] == f"{ARTICLE}#rec-{item['id']}"
        assert f'id="rec-{item["id"]}"' in html  # the anchor the rendered article has
        for cite in item["citations"]:
            ref = next(r for r in data["references"] if r["n"] == cite["n"])
            assert f"{cite['n']}. " in card["detail"]
            assert f"{cite['n']}. {escape(ref['citation'])}" in card["detail"]
        assert card["detail"].endswith(f"*{escape(data['notices'][0])}*")
    assert len(response["cards"]) == len(applying) + (1 if any(i["outcome"] == "undecided"
                                                              for i in data["recommendations"]) else 0)


def test_dose_and_loads_in_kg_are_in_the_detail() -> None:
    data, response = _response(SHIPPED_KB, CASES[0])
    with_load = [item for item in data["recommendations"] if item["outcome"] == "applies" and item.get("load_kg")]
    assert with_load, "the pre-collapse hip with a 1RM of 60 kg gets a dose in kg"
    for item in with_load:
        card = next(c for c in response["cards"] if c["summary"].endswith(f"({item['id']})"))
        params = SHIPPED_KB.vocabulary.interventions[item["action"]["target"]].dose  # type: ignore[union-attr]
        for name, (low, high) in item["load_kg"].items():
            assert f"Load, {params[name].label}: {low:g}-{high:g} kg for this patient" in card["detail"]
        for name, (low, high) in item["action"]["dose"].items():
            assert re.search(rf"Dose, {re.escape(params[name].label or name)}: {low:g}(-{high:g})? "
                             rf"{re.escape(escape(params[name].unit))}\n", card["detail"])


def test_undecided_card_names_the_deciding_facts_with_their_labels() -> None:
    data, response = _response(SHIPPED_KB, {})
    undecided = [item for item in data["recommendations"] if item["outcome"] == "undecided"]
    card = response["cards"][-1]
    assert card["indicator"] == "info"
    missing = {fact for item in undecided for fact in item["missing"]}
    vocabulary = SHIPPED_KB.vocabulary
    assert vocabulary is not None
    for fact in missing:
        label = (vocabulary.facts.get(fact) or vocabulary.derived[fact]).label
        assert f"(`{fact.replace('_', chr(92) + '_')}`)" in card["detail"] and label.split(" ")[0] in card["detail"]
    assert card["summary"].startswith(f"{len({i['id'] for i in undecided})} more recommendations need: ")
    assert len(card["summary"]) <= 139


def test_unread_record_notes_go_on_the_undecided_card() -> None:
    vocabulary = SHIPPED_KB.vocabulary
    assert vocabulary is not None
    femur = {"resourceType": "Condition", "id": "c1",
             "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                            "code": "active"}]},
             "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M87.851"}]}}
    read = case_from_fhir(vocabulary, None, [femur], [])
    _, response = _response(SHIPPED_KB, read.facts, read.unread)
    note = "- Condition/c1 (site): its code concerns site but gives none of its values"
    assert note in response["cards"][-1]["detail"]


def test_uuids_are_deterministic_and_distinct() -> None:
    _, first = _response(SHIPPED_KB, CASES[1])
    _, again = _response(SHIPPED_KB, CASES[1])
    ids = [card["uuid"] for card in first["cards"]]
    assert ids == [card["uuid"] for card in again["cards"]]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 5 for i in ids)


def test_no_advice_is_an_empty_card_list() -> None:
    # Only retired guidance asked for: nothing applies, nothing waits.
    data = as_data(MINI_KB, resolve(MINI_KB, {"site": "knee", "phase": "chronic"}, as_of=DAY, statuses=("retired",)))
    assert MINI_KB.vocabulary is not None
    response = cards(MINI_KB.vocabulary, data, ARTICLE)
    assert response == {"cards": []}
    assert list(RESPONSE.iter_errors(response)) == []


def test_conflict_and_differing_doses_get_a_warning_card_each() -> None:
    rt = MINI_KB.recommendation("RT-001")
    assert rt is not None
    rival = replace(rt, id="RT-002", title="Heavier dose",
                    action=replace(rt.action, dose={"intensity_pct_1rm": (70, 80)}))
    other = replace(rt, id="RT-003", title="Overlapping dose",
                    action=replace(rt.action, dose={"intensity_pct_1rm": (50, 70), "sets": (1, 3)}))
    kb = replace(MINI_KB, recommendations=MINI_KB.recommendations + (rival, other))
    data, response = _response(kb, {"site": "knee", "phase": "chronic"})
    warnings = {card["summary"]: card for card in response["cards"] if card["summary"].startswith(("Conflicting",
                                                                                                   "Two doses"))}
    expected = set()
    for item in data["recommendations"]:
        expected |= {f"Conflicting advice: {item['id']} and {o} contradict each other"
                     for o in item.get("conflicts_with", []) if item["id"] < o}
        expected |= {f"Two doses: {item['id']} and {o['id']} give different doses ({', '.join(o['parameters'])})"
                     for o in item.get("doses_differ_with", []) if item["id"] < o["id"]}
    assert expected and set(warnings) == expected
    assert all(card["indicator"] == "warning" for card in warnings.values())


@pytest.mark.parametrize("card,ok", [
    ({"summary": "x" * 139, "indicator": "info", "source": {"label": "s"}}, True),
    ({"summary": "x" * 140, "indicator": "info", "source": {"label": "s"}}, False),
    ({"summary": "s", "indicator": "hard-stop", "source": {"label": "s"}}, False),
    ({"summary": "s", "indicator": "info", "source": {}}, False),
    ({"summary": "s", "indicator": "info"}, False),
    ({"summary": "s", "indicator": "info", "source": {"label": "s"}, "detail": ""}, False),
    ({"summary": "s", "indicator": "info", "source": {"label": "s"}, "suggestions": [{"label": "a"}]}, False),
    ({"summary": "s", "indicator": "info", "source": {"label": "s"}, "suggestions": [{"label": "a"}],
      "selectionBehavior": "any"}, True),
    ({"summary": "s", "indicator": "info", "source": {"label": "s", "url": "not a url"}}, False),
], ids=["139 chars", "140 chars", "old indicator", "source without label", "no source", "empty detail",
        "suggestions without selectionBehavior", "suggestions with it", "relative source url"])
def test_response_schema_holds_the_required_fields(card: dict[str, Any], ok: bool) -> None:
    assert RESPONSE.is_valid({"cards": [card]}) is ok


def test_discovery_entry_and_prefetch_templates() -> None:
    document = discovery(SHIPPED_KB)
    assert list(DISCOVERY.iter_errors(document)) == []
    service = document["services"][0]
    assert (service["hook"], service["id"]) == ("patient-view", "avn-kb")
    assert service["prefetch"] == {
        "patient": "Patient/{{context.patientId}}",
        "conditions": "Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse",
        "observations-platelet_count": "Observation?patient={{context.patientId}}"
                                       "&code=http://loinc.org|777-3,http://loinc.org|26515-7",
        "observations-pain_score": "Observation?patient={{context.patientId}}&code=http://loinc.org|72514-3",
    }
    assert service["usageRequirements"] == SHIPPED_KB.manifest.notice  # type: ignore[union-attr]


def test_prefetch_read_back_and_what_is_missing() -> None:
    templates = prefetch_templates(SHIPPED_KB)
    patient = {"resourceType": "Patient", "id": "p1"}
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceType": "Condition"}}]}
    prefetch = {"patient": patient, "conditions": bundle, "observations-pain_score": None}
    assert prefetched(prefetch) == (patient, [{"resourceType": "Condition"}], [])
    assert missing_prefetch(SHIPPED_KB, prefetch) == {"observations-platelet_count":
                                                      templates["observations-platelet_count"]}
    outcome = {"resourceType": "OperationOutcome", "issue": []}
    assert prefetched({"patient": outcome}) == (None, [], [])


@pytest.mark.parametrize("request_body,ok", [
    ({"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
      "context": {"userId": "Practitioner/abc", "patientId": "1288992"}}, True),
    ({"hook": "patient-view", "hookInstance": "x", "context": {"userId": "Practitioner/abc"}}, False),
    ({"hook": "patient-view", "hookInstance": "x", "context": {"userId": "abc", "patientId": "1"}}, False),
    ({"hook": "patient-view", "context": {"userId": "Practitioner/abc", "patientId": "1"}}, False),
    ({"hook": "patient-view", "hookInstance": "x", "context": {"userId": "Practitioner/a", "patientId": "1"},
      "fhirAuthorization": {"access_token": "t", "token_type": "Bearer", "expires_in": 300, "scope": "s",
                            "subject": "c"}}, False),
    ({"hook": "patient-view", "hookInstance": "x", "fhirServer": "https://ehr.example/fhir",
      "context": {"userId": "Practitioner/a", "patientId": "1"},
      "fhirAuthorization": {"access_token": "t", "token_type": "Bearer", "expires_in": 300, "scope": "s",
                            "subject": "c"}, "prefetch": {"patient": {"resourceType": "Patient"}, "conditions": None}},
     True),
    ({"hook": "patient-view", "hookInstance": "x", "context": {"userId": "Practitioner/a", "patientId": "1"},
      "prefetch": {"patient": "Patient/1"}}, False),
], ids=["minimal", "no patientId", "userId without type", "no hookInstance", "token without server",
        "with server, token and prefetch", "prefetch not a resource"])
def test_request_schema(request_body: dict[str, Any], ok: bool) -> None:
    assert REQUEST.is_valid(request_body) is ok


def test_from_a_cds_hooks_request_to_cards() -> None:
    """The path the service takes: prefetch -> case facts -> the same checks as query -> resolve ->
    as_data -> cards; the request and the response both meet their schemas."""
    vocabulary = SHIPPED_KB.vocabulary
    assert vocabulary is not None
    active = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}
    request = {
        "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/abc", "patientId": "p1"},
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": "p1"},
            "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
                "resourceType": "Condition", "id": "c1", "clinicalStatus": active,
                "subject": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M93.1"}]}}}]},
            "observations-platelet_count": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
                "resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/p1"},
                "effectiveDateTime": "2026-11-30T08:00:00Z",
                "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
                "valueQuantity": {"value": 30000, "system": "http://unitsofmeasure.org", "code": "/uL"}}}]},
            "observations-pain_score": None,
        },
    }
    assert list(REQUEST.iter_errors(request)) == []
    patient, conditions, observations = prefetched(request["prefetch"])
    read = case_from_fhir(vocabulary, patient, conditions, observations)
    assert read.facts == {"site": "lunate", "platelet_count": 30}
    data, response = _response(SHIPPED_KB, read.facts, read.unread)
    expected = as_data(SHIPPED_KB, resolve(SHIPPED_KB, {"site": "lunate", "platelet_count": 30}, as_of=DAY))
    assert data == expected
    applying = {item["id"] for item in data["recommendations"] if item["outcome"] == "applies"}
    assert {card["source"]["url"].rsplit("#rec-", 1)[-1] for card in response["cards"]
            if "#rec-" in card["source"]["url"]} == applying
