"""The read-only routes: what the knowledge base is, one recommendation, the vocabulary, health,
and the OpenAPI document (avn_kb/serve/openapi.json, written by hand and kept true by
tests/test_serve_openapi.py). Each answers from the request's snapshot."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from avn_kb.load.schemas import schema_text
from avn_kb.output.catalogue import knowledge_data, recommendation_data, vocabulary_data
from avn_kb.serve.answers import post_answers
from avn_kb.serve.cds import get_services, post_service
from avn_kb.serve.context import holder_of, snapshot_of
from avn_kb.serve.page import get_page
from avn_kb.serve.problems import Problem

OPENAPI = Path(__file__).resolve().parent / "openapi.json"
SCHEMA_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")  # a file name of schema/, nothing that walks out of it


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=2) + "\n", status_code=status,
                    media_type="application/json")


async def get_knowledge(request: Request) -> Response:
    snapshot = snapshot_of(request)
    return json_response({**knowledge_data(snapshot.kb), "digest": snapshot.digest, "loaded_at": snapshot.loaded_at})


async def get_recommendation(request: Request) -> Response:
    snapshot = snapshot_of(request)
    rec_id = request.path_params["rec_id"]
    rec = snapshot.kb.recommendation(rec_id)
    if rec is None:
        name = snapshot.kb.manifest.id if snapshot.kb.manifest else "the knowledge base"
        raise Problem(404, "not-found", f"no recommendation {rec_id!r} in {name} version "
                      f"{snapshot.version}: GET /v1/knowledge lists the ids", field="id")
    return json_response(recommendation_data(snapshot.kb, rec))


async def get_vocabulary(request: Request) -> Response:
    return json_response(vocabulary_data(snapshot_of(request).kb))


async def get_health(request: Request) -> Response:
    """Alive and answering from a whole knowledge base (a service never holds a broken one)."""
    snapshot, holder = snapshot_of(request), holder_of(request)
    manifest = snapshot.kb.manifest
    return json_response({"status": "ok", "knowledge_base": {"id": manifest.id if manifest else snapshot.kb.root,
                                                             "version": snapshot.version, "digest": snapshot.digest,
                                                             "loaded_at": snapshot.loaded_at},
                          "reloads": holder.reloads, "failed_reloads": holder.failed_reloads})


@cache
def openapi_text() -> str:
    return OPENAPI.read_text(encoding="utf-8")


async def get_schema(request: Request) -> Response:
    """A JSON Schema of the contract (schema/): the OpenAPI document refers to them here."""
    name = request.path_params["name"]
    kind = name.removesuffix(".schema.json")
    try:
        if not (name.endswith(".schema.json") and SCHEMA_NAME.fullmatch(kind)):
            raise FileNotFoundError(name)
        text = schema_text(kind)
    except (OSError, ImportError):  # not a file of schema/ (ImportError: no installed copy to look in)
        raise Problem(404, "not-found", f"no schema {name!r}: the schemas are named like "
                      "query-result.schema.json (docs/format.md)", field="name") from None
    return Response(text, media_type="application/schema+json")


async def get_openapi(request: Request) -> Response:
    return Response(openapi_text(), media_type="application/json")


ROUTES: list[BaseRoute] = [
    Route("/", get_page, methods=["GET"]),
    Route("/v1/answers", post_answers, methods=["POST"]),
    Route("/v1/knowledge", get_knowledge, methods=["GET"]),
    Route("/v1/recommendations/{rec_id}", get_recommendation, methods=["GET"]),
    Route("/v1/vocabulary", get_vocabulary, methods=["GET"]),
    Route("/healthz", get_health, methods=["GET"]),
    Route("/openapi.json", get_openapi, methods=["GET"]),
    Route("/schema/{name}", get_schema, methods=["GET"]),
    Route("/cds-services", get_services, methods=["GET"]),
    Route("/cds-services/{id}", post_service, methods=["POST"]),
]
