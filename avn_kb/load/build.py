"""Schema-valid documents to model objects. Only entries without schema errors get here, so the
builders can trust types; what they cannot trust (names, cross-references) the checks verify."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from avn_kb.model import conditions
from avn_kb.model.bindings import Coding, UnitConversion
from avn_kb.model.knowledge import (
    Acceptance,
    Action,
    Citation,
    DerivedFact,
    DoseParameter,
    Exercise,
    Fact,
    GoldenCase,
    Intervention,
    Manifest,
    Recommendation,
    Reference,
    Source,
    Vocabulary,
)


def manifest(raw: Mapping[str, Any], where: Source) -> Manifest:
    policy = raw.get("policy", {})
    return Manifest(
        id=raw["id"], title=raw["title"], version=raw["version"], released=raw["released"],
        board={member["id"]: member["role"] for member in raw.get("board", [])},
        reviewers_required=policy.get("reviewers_required", 1),
        review_interval_months=policy.get("review_interval_months"),
        locator_required=bool(policy.get("locator_required", False)),
        decision_required=tuple(_decision(item, where.pointer + ("policy", "decision_required", i))
                                for i, item in enumerate(policy.get("decision_required", ()))),
        severity=dict(raw.get("severity", {})),
        where=where,
        notice=raw.get("notice"),
        publisher=raw.get("publisher"),
    )


def _decision(item: Any, pointer: tuple[Any, ...]) -> tuple[str, conditions.Condition]:
    if isinstance(item, str):
        return item, conditions.ALWAYS
    return item["target"], conditions.parse(item.get("when", {}), pointer + ("when",))


def vocabulary(raw: Mapping[str, Any], where: Source, valid: Any) -> Vocabulary:
    """`valid(section, name)` says whether that entry passed the schema."""
    facts = {name: _fact(name, body, where.at("facts", name))
             for name, body in (raw.get("facts") or {}).items() if valid("facts", name)}
    derived = {name: _derived(name, body, where.at("derived", name))
               for name, body in (raw.get("derived") or {}).items() if valid("derived", name)}
    interventions = {name: _intervention(name, body, where.at("interventions", name))
                     for name, body in (raw.get("interventions") or {}).items() if valid("interventions", name)}
    populations = {name: body.get("parent") for name, body in (raw.get("populations") or {}).items()
                   if valid("populations", name)}
    topics = {name: dict(body) for name, body in (raw.get("topics") or {}).items() if valid("topics", name)}
    return Vocabulary(topics=topics, populations=populations, facts=facts, derived=derived,
                      interventions=interventions, where=where)


def _fact(name: str, body: Mapping[str, Any], where: Source) -> Fact:
    return Fact(name=name, type=body["type"], label=body["label"], values=tuple(body.get("values", ())),
                unit=body.get("unit"), low=body.get("min"), high=body.get("max"),
                integer=bool(body.get("integer", False)), source_ref=body.get("source"), where=where,
                defined_for=_optional_condition(body, "defined_for", where), **_wording(body),
                **_bindings(body, where))


def _bindings(body: Mapping[str, Any], where: Source) -> dict[str, Any]:
    """The fact's terminology bindings, each coding and unit with its pointer for AVN128."""
    codes = body.get("codes")
    at = where.pointer
    return {
        "value_codes": {value: _codings(items, at + ("codes", value)) for value, items in codes.items()}
        if isinstance(codes, Mapping) else {},
        "codes": _codings(codes, at + ("codes",)) if isinstance(codes, list) else (),
        "none_codes": _codings(body.get("none_codes", ()), at + ("none_codes",)),
        "unmapped_codes": _codings(body.get("unmapped_codes", ()), at + ("unmapped_codes",)),
        # str() first: a factor written 0.001 must stay exactly one thousandth.
        "units": tuple(UnitConversion(unit["code"], Decimal(str(unit["factor"])), at + ("units", i))
                       for i, unit in enumerate(body.get("units", ()))),
    }


def _codings(items: Any, pointer: tuple[Any, ...]) -> tuple[Coding, ...]:
    return tuple(Coding(item["system"], item["code"], item.get("display"), item.get("match") == "prefix",
                        pointer + (i,)) for i, item in enumerate(items))


def _optional_condition(body: Mapping[str, Any], key: str, where: Source) -> conditions.Condition | None:
    return conditions.parse(body[key], where.pointer + (key,)) if key in body else None


def _derived(name: str, body: Mapping[str, Any], where: Source) -> DerivedFact:
    cases = tuple((case["value"], conditions.parse(case["when"], where.pointer + ("cases", i, "when")))
                  for i, case in enumerate(body["cases"]))
    return DerivedFact(name=name, label=body["label"], values=tuple(body["values"]), cases=cases,
                       otherwise=body.get("otherwise"), where=where,
                       defined_for=_optional_condition(body, "defined_for", where), **_wording(body))


def _wording(body: Mapping[str, Any]) -> dict[str, Any]:
    """A fact's value labels and description, as people read them (the logic never does)."""
    labels = body.get("labels") or {}
    return {"value_labels": tuple((value, str(labels[value])) for value in body.get("values", ()) if value in labels),
            "description": " ".join(str(body["description"]).split()) if body.get("description") else None}


def _intervention(name: str, body: Mapping[str, Any], where: Source) -> Intervention:
    dose = {param: DoseParameter(param, spec["unit"], spec["min"], spec["max"], spec.get("per_kg_of"),
                                 tuple(spec.get("written_as", ())), spec.get("label"))
            for param, spec in (body.get("dose") or {}).items()}
    # An exercise is its id alone, or a mapping with its id, a label and the cases it loads.
    exercises = [_exercise(item, where.at("exercises", index))
                 for index, item in enumerate(body.get("exercises", ()))]
    return Intervention(name=name, label=body["label"], dose=dose, levels=tuple(body.get("levels", ())),
                        exercises=tuple(exercise.id for exercise in exercises),
                        exercise_details={exercise.id: exercise for exercise in reversed(exercises)})


def _exercise(item: Any, where: Source) -> Exercise:
    if isinstance(item, str):
        return Exercise(item, where=where)
    return Exercise(item["id"], item.get("label"), _optional_condition(item, "loads", where), where)


def reference(raw: Mapping[str, Any], where: Source) -> Reference:
    covers = raw.get("covers")
    return Reference(
        id=raw["id"], title=raw["title"], population=raw["population"], topics=tuple(raw["topics"]),
        covers=tuple(covers) if covers is not None else None, doi=raw.get("DOI"), pmid=raw.get("PMID"),
        pmcid=raw.get("PMCID"), design=raw.get("design"), status=raw.get("status", "active"), where=where,
        csl=dict(raw),
    )


def _dose_range(value: Any) -> tuple[float, float]:
    if isinstance(value, list):
        return (value[0], value[1])
    return (value, value)


_COMPACT_JSON = json.JSONEncoder(separators=(",", ":")).encode


def _word(value: Any) -> Any:
    """One shared string for a word that thousands of recommendations repeat (a status, a
    reference's id, a date: docs/performance.md, "Locating findings and memory"); anything else
    as it is."""
    return sys.intern(value) if type(value) is str else value


def _review(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {_word(key): [_word(item) for item in value] if type(value) is list else _word(value)
            for key, value in raw.items()}


def recommendation(raw: Mapping[str, Any], topic: str, where: Source) -> Recommendation:
    action_raw = raw["action"]
    action = Action(kind=_word(action_raw["kind"]), target=_word(action_raw["target"]),
                    dose={k: _dose_range(v) for k, v in (action_raw.get("dose") or {}).items()},
                    level=_word(action_raw.get("level")), exercises=tuple(map(_word, action_raw.get("exercises", ()))))
    evidence = raw["evidence"]
    effective = raw.get("effective") or {}
    return Recommendation(
        id=raw["id"], version=_word(raw["version"]), status=_word(raw["status"]), title=raw["title"],
        statement=raw["statement"], plain_language=raw["plain_language"], topic=topic,
        population=_word(raw["population"]), when=conditions.parse(raw["when"], where.pointer + ("when",)),
        action=action, strength=_word(raw["strength"]["level"]), direction=_word(raw["strength"]["direction"]),
        certainty=_word(raw["certainty"]), indirect=evidence["indirect"], indirect_reason=evidence.get("reason"),
        expert_opinion=bool(evidence.get("expert_opinion", False)), evidence_summary=evidence.get("summary"),
        citations=tuple(Citation(_word(c["ref"]), _word(c.get("locator")), c.get("note"), where.at("citations", i))
                        for i, c in enumerate(raw["citations"])),
        overrides=tuple(map(_word, raw.get("overrides", ()))), supersedes=tuple(map(_word, raw.get("supersedes", ()))),
        effective_from=_word(effective.get("from")), effective_until=_word(effective.get("until")),
        review=_review(raw.get("review") or {}),
        acceptances=tuple(Acceptance(a["code"], a["reason"], where.at("accepted", i))
                          for i, a in enumerate(raw.get("accepted", ()))),
        rationale=raw.get("rationale"), retired_reason=raw.get("retired_reason"), where=where,
        when_json=_COMPACT_JSON(raw["when"]),
    )


def golden_case(raw: Mapping[str, Any], where: Source) -> GoldenCase:
    expect = {key: tuple(raw["expect"].get(key, ())) for key in ("apply", "not_apply", "undecided", "overridden")}
    return GoldenCase(id=raw["id"], title=raw["title"], facts=dict(raw["facts"]), expect=expect,
                      as_of=raw.get("as_of"), where=where)
