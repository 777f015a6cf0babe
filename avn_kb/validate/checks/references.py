"""The bibliography: citations that resolve, references that are used, identifiers that are
well-formed and unique (AVN201-AVN204).

Passing:  citations: [{ref: mont-1996}] with mont-1996 in references.yaml, DOI 10.1097/...
Failing:  citations: [{ref: article-ref-5}] with no such entry (AVN201); a reference nobody cites
          (AVN202); two entries with PMID "8595753" (AVN203); DOI "https://doi.org/10.1/x" or
          PMID "PMC123" (AVN204).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Recommendation
from avn_kb.validate.checks.context import CheckContext, Judge, judges_nothing

DOI = re.compile(r"^10\.[0-9]{4,9}/[-._;()/:<>\[\]A-Za-z0-9]+$")
PMID = re.compile(r"^[1-9][0-9]{0,8}$")
PMCID = re.compile(r"^PMC[0-9]{1,9}$")
_FORMS = {"DOI": (DOI, "a bare DOI such as 10.1097/00003086-199603000-00020 (no https://doi.org/ prefix)"),
          "PMID": (PMID, "digits only, such as \"8595753\""),
          "PMCID": (PMCID, "PMC followed by digits, such as PMC7152793")}


def judge_citations_resolve(ctx: CheckContext) -> Judge:
    if "references" in ctx.unloaded_kinds:
        return judges_nothing  # the bibliography itself is reported as unreadable; its ids are unknown, not missing
    known = ctx.kb.reference_ids()

    def judge(rec: Recommendation) -> Iterator[Finding]:
        for citation in rec.citations:
            if citation.ref not in known and citation.ref not in ctx.unbuilt_ids:
                yield issue("AVN201", citation.where.path, citation.where.pointer + ("ref",),
                            f"{rec.id} cites {citation.ref!r}, which is not in references.yaml: add the "
                            "reference or correct the id", ids=(rec.id, citation.ref))
    return judge


def check_fact_sources_resolve(ctx: CheckContext) -> Iterator[Finding]:
    """The sources the vocabulary's facts name."""
    if "references" in ctx.unloaded_kinds:
        return
    known = ctx.kb.reference_ids()
    vocabulary = ctx.kb.vocabulary
    if vocabulary is not None:
        for fact in vocabulary.facts.values():
            if fact.source_ref and fact.source_ref not in known:
                yield issue("AVN201", fact.where.path, fact.where.pointer + ("source",),
                            f"fact {fact.name} names source {fact.source_ref!r}, which is not in "
                            "references.yaml: add the reference or correct the id", ids=(fact.source_ref,))


def check_unused_references(ctx: CheckContext) -> Iterator[Finding]:
    if "recommendations" in ctx.unloaded_kinds:
        return  # citations in the unreadable file are unknown
    used = set(ctx.unbuilt_citations)
    for rec in ctx.kb.recommendations:
        used.update(c.ref for c in rec.citations)
    if ctx.kb.vocabulary is not None:
        used.update(f.source_ref for f in ctx.kb.vocabulary.facts.values() if f.source_ref)
    for ref in ctx.kb.references:
        if ref.id not in used:
            yield issue("AVN202", ref.where.path, ref.where.pointer + ("id",),
                        f"reference {ref.id} is not cited by any recommendation: cite it or remove it",
                        ids=(ref.id,))


def check_identifiers(ctx: CheckContext) -> Iterator[Finding]:
    seen: dict[tuple[str, str], str] = {}
    for ref in ctx.kb.references:
        for field, value in (("DOI", ref.doi), ("PMID", ref.pmid), ("PMCID", ref.pmcid)):
            if value is None:
                continue
            pattern, form = _FORMS[field]
            if not pattern.match(value):
                yield issue("AVN204", ref.where.path, ref.where.pointer + (field,),
                            f"{ref.id}: {field} {value!r} is malformed; write {form}", ids=(ref.id,))
                continue
            key = (field, value.lower())
            if key in seen:
                yield issue("AVN203", ref.where.path, ref.where.pointer + (field,),
                            f"{ref.id} has the same {field} {value} as {seen[key]}: merge the two entries",
                            ids=(ref.id, seen[key]))
            else:
                seen[key] = ref.id
