"""What one request may ask of the service, and the reading of a body within those limits.

The body is counted while it streams in: a declared Content-Length over the limit is refused
before a byte is read, and a body without one (chunked) is refused as soon as it passes the limit,
so a 50 MB upload costs the service at most the limit in memory. JSON is parsed strictly (no NaN,
a key given twice is refused with the CLI's words) and refused past a nesting depth: a case is a
flat mapping of facts, a request two or three levels around it."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import ClientDisconnect, Request

from avn_kb.load.cases import given_twice, shown_value, unpaired_surrogates
from avn_kb.serve.problems import Problem

log = logging.getLogger("avn_kb.serve")
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """The limits of one request (`avn-kb serve` options of the same names)."""

    max_body_bytes: int = 1_000_000
    max_depth: int = 16
    max_cases: int = 1_000
    timeout_seconds: float = 30.0


async def within_time(limits: Limits, work: Callable[..., T], *args: Any, advice: str = "") -> T:
    """`work(*args)` in a worker thread (the event loop keeps serving), or a 503 Problem once it
    takes longer than the time limit; `advice` ends the message (what the client can do)."""
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(None, work, *args), limits.timeout_seconds)
    except TimeoutError:
        raise Problem(503, "timeout", f"the answer took longer than {limits.timeout_seconds:g} s{advice}",
                      limit=limits.timeout_seconds, headers={"Retry-After": "1"}) from None


async def read_body(request: Request, limits: Limits) -> bytes:
    """The whole body, or a Problem: 413 over `max_body_bytes` (checked before and while reading),
    415 for a content type that is not JSON, 400 for a client that went away mid-body."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise Problem(415, "unsupported-media-type", f"the body is {kind}: send JSON with "
                      "Content-Type: application/json", field="Content-Type")
    too_large = Problem(413, "body-too-large", f"the body is over the {limits.max_body_bytes:,}-byte limit: "
                        "send fewer cases per request", limit=limits.max_body_bytes)
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limits.max_body_bytes:
        raise too_large
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:
        log.info("client went away during the body of %s %s", request.method, request.url.path)
        raise Problem(400, "bad-request", "the client closed the connection before the body ended") from None
    return b"".join(chunks)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(body: bytes, limits: Limits) -> Any:
    """The body's JSON value, or a Problem naming what is wrong (where JSON says it is)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise Problem(400, "malformed-json", f"the body is not UTF-8 text (byte {err.start})") from None
    repeated: list[tuple[str, str]] = []

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        values: dict[str, list[Any]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        repeated.extend((key, given_twice(key, [shown_value(v) for v in given]))
                        for key, given in values.items() if len(given) > 1)
        return {key: given[0] for key, given in values.items()}

    try:
        value = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as err:
        raise Problem(400, "malformed-json", f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}",
                      line=err.lineno, column=err.colno) from None
    except ValueError as err:
        raise Problem(400, "malformed-json", f"not valid JSON: {err}") from None
    except RecursionError:
        raise _too_deep(limits) from None
    if depth(value) > limits.max_depth:
        raise _too_deep(limits)
    surrogates = unpaired_surrogates(text, value)
    if surrogates:  # an answer or a problem echoing such a string could not be written as UTF-8
        raise Problem(400, "malformed-json", surrogates)
    if repeated:
        key, message = repeated[0]
        raise Problem(422, "bad-case", message, field=key,
                      errors=[{"field": k, "detail": m} for k, m in repeated])
    return value


def _too_deep(limits: Limits) -> Problem:
    return Problem(400, "too-deep", f"the body is nested more than {limits.max_depth} levels deep: a case is a "
                   "flat mapping of facts", limit=limits.max_depth)


def depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
    return deepest
