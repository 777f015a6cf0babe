"""The knowledge base as a FHIR R4 or R5 Bundle (type collection), after the HL7 CPG-on-FHIR
recommendation pattern: one PlanDefinition (type eca-rule) per recommendation whose single action
carries the applicability condition, the strength, direction and certainty extensions and a
definitionCanonical to an ActivityDefinition for what to do. The mapping, with its sources and
what does not map, is in docs/interop.md. The output is plain data: no FHIR library is needed to
build it (the tests validate it with the official FHIR JSON schemas, the npm `fhir` validator
and the `fhir.resources` models).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from avn_kb.lang import actions
from avn_kb.model import conditions
from avn_kb.model.knowledge import Citation, KnowledgeBase, Recommendation, Reference
from avn_kb.output.citations import formatted, links
from avn_kb.output.fhir.parts import (
    DIRECTION_EXTENSION,
    DIRECTION_SYSTEM,
    PLAN_TYPE_SYSTEM,
    QUALITY_EXTENSION,
    QUALITY_SYSTEM,
    STRENGTH_EXTENSION,
    STRENGTH_SYSTEM,
    USAGE_CONTEXT_SYSTEM,
    applicability,
    coded,
    marking,
    narrative,
    notice_tag,
    part,
)

VERSIONS = ("R4", "R5")
DEFAULT_BASE = "https://avn-kb.org/fhir"

STATUS = {"draft": "draft", "submitted": "draft", "under-review": "draft", "approved": "active",
          "retired": "retired"}
# GRADE's "conditional" recommendation is the "weak" of the HL7 rating scale.
STRENGTH = {"strong": ("strong", "Strong"), "conditional": ("weak", "Weak")}
QUALITY = {"high": "High quality", "moderate": "Moderate quality", "low": "Low quality",
           "very-low": "Very low quality"}
DIRECTION = {"for": "For", "against": "Against"}
# How one recommendation names the one it supersedes, and the reverse, in each version.
SUPERSEDES = {"R4": ("predecessor", "successor"), "R5": ("replaces", "replaced-with")}


def computable_name(rec_id: str, suffix: str = "") -> str:
    """A FHIR `name` (starts with a capital, letters, digits and _ only): RT-001 -> RT_001."""
    return re.sub(r"[^A-Za-z0-9_]", "_", rec_id) + suffix


def _plan_narrative(rec: Recommendation) -> dict[str, Any]:
    """The readable form: what a person sees, including what has no structured place."""
    rows = [f"{rec.id} {rec.title} ({rec.status}, version {rec.version})", rec.statement,
            f"For patients: {rec.plain_language}",
            f"Applies when: {conditions.describe(rec.when)}. Action: {actions.describe(rec.action)}.",
            f"Strength: {rec.strength}, {rec.direction}; certainty: {rec.certainty}"]
    if rec.indirect:
        rows.append(f"Indirect evidence: {rec.indirect_reason or ''}")
    if rec.overrides:
        rows.append(f"Overrides: {', '.join(rec.overrides)}")
    return narrative(rows)


def _dates(rec: Recommendation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rec.review.get("approved_on"):
        out["approvalDate"] = rec.review["approved_on"]
    if rec.review.get("last_reviewed"):
        out["lastReviewDate"] = rec.review["last_reviewed"]
    period = {k: v for k, v in (("start", rec.effective_from), ("end", rec.effective_until)) if v}
    if period:
        out["effectivePeriod"] = period
    return out


def _related_citation(citation: Citation, ref: Reference | None, version: str) -> dict[str, Any]:
    found = links(ref) if ref is not None else []
    # One URL fits in the artifact; every identifier (DOI, PMID, PMCID) goes in the citation text.
    text = " ".join([formatted(ref) if ref is not None else citation.ref] + [label for label, _ in found])
    if citation.locator:
        text += f" ({citation.locator})"
    artifact: dict[str, Any] = {"type": "citation", "label": citation.ref, "citation": text,
                                "display": citation.note or (ref.title if ref else citation.ref)}
    if found:
        # R5 dropped RelatedArtifact.url; the link goes in the document attachment there.
        url = found[0][1]
        artifact.update({"url": url} if version == "R4" else {"document": {"url": url}})
    return artifact


@dataclass(frozen=True)
class Lookup:
    """What every resource of one export looks up: the references by id, and who supersedes
    whom. Built once per Bundle (rebuilding it per recommendation made the export quadratic)."""

    references: Mapping[str, Reference]
    superseded_by: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, kb: KnowledgeBase) -> Lookup:
        superseded_by: dict[str, list[str]] = {}
        for rec in kb.recommendations:
            for old in rec.supersedes:
                superseded_by.setdefault(old, []).append(rec.id)
        return cls({ref.id: ref for ref in kb.references}, {k: tuple(v) for k, v in superseded_by.items()})


def _related(rec: Recommendation, lookup: Lookup, version: str, base: str) -> list[dict[str, Any]]:
    related = [_related_citation(c, lookup.references.get(c.ref), version) for c in rec.citations]
    forward, backward = SUPERSEDES[version]
    related += [{"type": forward, "label": old, "resource": f"{base}/PlanDefinition/{old}"} for old in rec.supersedes]
    related += [{"type": backward, "label": newer, "resource": f"{base}/PlanDefinition/{newer}"}
                for newer in lookup.superseded_by.get(rec.id, ())]
    return related


def _reviewers(rec: Recommendation, kb: KnowledgeBase) -> list[dict[str, Any]]:
    board = kb.manifest.board if kb.manifest else {}
    return [{"name": f"{who} ({board[who]})" if who in board else who} for who in rec.review.get("reviewers", ())]


def _label(kb: KnowledgeBase, section: str, name: str) -> str:
    vocabulary = kb.vocabulary
    if vocabulary is None:
        return name
    if section == "topics":
        return vocabulary.topic_label(name)
    intervention = vocabulary.interventions.get(name)
    return intervention.label if intervention else name


def plan_definition(rec: Recommendation, kb: KnowledgeBase, version: str, base: str,
                    lookup: Lookup | None = None) -> dict[str, Any]:
    """The PlanDefinition of one recommendation (`lookup`: Lookup.of(kb), passed when exporting many)."""
    action: dict[str, Any] = {
        "extension": [
            coded(STRENGTH_EXTENSION, STRENGTH_SYSTEM, *STRENGTH[rec.strength]),
            coded(QUALITY_EXTENSION, QUALITY_SYSTEM, rec.certainty, QUALITY[rec.certainty]),
            coded(DIRECTION_EXTENSION, DIRECTION_SYSTEM, rec.direction, DIRECTION[rec.direction]),
        ],
        "title": rec.title,
        "description": rec.statement,
        "condition": [applicability(rec.when_written, conditions.describe(rec.when), version, base)],
        "definitionCanonical": f"{base}/ActivityDefinition/{rec.id}-activity",
    }
    mark = marking(kb, "PlanDefinition", version, base)
    resource: dict[str, Any] = {
        "resourceType": "PlanDefinition", "id": rec.id, **part(mark, "meta"), "text": _plan_narrative(rec),
        "url": f"{base}/PlanDefinition/{rec.id}",
        "identifier": [{"system": f"{base}/recommendation-id", "value": rec.id}],
        "version": rec.version, "name": computable_name(rec.id), "title": rec.title,
        "type": {"coding": [{"system": PLAN_TYPE_SYSTEM, "code": "eca-rule", "display": "ECA Rule"}]},
        "status": STATUS[rec.status], **part(mark, "experimental", "publisher"), "description": rec.statement,
        "useContext": [{"code": {"system": USAGE_CONTEXT_SYSTEM, "code": "focus"}, "valueCodeableConcept": {
            "coding": [{"system": f"{base}/CodeSystem/population", "code": rec.population}],
            "text": rec.population}}],
        **({"purpose": rec.rationale} if rec.rationale else {}),
        **part(mark, "usage"),
        **_dates(rec),
        "topic": [{"coding": [{"system": f"{base}/CodeSystem/topic", "code": rec.topic}],
                   "text": _label(kb, "topics", rec.topic)}],
        "reviewer": _reviewers(rec, kb),
        "relatedArtifact": _related(rec, lookup or Lookup.of(kb), version, base),
        "action": [action],
    }
    return {key: value for key, value in resource.items() if value != []}


def activity_definition(rec: Recommendation, kb: KnowledgeBase, base: str, version: str = "R4") -> dict[str, Any]:
    """What the recommendation's action asks for; dose, level and exercises only as text."""
    target = rec.action.target
    label = _label(kb, "interventions", target)
    mark = marking(kb, "ActivityDefinition", version, base)
    title, description = f"{rec.action.kind} {label}", actions.describe(rec.action)
    return {
        "resourceType": "ActivityDefinition", "id": f"{rec.id}-activity", **part(mark, "meta"),
        "text": narrative([f"{title} ({rec.id}, {rec.status}, version {rec.version})", description]),
        "url": f"{base}/ActivityDefinition/{rec.id}-activity", "version": rec.version,
        "name": computable_name(rec.id, "_activity"), "title": title,
        "status": STATUS[rec.status], **part(mark, "experimental", "publisher"), "description": description,
        **part(mark, "usage"), **_dates(rec),
        "kind": "ServiceRequest",
        "code": {"coding": [{"system": f"{base}/CodeSystem/intervention", "code": target, "display": label}],
                 "text": label},
        "intent": "proposal", "doNotPerform": rec.action.kind == "avoid",
    }


def bundle(kb: KnowledgeBase, version: str = "R4", base: str = DEFAULT_BASE,
           notes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The whole knowledge base as a collection Bundle: PlanDefinition then ActivityDefinition for
    each recommendation, in the order they were loaded (so output is stable for diffs). `notes`
    (avn_kb.output.notices) become the Bundle's meta tags, where every reader of the Bundle sees them."""
    if version not in VERSIONS:
        raise ValueError(f"FHIR version {version!r} is not one of {', '.join(VERSIONS)}")
    base = base.rstrip("/")
    entries = []
    lookup = Lookup.of(kb)
    for rec in kb.recommendations:
        for resource in (plan_definition(rec, kb, version, base, lookup), activity_definition(rec, kb, base, version)):
            entries.append({"fullUrl": resource["url"], "resource": resource})
    manifest = kb.manifest
    out: dict[str, Any] = {"resourceType": "Bundle", "id": manifest.id if manifest else "avn-kb", "type": "collection"}
    if notes:
        out["meta"] = {"tag": [notice_tag(note, base) for note in notes]}
    if manifest is not None:
        out["identifier"] = {"system": f"{base}/knowledge-base", "value": f"{manifest.id}-{manifest.version}"}
    out["entry"] = entries
    return out
