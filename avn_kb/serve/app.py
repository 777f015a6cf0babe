"""The decision service as an ASGI application: `create_app(holder, limits, routes)`.

    app = create_app(holder, Limits(), routes=[Route("/cds-services", discovery)])

`routes` are added after the service's own (avn_kb/serve/routes.py ROUTES); a route handler takes
the knowledge to answer from with `avn_kb.serve.context.snapshot_of(request)`, raises
`avn_kb.serve.problems.Problem` to refuse a request, and reads a body with
`avn_kb.serve.limits.read_body` and `parse_json` (the limits: `limits_of(request)`). Every response
carries the version headers of the snapshot the request started with; every error is problem
JSON. On start-up the application reloads its knowledge on SIGHUP (when it runs in the main
thread, as `avn-kb serve` runs it)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from avn_kb.serve.cds import CdsCors, CdsOptions
from avn_kb.serve.context import KnowledgeHeaders
from avn_kb.serve.limits import Limits
from avn_kb.serve.problems import EXCEPTION_HANDLERS
from avn_kb.serve.reload import KnowledgeHolder, stop_watching, watch_hangup
from avn_kb.serve.routes import ROUTES


def create_app(holder: KnowledgeHolder, limits: Limits | None = None, routes: Sequence[BaseRoute] = (),
               reload_on_hangup: bool = True, cds: CdsOptions | None = None) -> Starlette:
    """The service answering from `holder`'s current snapshot, within `limits`, with the extra
    `routes` besides its own; `cds`: the CDS Hooks routes' article link, CORS origins and FHIR limits."""
    cds = cds or CdsOptions()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watching = reload_on_hangup and watch_hangup(holder)
        try:
            yield
        finally:
            if watching:
                stop_watching()

    app = Starlette(routes=[*ROUTES, *routes], exception_handlers=EXCEPTION_HANDLERS,
                    middleware=[Middleware(KnowledgeHeaders, holder=holder),
                                                  Middleware(CdsCors, origins=cds.cors_origins)], lifespan=lifespan)
    app.state.holder = holder
    app.state.limits = limits or Limits()
    app.state.cds = cds
    return app
