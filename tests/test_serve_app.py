"""The application factory as another module uses it: a route added through `create_app` answers
from the request's snapshot with the version headers, refuses with problem JSON, and an
unexpected exception in it is a 500 problem (logged, never a traceback to the client). Served by
uvicorn in a thread on loopback, stopped by the test."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from avn_kb.serve.app import create_app
from avn_kb.serve.context import snapshot_of
from avn_kb.serve.limits import Limits, depth, parse_json, read_body
from avn_kb.serve.problems import Problem
from avn_kb.serve.reload import KnowledgeHolder
from avn_kb.serve.snapshot import load_snapshot
from tests.conftest import MINI
from tests.serving import Server, free_port


async def version(request: Request) -> Response:
    return Response(snapshot_of(request).version, media_type="text/plain")


async def echo_depth(request: Request) -> Response:
    value = parse_json(await read_body(request, Limits(max_body_bytes=100, max_depth=3)), Limits(max_depth=3))
    if value == {"refuse": True}:
        raise Problem(422, "bad-request", "refused as asked", field="refuse")
    return Response(str(depth(value)), media_type="text/plain")


async def boom(request: Request) -> Response:
    raise RuntimeError("a bug in an added route")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    snapshot = load_snapshot(MINI, "mini")
    assert snapshot.usable
    app = create_app(KnowledgeHolder(snapshot, MINI, "mini"), routes=[
        Route("/x/version", version), Route("/x/depth", echo_depth, methods=["POST"]), Route("/x/boom", boom)],
        reload_on_hangup=False)
    port = free_port()
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not runner.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.05)
    yield Server(None, port, None)  # type: ignore[arg-type]
    runner.should_exit = True
    thread.join(timeout=30)


def test_an_added_route_answers_from_the_snapshot_with_its_headers(server: Server) -> None:
    reply = server.get("/x/version")
    assert (reply.status, reply.text) == (200, reply.headers["avn-kb-knowledge-version"])
    assert reply.headers["avn-kb-knowledge-digest"].startswith("sha256:")


@pytest.mark.parametrize(("body", "status", "text"), [
    (b"[1, [2]]", 200, "2"), (b"[[[1]]]", 200, "3"), (b"[[[[1]]]]", 400, None), (b"1", 200, "0"),
    (b'{"refuse": true}', 422, None), (b"[" + b" " * 200 + b"]", 413, None)])
def test_an_added_route_uses_the_limits_and_problems(server: Server, body: bytes, status: int,
                                                     text: str | None) -> None:
    reply = server.request("POST", "/x/depth", raw=body)
    assert reply.status == status
    if text is not None:
        assert reply.text == text
    else:
        assert reply.headers["content-type"] == "application/problem+json"


def test_a_bug_is_a_500_problem_and_logged(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="avn_kb.serve"):
        reply = server.get("/x/boom")
    assert reply.status == 500
    assert reply.json() == {"type": "https://avn-kb.org/problems/internal-error", "title": "Internal error",
                            "status": 500, "instance": "/x/boom",
                            "detail": "an internal error (RuntimeError); this is a bug in avn-kb: the service's log "
                                      "has the details"}
    assert "Traceback" not in reply.text
    assert any(r.exc_info and "a bug in an added route" in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.parametrize("body", [b'{"facts": {"site": "knee", "causes": ["\\ud800"]}}',
                                  b'{"cases": [{"id": "\\udc00", "facts": {"site": "knee"}}]}',
                                  b'{"facts": {"site\\ud800": "knee"}}'])
def test_a_body_with_half_a_surrogate_pair_is_malformed_json(body: bytes) -> None:
    """A \\u escape of half a surrogate pair alone reads as a string no UTF-8 can write: an answer
    or problem echoing it (a case's id, an unknown fact's name) failed to encode, a 500. It is
    refused as malformed JSON; a whole pair is a character."""
    with pytest.raises(Problem) as refused:
        parse_json(body, Limits())
    assert refused.value.status == 400 and "half of a surrogate pair" in str(refused.value)
    assert parse_json(b'{"facts": {"site": "knee\\ud83d\\ude00"}}', Limits()) == {"facts": {"site": "knee\U0001f600"}}
