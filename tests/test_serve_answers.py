"""`POST /v1/answers` and the read-only routes, through real HTTP on loopback: the service gives
exactly what `avn-kb query --format json` gives, for every golden case of the shipped knowledge
base, and every answer is valid against schema/query-result.schema.json."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry

from avn_kb.load.knowledge import load_knowledge
from tests.conftest import SHIPPED, run_cli
from tests.serving import SHIPPED_VERSION, Server, running, schema_resources

AS_OF = "2026-12-01"
GOLDEN = load_knowledge(SHIPPED, "knowledge").kb.cases
REGISTRY: Registry = Registry().with_resources(schema_resources())


def schema_errors(value: Any, uri: str = "https://avn-kb.org/schema/query-result.schema.json") -> list[str]:
    validator = jsonschema.Draft202012Validator({"$ref": uri}, registry=REGISTRY,
                                                format_checker=jsonschema.FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(SHIPPED, tmp_path_factory.mktemp("serve") / "server.log") as started:
        yield started


def cli_answer(tmp_path: Path, facts: dict[str, Any], *options: str) -> str:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(facts), encoding="utf-8")
    result = run_cli("query", str(case), "--kb", str(SHIPPED), "--format", "json", *options)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("golden", GOLDEN, ids=[case.id for case in GOLDEN])
def test_every_golden_case_answers_as_the_cli(server: Server, tmp_path: Path, golden: Any) -> None:
    day = golden.as_of or AS_OF
    reply = server.post({"facts": dict(golden.facts), "as_of": day})
    assert reply.status == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    expected = cli_answer(tmp_path, dict(golden.facts), "--as-of", day)
    assert reply.json() == json.loads(expected)
    assert reply.text == expected  # the same bytes, not only the same value
    assert schema_errors(reply.json()) == []


@pytest.mark.parametrize(("options", "cli_options"), [
    ({"explain": True}, ["--explain"]),
    ({"audience": "patient"}, ["--audience", "patient"]),
    ({"statuses": ["draft", "retired"]}, ["--include-status", "draft", "--include-status", "retired"]),
    ({"all": True, "audience": "patient"}, ["--all", "--audience", "patient"]),
], ids=["explain", "patient", "statuses", "all"])
def test_options_are_the_clis(server: Server, tmp_path: Path, options: dict[str, Any], cli_options: list[str]) -> None:
    facts = dict(GOLDEN[0].facts)
    reply = server.post({"facts": facts, "as_of": AS_OF, **options})
    assert reply.status == 200, reply.text
    assert reply.text == cli_answer(tmp_path, facts, "--as-of", AS_OF, *cli_options)
    assert schema_errors(reply.json()) == []


def test_a_list_of_cases_answers_as_the_batch(server: Server, tmp_path: Path) -> None:
    cases: list[Any] = [{"id": case.id, "facts": dict(case.facts)} for case in GOLDEN[:6]]
    cases.append(dict(GOLDEN[6].facts))  # a bare case, as a batch line may be
    reply = server.post({"cases": cases, "as_of": AS_OF, "explain": True})
    assert reply.status == 200, reply.text
    batch = tmp_path / "cases.jsonl"
    batch.write_text("".join(json.dumps(case) + "\n" for case in cases), encoding="utf-8")
    result = run_cli("query", "--kb", str(SHIPPED), "--batch", str(batch), "--as-of", AS_OF, "--explain")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for line in lines:
        del line["line"]  # the batch's input line; the service answers in the order of the list
    answers = reply.json()["answers"]
    assert answers == lines
    assert [a.get("id") for a in answers] == [case.id for case in GOLDEN[:6]] + [None]
    assert [schema_errors(a) for a in answers] == [[]] * len(cases)


def test_version_headers_name_the_knowledge(server: Server) -> None:
    reply = server.get("/healthz")
    knowledge = server.get("/v1/knowledge").json()
    assert reply.headers["avn-kb-knowledge-version"] == knowledge["knowledge_base"]["version"] == SHIPPED_VERSION
    assert reply.headers["avn-kb-knowledge-digest"] == knowledge["digest"] == reply.json()["knowledge_base"]["digest"]
    assert reply.headers["avn-kb-knowledge-id"] == "avn-kb"
    assert reply.headers["avn-kb-tool-version"] == knowledge["tool"]["version"]


def test_knowledge_lists_what_is_loaded(server: Server) -> None:
    kb = load_knowledge(SHIPPED, "knowledge").kb
    data = server.get("/v1/knowledge").json()
    assert data["recommendations"]["ids"] == [r.id for r in kb.recommendations]
    assert data["recommendations"]["total"] == len(kb.recommendations)
    assert sum(data["recommendations"]["by_status"].values()) == len(kb.recommendations)
    assert data["references"] == len(kb.references) and data["golden_cases"] == len(kb.cases)
    assert data["notices"] == [kb.manifest.notice] if kb.manifest else False


def written_in_file(rec_id: str) -> dict[str, Any]:
    """The entry as its file has it, read independently of the loader (a dose as a range)."""
    for path in sorted((SHIPPED / "recommendations").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["recommendations"]:
            if entry["id"] == rec_id:
                dose = entry["action"].get("dose", {})
                entry["action"]["dose"] = {k: v if isinstance(v, list) else [v, v] for k, v in dose.items()}
                if not dose:
                    del entry["action"]["dose"]
                return json.loads(json.dumps(entry, default=str))
    raise AssertionError(rec_id)


@pytest.mark.parametrize("rec_id", ["RT-001", "PR-005", "MO-009", "PR-001", "RT-003"])
def test_a_recommendation_as_written(server: Server, rec_id: str) -> None:
    rec = load_knowledge(SHIPPED, "knowledge").kb.recommendation(rec_id)
    assert rec is not None
    data = server.get(f"/v1/recommendations/{rec_id}").json()
    assert data["recommendation"] == written_in_file(rec_id)
    assert data["source"] == rec.where.path.removeprefix("knowledge/")
    assert [r["id"] for r in data["references"]] == list(dict.fromkeys(c.ref for c in rec.citations))
    assert all(r["citation"] for r in data["references"])
    assert schema_errors(data["recommendation"],
                         "https://avn-kb.org/schema/recommendations.schema.json#/$defs/recommendation") == []


def test_an_unknown_recommendation_is_404_naming_it(server: Server) -> None:
    reply = server.get("/v1/recommendations/XX-999")
    assert (reply.status, reply.headers["content-type"]) == (404, "application/problem+json")
    assert reply.json()["detail"] == (f"no recommendation 'XX-999' in avn-kb version {SHIPPED_VERSION}: "
                                      "GET /v1/knowledge lists the ids")


def test_vocabulary_gives_every_fact(server: Server) -> None:
    vocabulary = load_knowledge(SHIPPED, "knowledge").kb.vocabulary
    assert vocabulary is not None
    data = server.get("/v1/vocabulary").json()
    assert list(data["facts"]) == list(vocabulary.facts)
    assert list(data["derived"]) == list(vocabulary.derived)
    platelets = vocabulary.facts["platelet_count"]
    assert data["facts"]["platelet_count"] == {"type": "number", "label": platelets.label, "unit": platelets.unit,
                                               "range": [platelets.low, platelets.high], "integer": platelets.integer}
    assert data["facts"]["site"]["values"] == list(vocabulary.facts["site"].values)
    assert list(data["interventions"]) == list(vocabulary.interventions)


def test_concurrent_requests_on_many_days(server: Server) -> None:
    # More days than the resolver's index keeps eligibility for, at once: every answer is whole.
    days = [f"2026-{month:02d}-{day:02d}" for month in range(1, 13) for day in (1, 15)] * 3
    facts = dict(GOLDEN[0].facts)
    with ThreadPoolExecutor(max_workers=32) as pool:
        replies = list(pool.map(lambda day: server.post({"facts": facts, "as_of": day}), days))
    assert [(r.status, r.json()["as_of"]) for r in replies] == [(200, day) for day in days]


def test_the_page_is_served_with_its_policy_and_the_answer_of_the_address(server: Server) -> None:
    kb = load_knowledge(SHIPPED, "knowledge").kb
    case = next(c for c in kb.cases if c.id == "LL-001")
    query = "&".join(f"{name}={item}" for name, value in case.facts.items()
                     for item in ((value or ["_none"]) if isinstance(value, list)
                                  else [str(value).lower() if isinstance(value, bool) else value]))
    reply = server.get(f"/?{query}")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    assert "script-src 'none'" in reply.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
    assert reply.headers["avn-kb-knowledge-version"] == (kb.manifest.version if kb.manifest else "")
    for rec_id in case.expect["apply"]:
        assert f'id="rec-{rec_id}"' in reply.text
    assert kb.manifest is not None and kb.manifest.notice and html.escape(kb.manifest.notice) in reply.text


def test_a_page_address_with_more_fields_than_a_form_is_refused(server: Server) -> None:
    reply = server.get("/?" + "&".join(f"site=knee{n}" for n in range(501)))
    assert (reply.status, reply.headers["content-type"]) == (414, "application/problem+json")
    assert reply.json()["limit"] == 500


@pytest.mark.parametrize("name", ["query-result.schema.json", "common.schema.json", "recommendations.schema.json"])
def test_the_schemas_the_openapi_document_refers_to_are_served(server: Server, name: str) -> None:
    reply = server.get(f"/schema/{name}")
    assert (reply.status, reply.headers["content-type"]) == (200, "application/schema+json")
    assert reply.json() == json.loads((SHIPPED.parent / "schema" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["nothing.schema.json", "..%2Fpyproject.toml", "common.json", "%2E%2E.schema.json"])
def test_only_schemas_are_served_from_there(server: Server, name: str) -> None:
    reply = server.get(f"/schema/{name}")
    assert (reply.status, reply.headers["content-type"]) == (404, "application/problem+json")
