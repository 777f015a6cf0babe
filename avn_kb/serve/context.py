"""What every request carries: the snapshot it answers from, taken once when it starts, and the
version headers of that same snapshot on its response (whatever the route, errors included).

A route added by another module gets the same: `snapshot_of(request)` is the knowledge to answer
from, and its response leaves with the headers of that knowledge."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avn_kb.serve.limits import Limits
from avn_kb.serve.reload import KnowledgeHolder
from avn_kb.serve.snapshot import Snapshot

SNAPSHOT_KEY = "avn_kb.snapshot"


def snapshot_of(request: Request) -> Snapshot:
    """The snapshot this request answers from (the same one from its first byte to its last)."""
    snapshot: Snapshot = request.scope[SNAPSHOT_KEY]
    return snapshot


def holder_of(request: Request) -> KnowledgeHolder:
    holder: KnowledgeHolder = request.app.state.holder
    return holder


def limits_of(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


class KnowledgeHeaders:
    """ASGI middleware: pins the current snapshot in the request's scope and adds its headers
    (AVN-KB-Knowledge-Version, -Digest, -Id, AVN-KB-Tool-Version) to the response."""

    def __init__(self, app: ASGIApp, holder: KnowledgeHolder) -> None:
        self.app, self.holder = app, holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        snapshot = self.holder.current
        scope[SNAPSHOT_KEY] = snapshot
        extra = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                 for name, value in snapshot.headers().items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
