"""Errors as RFC 9457 problem details (`application/problem+json`): `type`, `title`, `status`,
`detail`, `instance`, and the bad `field` or `fact` when there is one (`errors` lists them all when
there are several). Never a traceback: an unexpected exception is logged with its trace and
answered with a 500 problem that says only that it is a bug.

    {"type": "https://avn-kb.org/problems/bad-case", "title": "The case cannot be used",
     "status": 422, "detail": "facts: unknown fact 'sitee'; known facts: ...", "fact": "sitee",
     "instance": "/v1/answers"}
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("avn_kb.serve")

PROBLEM_BASE = "https://avn-kb.org/problems/"
MEDIA_TYPE = "application/problem+json"

# slug -> title: the kinds of problem the service reports (docs/service.md lists them).
TITLES = {
    "malformed-json": "The body is not valid JSON",
    "too-deep": "The body is nested too deeply",
    "body-too-large": "The body is too large",
    "bad-request": "The request cannot be used",
    "bad-case": "The case cannot be used",
    "too-many-cases": "Too many cases in one request",
    "too-many-fields": "Too many fields in the address",
    "unsupported-media-type": "The body is not JSON",
    "timeout": "The answer took too long",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "internal-error": "Internal error",
}


class Problem(Exception):
    """A request the service refuses, raised anywhere in a route and answered as problem JSON.
    `extra` adds members such as `field`, `fact` or `errors`."""

    def __init__(self, status: int, slug: str, detail: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str) -> dict[str, Any]:
        return {"type": PROBLEM_BASE + self.slug, "title": TITLES[self.slug], "status": self.status,
                "detail": self.detail, "instance": instance, **self.extra}


def problem_response(problem: Problem, instance: str) -> Response:
    return Response(json.dumps(problem.body(instance), ensure_ascii=False, indent=2) + "\n",
                    status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers)


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc, request.url.path)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, a method the route does not take) as problems."""
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 404:
        problem = Problem(404, "not-found", f"no resource at {path}: GET /openapi.json lists the routes")
    elif exc.status_code == 405:
        allowed = ", ".join(sorted(filter(None, (exc.headers or {}).get("Allow", "").split(", "))))  # stable order
        problem = Problem(405, "method-not-allowed", f"{request.method} is not allowed on {path}; allowed: {allowed}",
                          headers={"Allow": allowed} if allowed else None)
    else:
        problem = Problem(exc.status_code, "bad-request", str(exc.detail))
    return problem_response(problem, path)


async def on_bug(request: Request, exc: Exception) -> Response:
    """The net under every route: log the trace for the operator, tell the client only that it is a bug."""
    log.error("internal error answering %s %s", request.method, request.url.path, exc_info=exc)
    problem = Problem(500, "internal-error", f"an internal error ({type(exc).__name__}); this is a bug in avn-kb: "
                      "the service's log has the details")
    return problem_response(problem, request.url.path)


EXCEPTION_HANDLERS: dict[Any, Any] = {Problem: on_problem, HTTPException: on_http_exception, Exception: on_bug}
