"""The service's own FHIR queries: the prefetch templates a CDS client left out, run against the
request's `fhirServer` with its bearer token, bounded in time, pages and bytes.

    found, notes = fetch_missing({"conditions": "Condition?patient={{context.patientId}}"},
                                 "https://ehr.example/fhir", "p1", "token", FetchLimits())

Nothing is guessed from a failed query: its key is left out of `found` (the facts it would have
shown stay missing, so what depends on them is undecided) and `notes` says what could not be read
and why. A search is used only when every page of it came in, since a later page may hold another
diagnosis or a later result. Only http(s) is spoken, and never to another host than `fhirServer`:
a redirect or a next-page link elsewhere is refused (the token must not leave that server)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from avn_kb.load.fhir_case import Unread, next_page, resources_in

log = logging.getLogger("avn_kb.serve")

PATIENT_PLACEHOLDER = "{{context.patientId}}"
FHIR_JSON = "application/fhir+json, application/json;q=0.9"


@dataclass(frozen=True)
class FetchLimits:
    """How far the service goes for one request's data (`avn-kb serve --fhir-timeout`)."""

    timeout_seconds: float = 5.0  # per HTTP request
    max_pages: int = 20  # per search
    max_bytes: int = 5_000_000  # per response


class FetchError(Exception):
    """A query that gave no usable answer; the message says why, for the record note."""


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the host the request went to (never elsewhere with the token)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        if _origin(newurl) != _origin(req.full_url):
            raise FetchError(f"the server redirected to another host ({_origin(newurl)[1] or newurl}); not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameHostRedirects)


def _get(url: str, token: str | None, limits: FetchLimits) -> Any:
    """The JSON a GET of `url` answers with, or FetchError."""
    headers = {"Accept": FHIR_JSON, **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with _OPENER.open(request, timeout=limits.timeout_seconds) as response:
            body = response.read(limits.max_bytes + 1)
    except urllib.error.HTTPError as err:
        refused = " (the access token was refused)" if err.code in (401, 403) else ""
        raise FetchError(f"the FHIR server answered {err.code}{refused}") from None
    except (urllib.error.URLError, OSError, ValueError) as err:  # refused, timed out, unreachable, bad URL
        reason = getattr(err, "reason", None) or err
        raise FetchError(f"the FHIR server could not be read: {reason}") from None
    if len(body) > limits.max_bytes:
        raise FetchError(f"the answer is over the {limits.max_bytes:,}-byte limit")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FetchError("the answer is not JSON") from None


def _search(url: str, server: str, token: str | None, limits: FetchLimits) -> dict[str, Any]:
    """Every page of a search as one searchset Bundle, or FetchError (a part is never used)."""
    entries: list[Any] = []
    pages = 0
    while url:
        if pages == limits.max_pages:
            raise FetchError(f"the search has more than {limits.max_pages} pages; none of it was used")
        if _origin(url) != _origin(server):
            raise FetchError("a next page is on another host; not followed, and none of the search was used")
        bundle = _get(url, token, limits)
        if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
            kind = bundle.get("resourceType") if isinstance(bundle, Mapping) else type(bundle).__name__
            raise FetchError(f"the answer is a {kind}, not a Bundle")
        pages += 1
        entries += [{"resource": resource} for resource in resources_in(bundle)]
        url = next_page(bundle) or ""
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


def query_url(server: str, template: str, patient_id: str) -> str:
    """The template's query on `server`, the patient id put in (escaped: it is the client's text)."""
    return server.rstrip("/") + "/" + template.replace(PATIENT_PLACEHOLDER, quote(patient_id, safe=""))


def fetch_missing(templates: Mapping[str, str], server: str, patient_id: str, token: str | None,
                  limits: FetchLimits) -> tuple[dict[str, Any], list[Unread]]:
    """The resources of each template (key -> a resource, or a Bundle for a search) that could be
    read whole, and a note for each that could not."""
    found: dict[str, Any] = {}
    notes: list[Unread] = []
    if _origin(server)[0] not in ("http", "https") or not _origin(server)[1]:
        reason = "the fhirServer is not an http(s) address; nothing was fetched"
        return {}, [Unread(f"{key} ({template})", None, reason) for key, template in templates.items()]
    for key, template in templates.items():
        url = query_url(server, template, patient_id)
        try:
            if "?" in template:
                found[key] = _search(url, server, token, limits)
            else:
                found[key] = _get(url, token, limits)
        except FetchError as err:
            log.warning("CDS Hooks: %s not read from %s: %s", key, url, err)
            notes.append(Unread(f"{key} ({url})", None, f"not read: {err}"))
    return found, notes
