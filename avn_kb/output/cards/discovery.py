"""The CDS Hooks discovery entry of the `patient-view` service, with the prefetch templates that
bring what the vocabulary binds (the patient, active Conditions, the Observations of each bound
number fact), and the reading of a request's prefetch back into resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from avn_kb.load.fhir_case import ACTIVE, resources_in
from avn_kb.model.bindings import LOINC
from avn_kb.model.knowledge import KnowledgeBase

HOOK = "patient-view"
PATIENT_KEY = "patient"
CONDITIONS_KEY = "conditions"
OBSERVATIONS_PREFIX = "observations-"


def prefetch_templates(kb: KnowledgeBase) -> dict[str, str]:
    """The queries a CDS client runs for the service. Conditions in any active status (recurrence
    and relapse are active too); the Observations of each number fact bound to LOINC codes."""
    patient = "{{context.patientId}}"
    templates = {PATIENT_KEY: f"Patient/{patient}",
                 CONDITIONS_KEY: f"Condition?patient={patient}&clinical-status={','.join(ACTIVE)}"}
    facts = kb.vocabulary.facts.values() if kb.vocabulary else ()
    for fact in facts:
        codes = [f"{LOINC}|{coding.code}" for coding in fact.codes if coding.system == LOINC]
        if fact.type == "number" and codes:
            templates[OBSERVATIONS_PREFIX + fact.name] = f"Observation?patient={patient}&code={','.join(codes)}"
    return templates


def discovery(kb: KnowledgeBase, service_id: str = "avn-kb") -> dict[str, Any]:
    """The discovery document (`GET /cds-services`) with the one patient-view service."""
    manifest = kb.manifest
    title = f"{manifest.title} {manifest.version}" if manifest else kb.root
    service: dict[str, Any] = {
        "hook": HOOK, "id": service_id, "title": title,
        "description": "Advice for the patient in view, from the knowledge base, read from the patient's active "
                       "conditions and latest observations; facts the record does not show are asked for.",
        "prefetch": prefetch_templates(kb),
    }
    if manifest and manifest.notice:
        service["usageRequirements"] = manifest.notice
    return {"services": [service]}


def missing_prefetch(kb: KnowledgeBase, prefetch: Mapping[str, Any] | None) -> dict[str, str]:
    """The templates whose key the request leaves out: the client could not satisfy them, so the
    service fetches them itself (a key given as null means the client has no such data)."""
    given = prefetch or {}
    return {key: query for key, query in prefetch_templates(kb).items() if key not in given}


def prefetched(prefetch: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, list[Any], list[Any]]:
    """(patient, conditions, observations) from a request's `prefetch`, or from the same keys
    filled by the service's own queries. A null, an OperationOutcome or a key left out gives
    nothing: the facts it would have shown stay missing."""
    patient = prefetch.get(PATIENT_KEY)
    observations = [resource for key, bundle in sorted(prefetch.items()) if key.startswith(OBSERVATIONS_PREFIX)
                    for resource in resources_in(bundle)]
    is_patient = isinstance(patient, Mapping) and patient.get("resourceType") == "Patient"
    return (patient if is_patient else None, resources_in(prefetch.get(CONDITIONS_KEY)), observations)
