"""Case facts from FHIR R4 resources (a Patient, its Conditions and Observations), read through
the vocabulary's terminology bindings. Pure: dicts in, facts out, nothing fetched.

Only what the data shows is given; every other fact stays missing, so that what depends on it is
undecided rather than guessed. In particular the absence of a Condition is never read as the
absence of a disease: a set fact is given only when a bound code says it is empty and no code
says otherwise (docs/interop.md, "Terminology bindings")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from avn_kb.lang.case_checks import case_problems
from avn_kb.load.fhir_observations import FINAL, Reading, effective_time, latest, number, value_of
from avn_kb.model.bindings import Coding
from avn_kb.model.knowledge import Fact, Vocabulary

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ACTIVE = ("active", "recurrence", "relapse")
# Not confirmed is not known: a provisional or differential diagnosis decides nothing.
UNCONFIRMED = ("unconfirmed", "provisional", "differential", "refuted", "entered-in-error")


@dataclass(frozen=True)
class Unread:
    """Something in the data that was not made a fact, and why. `resource`: "Condition/abc" (or
    the resource's index when it has no id); `fact`: the fact concerned, if any."""

    resource: str
    fact: str | None
    reason: str


@dataclass(frozen=True)
class FhirCase:
    facts: dict[str, Any]
    unread: tuple[Unread, ...]
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fact -> the resources it rests on


def resources_in(bundle: Any) -> list[Any]:
    """The resources of a FHIR Bundle (a searchset from prefetch or a search), in order."""
    entries = bundle.get("entry", []) if isinstance(bundle, Mapping) else []
    return [e["resource"] for e in entries if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)]


def next_page(bundle: Any) -> str | None:
    """The URL of a searchset Bundle's next page, if the server paged it: read the Conditions and
    Observations only once every page is in, or a later result or another diagnosis may be missed."""
    links = bundle.get("link", []) if isinstance(bundle, Mapping) else []
    return next((link["url"] for link in links if isinstance(link, Mapping) and link.get("relation") == "next"
                 and isinstance(link.get("url"), str)), None)


def case_from_fhir(vocabulary: Vocabulary, patient: Mapping[str, Any] | None, conditions: Sequence[Any],
                   observations: Sequence[Any]) -> FhirCase:
    """The case facts the resources show, what could not be read and why, and where each fact
    came from. Resources about another patient than `patient` are left out."""
    unread: list[Unread] = []
    facts: dict[str, Any] = {}
    sources: dict[str, tuple[str, ...]] = {}
    patient_ref = f"Patient/{patient['id']}" if isinstance(patient, Mapping) and "id" in patient else None
    active = [c for c in _usable(conditions, "Condition", patient_ref, unread) if _is_active(c[0], c[1], unread)]
    usable_observations = _usable(observations, "Observation", patient_ref, unread)
    for fact in vocabulary.facts.values():
        if fact.type in ("enum", "set") and (fact.value_codes or fact.none_codes or fact.unmapped_codes):
            read = _from_conditions(fact, active, unread)
        elif fact.type == "number" and fact.codes:
            read = _from_observations(fact, usable_observations, unread)
        else:
            continue
        if read is not None:
            facts[fact.name], sources[fact.name] = read
    for problem in case_problems(vocabulary, facts):
        # The facts the case checks refuse are left out, never corrected.
        unread.append(Unread(", ".join(sources.get(problem.fact, ())), problem.fact, problem.message))
        facts.pop(problem.fact, None)
        sources.pop(problem.fact, None)
    return FhirCase(facts, tuple(unread), sources)


def _usable(resources: Sequence[Any], kind: str, patient_ref: str | None,
            unread: list[Unread]) -> list[tuple[Mapping[str, Any], str]]:
    usable = []
    for index, resource in enumerate(resources):
        if not isinstance(resource, Mapping) or resource.get("resourceType") != kind:
            unread.append(Unread(f"{kind} #{index}", None, f"not a {kind} resource"))
            continue
        ref = f"{kind}/{resource['id']}" if isinstance(resource.get("id"), str) else f"{kind} #{index}"
        subject = resource.get("subject")
        subject_ref = subject.get("reference") if isinstance(subject, Mapping) else None
        if patient_ref is not None and subject_ref is not None and subject_ref != patient_ref:
            unread.append(Unread(ref, None, f"it is about {subject_ref}, not {patient_ref}"))
            continue
        usable.append((resource, ref))
    return usable


def _codes(concept: Any) -> list[tuple[str | None, str | None]]:
    codings = concept.get("coding", []) if isinstance(concept, Mapping) else []
    return [(c.get("system"), c.get("code")) for c in codings if isinstance(c, Mapping)]


def _status(concept: Any, system: str) -> str | None:
    return next((code for sys, code in _codes(concept) if sys == system), None)


def _is_active(condition: Mapping[str, Any], ref: str, unread: list[Unread]) -> bool:
    clinical = _status(condition.get("clinicalStatus"), CLINICAL)
    verification = _status(condition.get("verificationStatus"), VERIFICATION)
    if verification in UNCONFIRMED:
        unread.append(Unread(ref, None, f"its verification status is {verification}"))
        return False
    if clinical not in ACTIVE:
        unread.append(Unread(ref, None, f"its clinical status is {clinical or 'not given'}, not active"))
        return False
    return True


def _hits(codings: Sequence[Coding], codes: list[tuple[str | None, str | None]]) -> bool:
    return any(coding.matches(system, code) for coding in codings for system, code in codes)


def _from_conditions(fact: Fact, active: list[tuple[Mapping[str, Any], str]],
                     unread: list[Unread]) -> tuple[Any, tuple[str, ...]] | None:
    values: dict[str, list[str]] = {}  # value -> the Conditions that show it
    empty: list[str] = []
    unmapped: list[str] = []
    for condition, ref in active:
        codes = _codes(condition.get("code"))
        shown = [value for value, codings in fact.value_codes.items() if _hits(codings, codes)]
        for value in shown:
            values.setdefault(value, []).append(ref)
        if not shown and _hits(fact.unmapped_codes, codes):
            unmapped.append(ref)
        if _hits(fact.none_codes, codes):
            empty.append(ref)
    for ref in unmapped:
        unread.append(Unread(ref, fact.name, f"its code concerns {fact.name} but gives none of its values"))
    if fact.type == "set":
        return _set_from(fact, values, empty, unmapped, unread)
    if len(values) > 1:
        listed = "; ".join(f"{value} ({', '.join(refs)})" for value, refs in sorted(values.items()))
        unread.append(Unread(", ".join(sorted({r for refs in values.values() for r in refs})), fact.name,
                             f"Conditions give {fact.name} more than one value: {listed}"))
        return None
    if values and not unmapped:
        value, refs = next(iter(values.items()))
        return value, tuple(refs)
    return None


def _set_from(fact: Fact, values: dict[str, list[str]], empty: list[str], unmapped: list[str],
              unread: list[Unread]) -> tuple[Any, tuple[str, ...]] | None:
    for value, refs in sorted(values.items()):
        unread.append(Unread(", ".join(refs), fact.name,
                             f"shows {value} among {fact.name}, but Conditions cannot show that nothing else is: "
                             f"{fact.name} stays missing"))
    if empty and (values or unmapped):
        unread.append(Unread(", ".join(empty), fact.name,
                             f"says no {fact.name} were found, but other Conditions show some"))
        return None
    return ([], tuple(empty)) if empty else None


def _from_observations(fact: Fact, observations: list[tuple[Mapping[str, Any], str]],
                       unread: list[Unread]) -> tuple[Any, tuple[str, ...]] | None:
    readings: list[Reading] = []
    for observation, ref in observations:
        if not _hits(fact.codes, _codes(observation.get("code"))):
            continue
        status = observation.get("status")
        if status not in FINAL:
            unread.append(Unread(ref, fact.name, f"its status is {status}, not final, amended or corrected"))
            continue
        interval = effective_time(observation)
        if interval is None:
            # Without a time it might be the latest result: no other can be given as the latest.
            unread.append(Unread(ref, fact.name, f"it has no effective time, so the latest {fact.name} is not known"))
            return None
        value, problem = value_of(fact, observation)
        readings.append(Reading(ref, interval[0], interval[1], value, problem))
    if not readings:
        return None
    value, problem, refs = latest(readings)
    if value is None:
        unread.append(Unread(", ".join(refs), fact.name, problem))
        return None
    return number(value), refs
