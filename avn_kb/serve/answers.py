"""`POST /v1/answers`: a case, or a list of cases, in; the JSON of `avn-kb query --format json` out.

    {"facts": {"site": "knee", "ficat_stage": "II"}, "as_of": "2026-12-01", "explain": false}
    {"cases": [{"id": "a", "facts": {...}}, {...facts...}], "audience": "patient"}

A case is what a case file or a batch line holds (the facts, or `{"id": ..., "facts": {...}}`),
checked with the CLI's own checks and words. The options are the CLI's: `as_of`, `audience`,
`explain`, `statuses` (considered besides approved), `all`. One case answers with exactly what
`query --format json` prints; a list answers `{"answers": [...]}`, one answer per case in order
(each with the case's `id` when it has one, as `query --batch` gives). Every answer comes from
the one snapshot the request started with (avn_kb/serve/reload.py)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from avn_kb.editorial.versions import STATUS_RANK
from avn_kb.load.cases import CaseError, check_case
from avn_kb.model.knowledge import Vocabulary
from avn_kb.output import answers
from avn_kb.output.answers.data import as_data
from avn_kb.resolve.resolver import resolve
from avn_kb.serve.context import limits_of, snapshot_of
from avn_kb.serve.limits import Limits, parse_json, read_body, within_time
from avn_kb.serve.problems import Problem
from avn_kb.serve.snapshot import Snapshot

OPTIONS = ("as_of", "audience", "explain", "statuses", "all")
AUDIENCES = ("clinician", "patient")
SHAPE = 'the body is a JSON object: {"facts": {...}} for one case or {"cases": [...]} for several, with options '


@dataclass(frozen=True)
class Question:
    """What a request asks: the cases (id or None, facts) and the options, all checked."""

    cases: tuple[tuple[str | None, dict[str, Any]], ...]
    single: bool
    as_of: dt.date | None
    audience: str
    explain: bool
    statuses: tuple[str, ...]
    show_all: bool


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise Problem(422, "bad-request", f"{name} is true or false, not {json.dumps(value)}", field=name)
    return value


def _options(body: dict[str, Any]) -> dict[str, Any]:
    as_of = body.get("as_of")
    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else None
        except ValueError:
            day = None
        if day is None:
            raise Problem(422, "bad-request", f"as_of: {json.dumps(as_of)} is not a date in the form YYYY-MM-DD",
                          field="as_of")
    audience = body.get("audience", "clinician")
    if audience not in AUDIENCES:
        raise Problem(422, "bad-request", f"audience is one of {', '.join(AUDIENCES)}, not {json.dumps(audience)}",
                      field="audience")
    statuses = body.get("statuses", [])
    if not isinstance(statuses, list) or any(s not in STATUS_RANK for s in statuses):
        raise Problem(422, "bad-request", f"statuses is a list of {', '.join(STATUS_RANK)}; got {json.dumps(statuses)}",
                      field="statuses")
    return {"as_of": day, "audience": audience, "explain": _flag(body, "explain"),
            "statuses": tuple(dict.fromkeys(("approved", *statuses))), "show_all": _flag(body, "all")}


def _case(vocabulary: Vocabulary, item: Any, where: str) -> tuple[tuple[str | None, dict[str, Any]], list[CaseError]]:
    """One case as a batch line takes it: its facts, or {"id": ..., "facts": {...}}."""
    case_id = None
    facts = item
    if isinstance(item, dict) and isinstance(item.get("facts"), dict):
        case_id = item["id"] if isinstance(item.get("id"), str) else None
        facts = item["facts"]
    errors = check_case(vocabulary, facts, where)
    return (case_id, facts if isinstance(facts, dict) else {}), errors


def question(value: Any, vocabulary: Vocabulary, limits: Limits) -> Question:
    """The request's JSON as a Question, or a Problem naming the bad field or fact."""
    if not isinstance(value, dict):
        raise Problem(422, "bad-request", SHAPE + ", ".join(OPTIONS))
    unknown = [key for key in value if key not in ("facts", "cases", *OPTIONS)]
    if unknown:
        raise Problem(422, "bad-request", f"unknown field {unknown[0]!r}: {SHAPE}{', '.join(OPTIONS)}",
                      field=unknown[0])
    if ("facts" in value) == ("cases" in value):
        raise Problem(422, "bad-request", "give either facts (one case) or cases (a list), not "
                      + ("both" if "facts" in value else "neither"), field="facts" if "facts" not in value else "cases")
    options = _options(value)
    if "facts" in value:
        items, single = [value["facts"]], True
        wheres = ["facts"]
    else:
        items, single = value["cases"], False
        if not isinstance(items, list):
            raise Problem(422, "bad-request", "cases is a list of cases", field="cases")
        if len(items) > limits.max_cases:
            raise Problem(422, "too-many-cases", f"{len(items):,} cases in one request, over the limit of "
                          f"{limits.max_cases:,}: split them over several requests", limit=limits.max_cases)
        wheres = [f"cases[{i}]" for i in range(len(items))]
    cases, errors = [], []
    for item, where in zip(items, wheres):
        case, problems = _case(vocabulary, item, where)
        cases.append(case)
        errors += [(where, problem) for problem in problems]
    if errors:
        listed = [{"case": where, "detail": str(p), **({"fact": p.fact} if p.fact else {})} for where, p in errors]
        first: dict[str, Any] = {"fact": errors[0][1].fact} if errors[0][1].fact else {}
        raise Problem(422, "bad-case", str(errors[0][1]), **first, errors=listed)
    return Question(tuple(cases), single, **options)


def answer_text(snapshot: Snapshot, asked: Question) -> str:
    """The response body: `query --format json` for one case, {"answers": [...]} for a list."""
    kb = snapshot.kb
    found = []
    for case_id, facts in asked.cases:
        with snapshot.lock:
            resolution = resolve(kb, facts, as_of=asked.as_of, statuses=asked.statuses, index=snapshot.index,
                                 explain=asked.explain)
            data = as_data(kb, resolution, asked.audience, asked.explain, asked.show_all, snapshot.ready.problems)
        if case_id:
            data["id"] = case_id
        found.append(data)
    if asked.single:
        return answers.render(kb, found[0], "json")
    return json.dumps({"answers": found}, ensure_ascii=False) + "\n"


async def post_answers(request: Request) -> Response:
    """The route: read within the limits, check, answer in a worker thread within the time limit."""
    snapshot, limits = snapshot_of(request), limits_of(request)
    vocabulary = snapshot.kb.vocabulary
    assert vocabulary is not None  # a snapshot is only served when it loaded whole
    asked = question(parse_json(await read_body(request, limits), limits), vocabulary, limits)
    text = await within_time(limits, answer_text, snapshot, asked, advice=": send fewer cases per request")
    return Response(text, media_type="application/json")
