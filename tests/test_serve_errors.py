"""The service's refusals, through real HTTP on loopback: every one is RFC 9457 problem JSON naming
the bad field or fact, with the CLI's own words for a case; limits on body size (413 before the
body is read), depth, cases and time; a client that goes away does not stop the service."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from avn_kb.load.knowledge import load_knowledge
from tests.conftest import SHIPPED, run_cli
from tests.serving import SHIPPED_VERSION, Server, running

VOCABULARY = load_knowledge(SHIPPED, "knowledge").kb.vocabulary
assert VOCABULARY is not None
KNOWN = ", ".join(sorted([*VOCABULARY.facts, *VOCABULARY.derived]))
SITES = ", ".join(VOCABULARY.facts["site"].values)
BASE = "https://avn-kb.org/problems/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(SHIPPED, tmp_path_factory.mktemp("serve") / "server.log") as started:
        yield started


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A service with small limits, as an operator may set them."""
    with running(SHIPPED, tmp_path_factory.mktemp("strict") / "server.log", "--max-body-bytes", "4000",
                 "--max-depth", "4", "--max-cases", "5", "--request-timeout", "0.000001") as started:
        yield started


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": BASE + slug, "title": title, "status": status, "detail": detail, "instance": "/v1/answers",
            **extra}


BAD_REQUEST = "The request cannot be used"
BAD_CASE = "The case cannot be used"
SHAPE = ('the body is a JSON object: {"facts": {...}} for one case or {"cases": [...]} for several, with options '
         "as_of, audience, explain, statuses, all")

# (raw body, the problem it gets; `errors` is compared apart)
REFUSALS = [
    (b'{"facts": ', problem(400, "malformed-json", "The body is not valid JSON",
                            "not valid JSON: Expecting value at line 1, column 11", line=1, column=11)),
    (b'{"facts": {"site": "knee"},\n "as_of": }', problem(400, "malformed-json", "The body is not valid JSON",
                                                         "not valid JSON: Expecting value at line 2, column 11",
                                                         line=2, column=11)),
    (b'\xff\xfe{}', problem(400, "malformed-json", "The body is not valid JSON",
                            "the body is not UTF-8 text (byte 0)")),
    (b'{"facts": {"platelet_count": NaN}}', problem(400, "malformed-json", "The body is not valid JSON",
                                                    "not valid JSON: NaN is not a number JSON allows")),
    (b'[{"site": "knee"}]', problem(422, "bad-request", BAD_REQUEST, SHAPE)),
    (b'{}', problem(422, "bad-request", BAD_REQUEST, "give either facts (one case) or cases (a list), not neither",
                    field="facts")),
    (b'{"facts": {}, "cases": []}', problem(422, "bad-request", BAD_REQUEST,
                                            "give either facts (one case) or cases (a list), not both", field="cases")),
    (b'{"fact": {"site": "knee"}}', problem(422, "bad-request", BAD_REQUEST, f"unknown field 'fact': {SHAPE}",
                                            field="fact")),
    (b'{"cases": {"site": "knee"}}', problem(422, "bad-request", BAD_REQUEST, "cases is a list of cases",
                                             field="cases")),
    (b'{"facts": {"site": "knee"}, "as_of": "yesterday"}',
     problem(422, "bad-request", BAD_REQUEST, 'as_of: "yesterday" is not a date in the form YYYY-MM-DD',
             field="as_of")),
    (b'{"facts": {"site": "knee"}, "as_of": 20261201}',
     problem(422, "bad-request", BAD_REQUEST, "as_of: 20261201 is not a date in the form YYYY-MM-DD", field="as_of")),
    (b'{"facts": {"site": "knee"}, "audience": "nurse"}',
     problem(422, "bad-request", BAD_REQUEST, 'audience is one of clinician, patient, not "nurse"', field="audience")),
    (b'{"facts": {"site": "knee"}, "explain": "yes"}',
     problem(422, "bad-request", BAD_REQUEST, 'explain is true or false, not "yes"', field="explain")),
    (b'{"facts": {"site": "knee"}, "statuses": ["final"]}',
     problem(422, "bad-request", BAD_REQUEST, "statuses is a list of draft, submitted, under-review, approved, "
             'retired; got ["final"]', field="statuses")),
    (b'{"facts": {"sitee": "knee"}}', problem(422, "bad-case", BAD_CASE, f"facts: unknown fact 'sitee'; known "
                                              f"facts: {KNOWN}", fact="sitee")),
    (b'{"facts": {"site": 3}}', problem(422, "bad-case", BAD_CASE, f"facts: site: 3 is not a term; give one of: "
                                        f"{SITES}", fact="site")),
    (b'{"facts": {"site": "knee", "site": "talus"}}', problem(422, "bad-case", BAD_CASE,
                                                             "site is given twice (knee, talus): give it once",
                                                             field="site")),
]


@pytest.mark.parametrize(("body", "expected"), REFUSALS, ids=[r[1]["detail"][:40] for r in REFUSALS])
def test_refusals_are_problem_details(server: Server, body: bytes, expected: dict[str, Any]) -> None:
    reply = server.request("POST", "/v1/answers", raw=body)
    assert reply.headers["content-type"] == "application/problem+json"
    data = reply.json()
    data.pop("errors", None)
    assert (reply.status, data) == (expected["status"], expected)
    assert "Traceback" not in reply.text
    assert reply.headers["avn-kb-knowledge-version"] == SHIPPED_VERSION


@pytest.mark.parametrize("case", [{"sitee": "knee"}, {"site": "elbowish"}, {"platelet_count": "many"},
                                  {"site": "knee", "phase": ["chronic"]}], ids=["unknown", "value", "number", "type"])
def test_case_errors_are_the_clis_words(server: Server, tmp_path: Path, case: dict[str, Any]) -> None:
    batch = tmp_path / "case.jsonl"
    batch.write_text(json.dumps(case) + "\n", encoding="utf-8")
    result = run_cli("query", "--kb", str(SHIPPED), "--batch", str(batch))
    cli = [line.removeprefix(f"avn-kb query: {batch}:1: ") for line in result.stderr.splitlines()]
    reply = server.post({"facts": case})
    assert reply.status == 422
    assert [e["detail"].removeprefix("facts: ") for e in reply.json()["errors"]] == cli


def test_every_bad_case_of_a_list_is_named(server: Server) -> None:
    reply = server.post({"cases": [{"site": "knee"}, {"id": "b", "facts": {"sitee": "x"}}, {"site": "nowhere"}]})
    assert reply.status == 422
    errors = reply.json()["errors"]
    assert [(e["case"], e["fact"]) for e in errors] == [("cases[1]", "sitee"), ("cases[2]", "site")]
    assert errors[1]["detail"] == f"cases[2]: site: 'nowhere' is not one of: {SITES}"


def test_wrong_routes_and_methods(server: Server) -> None:
    missing = server.get("/v2/answers")
    assert (missing.status, missing.json()["type"]) == (404, BASE + "not-found")
    wrong = server.get("/v1/answers")
    assert (wrong.status, wrong.json()["type"], wrong.headers["allow"]) == (405, BASE + "method-not-allowed", "POST")
    text = server.request("POST", "/v1/answers", raw=b"site=knee", headers={"Content-Type": "text/plain"})
    assert (text.status, text.json()["field"]) == (415, "Content-Type")


def test_deep_nesting_is_refused(server: Server, strict: Server) -> None:
    for target, levels in ((server, 100_000), (strict, 1_900)):  # within each one's body limit
        deep = b'{"facts": {"site": ' + b"[" * levels + b"]" * levels + b"}}"
        reply = target.request("POST", "/v1/answers", raw=deep)
        assert (reply.status, reply.json()["type"]) == (400, BASE + "too-deep")
    reply = strict.post({"facts": {"site": [[["knee"]]]}})  # depth 5 over the strict limit of 4
    assert (reply.status, reply.json()["limit"]) == (400, 4)


def test_too_many_cases(server: Server, strict: Server) -> None:
    reply = server.post({"cases": [{"site": "knee"}] * 1001})
    assert (reply.status, reply.json()["detail"]) == (
        422, "1,001 cases in one request, over the limit of 1,000: split them over several requests")
    reply = strict.post({"cases": [{"site": "knee"}] * 6})
    assert (reply.status, reply.json()["limit"]) == (422, 5)


def test_an_answer_over_the_time_limit_is_503(strict: Server) -> None:
    # Distinct cases, explained: work that takes milliseconds, so that the 1 us limit has passed
    # when the event loop looks (an answer done by then is given, however loaded the machine).
    cases = [{"site": "knee", "phase": phase, "ficat_stage": stage} for phase in ("acute", "chronic")
             for stage in ("I", "II", "III")][:5]
    reply = strict.post({"cases": cases, "explain": True, "all": True})
    assert (reply.status, reply.json()["type"], reply.headers["retry-after"]) == (503, BASE + "timeout", "1")
    assert strict.get("/healthz").status == 200


def _send_until_answered(port: int, head: bytes, chunk: bytes, total: int) -> tuple[bytes, int]:
    """Send `head` then `chunk` repeatedly up to `total` bytes, stopping as soon as the server
    answers; (what it answered, how many body bytes were sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(head)
        sent = 0
        while sent < total:
            readable, _, _ = select.select([client], [], [], 0)
            if readable:
                break
            try:
                client.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        answer = b""
        deadline = time.monotonic() + 30
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            try:
                piece = client.recv(65536)
            except ConnectionResetError:
                break
            if not piece:
                break
            answer += piece
        return answer, sent


FIFTY_MB = 50 * 1024 * 1024


def test_a_50_mb_body_is_refused_before_it_is_read(server: Server) -> None:
    head = (b"POST /v1/answers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(FIFTY_MB).encode() + b"\r\n\r\n")
    answer, sent = _send_until_answered(server.port, head, b" " * 65536, FIFTY_MB)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert sent < FIFTY_MB // 4  # refused on its declared length, long before the end
    assert server.get("/healthz").status == 200


def test_a_chunked_50_mb_body_is_refused_while_it_streams(server: Server) -> None:
    head = (b"POST /v1/answers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b" " * 65536
    answer, sent = _send_until_answered(server.port, head, b"10000\r\n" + piece + b"\r\n", FIFTY_MB)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert sent < FIFTY_MB // 4
    assert server.get("/healthz").status == 200


def test_a_client_that_goes_away_does_not_stop_the_service(server: Server) -> None:
    body = json.dumps({"cases": [{"site": "knee", "phase": "chronic"}] * 200}).encode()
    half = (b"POST /v1/answers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    for cut in (half + body[:50], half + body):  # mid-body, and while the answer is being worked out
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
            client.sendall(cut)
        reply = server.post({"facts": {"site": "knee"}})
        assert reply.status == 200, reply.text
    time.sleep(0.5)
    assert server.post({"cases": [{"site": "talus"}] * 3}).status == 200
    assert "Traceback" not in server.log_text()
