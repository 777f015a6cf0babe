"""The hand-written OpenAPI document (avn_kb/serve/openapi.json) stays true: it is what
`GET /openapi.json` serves, every route of the service is in it with its methods and no other,
every example validates against the schema beside it, every request example is answered 200, and
the live answers of every route validate against the schema the document gives them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route

from avn_kb.serve.routes import OPENAPI, ROUTES
from tests.conftest import SHIPPED
from tests.serving import Server, running, schema_resources

DOC = json.loads(OPENAPI.read_text(encoding="utf-8"))
URI = "https://avn-kb.org/serve/openapi.json"
REGISTRY: Registry = Registry().with_resources(
    [(URI, DRAFT202012.create_resource(DOC))]  # the document has no $schema: its dialect is 2020-12
    + schema_resources())


def errors(value: Any, where: str) -> list[str]:
    """Schema errors of `value` against the schema at the JSON pointer `where` of the document."""
    validator = jsonschema.Draft202012Validator({"$ref": f"{URI}#{where}"}, registry=REGISTRY,
                                                format_checker=jsonschema.FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def media(doc: dict[str, Any]) -> Iterator[tuple[str, str, str, str, dict[str, Any]]]:
    """(path, method, 'request' or the status, media type, the media object) for every body."""
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for kind, content in operation.get("requestBody", {}).get("content", {}).items():
                yield path, method, "request", kind, content
            for status, response in operation["responses"].items():
                for kind, content in response.get("content", {}).items():
                    yield path, method, status, kind, content


def location(path: str, method: str, part: str, kind: str) -> tuple[str, ...]:
    if part == "request":
        return ("paths", path, method, "requestBody", "content", kind)
    return ("paths", path, method, "responses", part, "content", kind)


EXAMPLES = [(f"{method} {path} {part} {name}", example["value"],
             pointer(*location(path, method, part, kind), "schema"))
            for path, method, part, kind, content in media(DOC)
            for name, example in content.get("examples", {}).items()]


def test_the_document_is_openapi_3_1_and_its_schemas_are_valid() -> None:
    assert DOC["openapi"] == "3.1.0"
    for schema in DOC["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_route_is_documented_with_its_methods() -> None:
    served = {}
    for route in ROUTES:
        assert isinstance(route, Route)
        served[route.path.replace("{rec_id}", "{id}")] = {m.lower() for m in (route.methods or ()) if m != "HEAD"}
    documented = {path: set(operations) for path, operations in DOC["paths"].items()}
    assert documented == served


@pytest.mark.parametrize(("name", "value", "where"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates(name: str, value: Any, where: str) -> None:
    assert errors(value, where) == []


def test_the_check_can_fail() -> None:
    where = pointer("components", "schemas", "AnswerRequest")
    assert errors({"facts": {}, "cases": []}, where) != []
    assert errors({"facts": {}, "explain": "yes"}, where) != []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(SHIPPED, tmp_path_factory.mktemp("serve") / "server.log") as started:
        yield started


def test_the_service_serves_this_document(server: Server) -> None:
    reply = server.get("/openapi.json")
    assert (reply.status, reply.json()) == (200, DOC)


def concrete(path: str) -> str:
    """The documented path with its parameters filled in from their examples."""
    for parameter in DOC["paths"][path]["post"].get("parameters", []):
        path = path.replace("{" + parameter["name"] + "}", parameter["example"])
    return path


REQUESTS = [(name, path, value) for path, method, part, kind, content in media(DOC) if part == "request"
            for name, value in ((n, e["value"]) for n, e in content.get("examples", {}).items())]


@pytest.mark.parametrize(("name", "path", "body"), REQUESTS, ids=[f"{r[1]} {r[0]}" for r in REQUESTS])
def test_every_request_example_is_answered_as_documented(server: Server, name: str, path: str, body: Any) -> None:
    reply = server.post(body, concrete(path))
    assert reply.status == 200, reply.text
    assert errors(reply.json(), pointer(*location(path, "post", "200", "application/json"), "schema")) == []


@pytest.mark.parametrize("path", ["/v1/knowledge", "/v1/recommendations/RT-001", "/v1/vocabulary", "/healthz",
                                  "/v1/recommendations/XX-999", "/v1/nothing", "/cds-services"])
def test_live_answers_validate_against_the_document(server: Server, path: str) -> None:
    reply = server.get(path)
    documented = "/v1/recommendations/{id}" if path.startswith("/v1/recommendations/") else path
    if documented not in DOC["paths"]:
        assert reply.headers["content-type"] == "application/problem+json"
        assert errors(reply.json(), pointer("components", "schemas", "Problem")) == []
        return
    status = str(reply.status)
    kind = reply.headers["content-type"]
    assert errors(reply.json(), pointer(*location(documented, "get", status, kind), "schema")) == []
    headers = DOC["paths"][documented]["get"]["responses"][status]["headers"]
    assert {name.lower() for name in headers} <= set(reply.headers)
