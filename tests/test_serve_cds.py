"""The CDS Hooks routes over real HTTP on loopback: discovery and cards against the CDS Hooks
schemas; the cards give the recommendations `avn-kb query` gives on the same facts; without
prefetch the service fetches from a FHIR server this test runs (paged, bearer token checked) and
answers the same cards; a refused token, a server that is down, slow or redirects elsewhere leave
the facts missing and say so on the info card, never a 500; bad calls are problems; CORS only
when configured."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from avn_kb.cli import main
from tests.conftest import ROOT, SHIPPED
from tests.serving import Server, free_port, running

TOKEN = "secret-token"
ARTICLE = "https://avn-kb.example/guidance/index.html"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ORIGIN = "https://sandbox.cds-hooks.org"


def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((ROOT / "schema" / f"cds-hooks-{kind}.schema.json").read_text()))


DISCOVERY, RESPONSE = _validator("discovery"), _validator("response")
PATIENT = {"resourceType": "Patient", "id": "p1"}


def _condition(cid: str, code: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/p1"},
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
            "code": {"coding": [{"system": ICD, "code": code}]}}


# Kienböck's disease (lunate) on the second page: a service that reads one page misses the site.
CONDITIONS = [_condition("c0", "J45.909"), _condition("c1", "M93.1")]
PLATELETS = [{"resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/p1"},
              "effectiveDateTime": "2026-11-30T08:00:00Z",
              "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
              "valueQuantity": {"value": 30000, "system": "http://unitsofmeasure.org", "code": "/uL"}}]
FACTS = {"site": "lunate", "platelet_count": 30}


def _bundle(resources: list[Any], next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                              "entry": [{"resource": r} for r in resources]}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


class FhirHandler(BaseHTTPRequestHandler):
    """Patient/p1, and Condition and Observation searches one resource a page; 401 without the
    token; under /slow/ it answers too late, under /away/ it redirects to another host."""

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the service gave up waiting (the timeout case)
            pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/slow/"):
            time.sleep(3)
        if url.path.startswith("/away/"):
            port = self.server.server_address[1]  # type: ignore[index]
            self._send(302, {}, {"Location": f"http://localhost:{port}/fhir/{url.path.split('/', 3)[-1]}"})
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]})
            return
        query = parse_qs(url.query)
        kind = url.path.rsplit("/", 1)[-1]
        if kind == "p1":
            self._send(200, PATIENT)
            return
        codes = query.get("code", [""])[0]
        resources = {"Condition": CONDITIONS, "Observation": PLATELETS if "777-3" in codes else []}.get(kind, [])
        page = int(query.get("_page", ["0"])[0])
        more = page + 1 < len(resources)
        host = f"http://{self.headers['Host']}"
        next_url = f"{host}{url.path}?{url.query.split('&_page=')[0]}&_page={page + 1}" if more else None
        self._send(200, _bundle(resources[page:page + 1], next_url))


@pytest.fixture(scope="module")
def fhir() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FhirHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("cds") / "server.log"
    with running(SHIPPED, log, "--article-url", ARTICLE, "--fhir-timeout", "1") as started:
        yield started


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(SHIPPED, tmp_path_factory.mktemp("cors") / "server.log", "--cors-origin", ORIGIN) as started:
        yield started


def call(**extra: Any) -> dict[str, Any]:
    return {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/abc", "patientId": "p1"}, **extra}


FULL_PREFETCH = {"patient": PATIENT, "conditions": _bundle(CONDITIONS), "observations-platelet_count":
                 _bundle(PLATELETS), "observations-pain_score": _bundle([])}


def cards_of(server: Server, body: Any) -> list[dict[str, Any]]:
    reply = server.post(body, "/cds-services/avn-kb")
    assert reply.status == 200, reply.text
    assert [e.message for e in RESPONSE.iter_errors(reply.json())] == []
    cards: list[dict[str, Any]] = reply.json()["cards"]
    return cards


def recommended(cards: list[dict[str, Any]]) -> set[str]:
    return {card["source"]["url"].split("#rec-", 1)[1] for card in cards if "#rec-" in card["source"]["url"]}


def query_ids(facts: dict[str, Any]) -> set[str]:
    result = CliRunner().invoke(main, ["query", "--kb", str(SHIPPED), "--format", "json", "-"], input=json.dumps(facts))
    assert result.exit_code == 0, result.output
    return {item["id"] for item in json.loads(result.output)["recommendations"] if item["outcome"] == "applies"}


def test_discovery_validates(server: Server) -> None:
    reply = server.get("/cds-services")
    assert reply.status == 200
    assert [e.message for e in DISCOVERY.iter_errors(reply.json())] == []
    assert [s["id"] for s in reply.json()["services"]] == ["avn-kb"]


def test_prefetch_gives_the_cards_of_query(server: Server) -> None:
    cards = cards_of(server, call(prefetch=FULL_PREFETCH))
    assert recommended(cards) == query_ids(FACTS) != set()
    assert all(card["source"]["url"].startswith(ARTICLE) for card in cards)
    assert recommended(cards_of(server, call())) == query_ids({})  # nothing known: only what needs no fact


def test_the_documented_call_is_answered_as_query(server: Server) -> None:
    """docs/cds-hooks-call.json (the README's curl) is the OpenAPI example, and answers as query does."""
    documented = json.loads((ROOT / "docs" / "cds-hooks-call.json").read_text(encoding="utf-8"))
    openapi = json.loads((ROOT / "avn_kb" / "serve" / "openapi.json").read_text(encoding="utf-8"))
    example = openapi["paths"]["/cds-services/{id}"]["post"]["requestBody"]["content"]["application/json"]
    assert documented == example["examples"]["with prefetch"]["value"]
    assert recommended(cards_of(server, documented)) == query_ids(FACTS)


def test_fetched_record_gives_the_same_cards(server: Server, fhir: str) -> None:
    auth = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
            "subject": "avn-kb"}
    fetched = cards_of(server, call(fhirServer=fhir + "/fhir", fhirAuthorization=auth))
    assert fetched == cards_of(server, call(prefetch=FULL_PREFETCH))
    # Part prefetched, the rest fetched: the same again.
    partial = {"patient": PATIENT, "observations-pain_score": _bundle([])}
    assert cards_of(server, call(prefetch=partial, fhirServer=fhir + "/fhir", fhirAuthorization=auth)) == fetched


@pytest.mark.parametrize(("where", "token", "reason"), [
    ("/fhir", "wrong-token", "answered 401 (the access token was refused)"),
    ("/fhir", None, "answered 401"),
    ("/slow/fhir", TOKEN, "could not be read"),
    ("/away/fhir", TOKEN, "redirected to another host"),
    (None, TOKEN, "could not be read"),
], ids=["bad token", "no token", "timeout", "redirect elsewhere", "server down"])
def test_fetch_failures_leave_facts_missing(server: Server, fhir: str, where: str | None, token: str | None,
                                            reason: str) -> None:
    base = fhir + where if where else f"http://127.0.0.1:{free_port()}/fhir"
    auth = {"fhirAuthorization": {"access_token": token, "token_type": "Bearer", "expires_in": 300, "scope": "s",
                                  "subject": "avn-kb"}} if token else {}
    cards = cards_of(server, call(fhirServer=base, **auth))
    assert recommended(cards) == query_ids({})
    undecided = [card for card in cards if "#rec-" not in card["source"]["url"]]
    assert len(undecided) == 1 and undecided[0]["indicator"] == "info"
    assert "Not read from the record" in undecided[0]["detail"] and reason in undecided[0]["detail"]
    assert "conditions" in undecided[0]["detail"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"hook": "patient-view", "hookInstance": "x", "context": {"userId": "Practitioner/a"}}, 400,
     "context.patientId"),
    (call(hookInstance=""), 400, "hookInstance"),
    (call(fhirServer="file:///etc/passwd"), 400, "fhirServer"),
    (call(prefetch={"patient": "Patient/1"}), 400, "prefetch.patient"),
    (call(hook="order-select"), 400, "hook"),
    ([1, 2], 400, "body"),
], ids=["no patient", "empty hookInstance", "file url", "prefetch not a resource", "other hook", "not an object"])
def test_malformed_calls_are_400_naming_the_field(server: Server, body: Any, status: int, field: str) -> None:
    reply = server.post(body, "/cds-services/avn-kb")
    assert (reply.status, reply.headers["content-type"], reply.json()["field"]) == (status, "application/problem+json",
                                                                                    field)


def test_malformed_json_and_unknown_service(server: Server) -> None:
    reply = server.request("POST", "/cds-services/avn-kb", raw=b"{nope")
    assert reply.status == 400 and reply.headers["content-type"] == "application/problem+json"
    reply = server.post(call(), "/cds-services/other")
    assert (reply.status, reply.json()["field"]) == (404, "id")


def test_cors_only_when_configured(server: Server, cors_server: Server) -> None:
    asked = {"Origin": ORIGIN}
    assert "access-control-allow-origin" not in server.request("GET", "/cds-services", headers=asked).headers
    assert cors_server.request("GET", "/cds-services", headers=asked).headers["access-control-allow-origin"] == ORIGIN
    preflight = cors_server.request("OPTIONS", "/cds-services/avn-kb", headers={
        **asked, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert (preflight.status, preflight.headers["access-control-allow-origin"]) == (200, ORIGIN)
    # The CDS routes only: the rest of the service stays same-origin.
    assert "access-control-allow-origin" not in cors_server.request("GET", "/v1/knowledge", headers=asked).headers
    other = cors_server.request("GET", "/cds-services", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_log_names_what_was_not_read(server: Server, fhir: str) -> None:
    cards_of(server, call(fhirServer=fhir + "/fhir"))
    server.wait_for_log("CDS Hooks: conditions not read from")
    assert TOKEN not in Path(server.log).read_text()
