"""The pieces every exported FHIR resource shares: the published URLs and codes, the profiles it
claims, the readable narrative, the notice marking and the applicability expression, whose
language element differs between R4 and R5 (docs/interop.md gives the sources and the reasons)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.notices import notices

# Extension and code system URLs as published by HL7 (sources cited in docs/interop.md).
STRENGTH_EXTENSION = "http://hl7.org/fhir/StructureDefinition/cqf-strengthOfRecommendation"
QUALITY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence"
DIRECTION_EXTENSION = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-directionOfRecommendation"
DATA_ABSENT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
STRENGTH_SYSTEM = "http://terminology.hl7.org/CodeSystem/recommendation-strength"
QUALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/evidence-quality"
DIRECTION_SYSTEM = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-recommendation-direction-cs"
PLAN_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
USAGE_CONTEXT_SYSTEM = "http://terminology.hl7.org/CodeSystem/usage-context-type"
# Our own media type for the structured condition (the language of avn_kb.model.conditions as JSON).
CONDITION_LANGUAGE = "text/x-avn-kb-condition+json"
# Ours too, under the export's base URL: the extension that names that language in R4, whose JSON
# schema allows only text/cql, text/fhirpath and application/x-fhir-query in Expression.language.
CONDITION_LANGUAGE_EXTENSION = "/StructureDefinition/condition-language"

# The profiles each resource claims (R4 only: CPG 2.0.0 and CRMI 1.0.0 are built on FHIR 4.0.1).
# CPG: HL7/cqf-recommendations input/fsh/profiles (cpg-recommendationdefinition,
# cpg-computableactivity); CRMI: HL7/crmi-ig input/profiles and input/fsh/artifact-profiles.
PROFILES = {
    "PlanDefinition": ["http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-recommendationdefinition",
                       "http://hl7.org/fhir/uv/crmi/StructureDefinition/crmi-shareableplandefinition"],
    "ActivityDefinition": ["http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-computableactivity",
                           "http://hl7.org/fhir/uv/crmi/StructureDefinition/crmi-shareableactivitydefinition"],
}
XHTML = "http://www.w3.org/1999/xhtml"


def coded(extension: str, system: str, code: str, display: str) -> dict[str, Any]:
    """An extension whose value is one coding."""
    return {"url": extension, "valueCodeableConcept": {"coding": [{"system": system, "code": code,
                                                                   "display": display}]}}


def narrative(paragraphs: list[str]) -> dict[str, Any]:
    """A generated narrative of plain-text paragraphs, each escaped: no knowledge text can add markup.
    The first paragraph is the heading, in bold."""
    body = "".join(f"<p><b>{html.escape(p)}</b></p>" if i == 0 else f"<p>{html.escape(p)}</p>"
                   for i, p in enumerate(paragraphs))
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{body}</div>'}


def applicability(when: Any, description: str, version: str, base: str) -> dict[str, Any]:
    """The condition as a FHIR Expression: the readable words, and the `when` mapping as compact JSON
    in our language. R5 takes any code as the language; R4's JSON schema does not, so there the
    language element has no value, the standard data-absent-reason `unsupported` and our extension
    naming the language."""
    expression: dict[str, Any] = {"description": description}
    if version == "R5":
        expression["language"] = CONDITION_LANGUAGE
    else:
        expression["_language"] = {"extension": [
            {"url": DATA_ABSENT_EXTENSION, "valueCode": "unsupported"},
            {"url": base + CONDITION_LANGUAGE_EXTENSION, "valueCode": CONDITION_LANGUAGE}]}
    expression["expression"] = json.dumps(when, ensure_ascii=False, separators=(",", ":"))
    return {"kind": "applicability", "expression": expression}


def notice_tag(note: str, base: str) -> dict[str, str]:
    """The meta tag of a notice: a stable code (`incomplete` for the banner of a knowledge base that
    did not load whole, `notice` for the manifest's notice) and the notice as its display."""
    return {"system": f"{base}/notice", "code": "incomplete" if note.startswith("INCOMPLETE:") else "notice",
            "display": note}


def marking(kb: KnowledgeBase, kind: str, version: str, base: str) -> dict[str, Any]:
    """What each resource of `kind` carries besides its own content: `meta` (the profiles it claims
    in R4, and the manifest's notice as a tag like the Bundle's), `experimental` (true with a
    notice), `publisher` (the manifest's) and the notice as its `usage`. A resource taken out of
    the Bundle and used alone keeps all of it."""
    note = notices(kb)[0] if kb.manifest is not None and kb.manifest.notice else None
    meta: dict[str, Any] = {}
    if version == "R4":
        meta["profile"] = list(PROFILES[kind])
    if note is not None:
        meta["tag"] = [notice_tag(note, base)]
    out: dict[str, Any] = {"meta": meta} if meta else {}
    out["experimental"] = note is not None
    publisher = kb.manifest.publisher if kb.manifest is not None else None
    if publisher:
        out["publisher"] = publisher
    if note is not None:
        out["usage"] = note
    return out


def part(mark: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The elements `keys` of `marking` that it has, to place in element order."""
    return {key: mark[key] for key in keys if key in mark}
