"""The CDS Hooks service (docs/interop.md, "CDS Hooks service"): `GET /cds-services` lists the
one `patient-view` service with its prefetch templates; `POST /cds-services/{id}` answers a call
with cards.

A call is checked against schema/cds-hooks-request.schema.json (400 naming the field). The
patient's record comes from the call's prefetch; what the client left out the service queries
itself on the call's `fhirServer` (avn_kb/serve/fhir_fetch.py). The resources become case facts
through the vocabulary's bindings (avn_kb/load/fhir_case.py), are resolved as `avn-kb query`
resolves them, as of today, and the answer becomes cards (avn_kb/output/cards). What could not be
read or fetched stays missing and is listed on the card about undecided recommendations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from avn_kb.load.fhir_case import Unread, case_from_fhir
from avn_kb.load.schemas import validator
from avn_kb.output.answers.data import as_data
from avn_kb.output.cards import cards, discovery, missing_prefetch, prefetched
from avn_kb.resolve.resolver import resolve
from avn_kb.serve.context import limits_of, snapshot_of
from avn_kb.serve.fhir_fetch import FetchLimits, fetch_missing
from avn_kb.serve.limits import parse_json, read_body, within_time
from avn_kb.serve.problems import Problem
from avn_kb.serve.snapshot import Snapshot

SERVICE_ID = "avn-kb"
PREFIX = "/cds-services"
REQUEST_KIND = "cds-hooks-request"


@dataclass(frozen=True)
class CdsOptions:
    """`avn-kb serve --article-url, --cors-origin, --fhir-timeout`. Without an article URL the
    cards link to the service's own clinician page (GET /)."""

    article_url: str | None = None
    cors_origins: tuple[str, ...] = ()
    fetch: FetchLimits = field(default_factory=FetchLimits)


def options_of(request: Request) -> CdsOptions:
    options: CdsOptions = getattr(request.app.state, "cds", None) or CdsOptions()
    return options


class CdsCors:
    """ASGI middleware: Starlette's CORSMiddleware for the CDS Hooks routes only, and only for the
    origins configured (none: no CORS header at all)."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=list(origins), allow_methods=["GET", "POST", "OPTIONS"],
                                   allow_headers=["Content-Type", "Authorization"]) if origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if self.cors is not None and (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _json(data: Any) -> Response:
    from avn_kb.serve.routes import json_response  # routes lists these routes: imported when called

    return json_response(data)


async def get_services(request: Request) -> Response:
    return _json(discovery(snapshot_of(request).kb, SERVICE_ID))


def _field(error: Any) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, Mapping):
        path += [next((name for name in error.validator_value if name not in error.instance), "")]
    if error.validator == "dependentRequired" and isinstance(error.instance, Mapping):
        path += [next((name for deps in error.validator_value.values() for name in deps
                       if name not in error.instance), "")]
    return ".".join(part for part in path if part) or "body"


def checked_call(body: Any) -> dict[str, Any]:
    """The call if it meets the request schema and is a patient-view call, else a 400 Problem."""
    from jsonschema.exceptions import best_match

    error = best_match(validator(REQUEST_KIND).iter_errors(body))
    if error is not None:
        where = _field(error)
        raise Problem(400, "bad-request", f"{where}: {error.message} (schema/cds-hooks-request.schema.json)",
                      field=where)
    assert isinstance(body, dict)
    if body["hook"] != "patient-view":
        raise Problem(400, "bad-request", f"hook: this service answers patient-view, not {body['hook']!r}",
                      field="hook")
    return body


def call_cards(snapshot: Snapshot, call: Mapping[str, Any], options: CdsOptions, article_url: str) -> dict[str, Any]:
    """The CDS Hooks response for one checked call (run in a worker thread: it may query the EHR)."""
    kb = snapshot.kb
    vocabulary = kb.vocabulary
    assert vocabulary is not None  # a snapshot is only served when it loaded whole
    given: dict[str, Any] = dict(call.get("prefetch") or {})
    missing = missing_prefetch(kb, given)
    notes: list[Unread] = []  # no server to ask: what the client left out is simply not known
    if missing and call.get("fhirServer"):
        token = (call.get("fhirAuthorization") or {}).get("access_token")
        found, notes = fetch_missing(missing, call["fhirServer"], call["context"]["patientId"], token, options.fetch)
        given.update(found)
    read = case_from_fhir(vocabulary, *prefetched(given))
    with snapshot.lock:
        resolution = resolve(kb, read.facts, as_of=dt.date.today(), index=snapshot.index)
        data = as_data(kb, resolution, problems=snapshot.ready.problems)
    return cards(vocabulary, data, article_url, unread=(*notes, *read.unread))


async def post_service(request: Request) -> Response:
    """The route: the service id first (404), then the body within the limits (400, 413, 415),
    then the answer in a worker thread within the time limit."""
    snapshot, limits, options = snapshot_of(request), limits_of(request), options_of(request)
    service_id = request.path_params["id"]
    if service_id != SERVICE_ID:
        raise Problem(404, "not-found", f"no CDS service {service_id!r}: GET {PREFIX} lists the services "
                      f"({SERVICE_ID})", field="id")
    call = checked_call(parse_json(await read_body(request, limits), limits))
    article_url = options.article_url or str(request.base_url)
    response = await within_time(limits, call_cards, snapshot, call, options, article_url)
    return _json(response)
