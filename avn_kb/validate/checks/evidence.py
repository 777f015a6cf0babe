"""Evidence integrity (AVN205-AVN210): citations that are on topic, that cover what they are cited
for, indirectness declared, certainty no higher than the evidence, locators where policy wants them.

Passing:  RT-001 (topic resistive-training, population avn) cites williams-2007-aha (topics
          [resistive-training], population cardiovascular-disease) with
          evidence: {indirect: true, reason: "dose from cardiac rehabilitation"}, certainty low.
Failing:  the same without `indirect: true` (AVN206); citing a heart-failure reference whose topics
          are [heart-failure] (AVN205); certainty high (AVN207); citing a talus review whose
          `covers` does not list total-contact-cast for a cast recommendation (AVN210).
"""

from __future__ import annotations

from collections.abc import Iterator

from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Recommendation, Reference, Vocabulary
from avn_kb.validate.checks.context import CheckContext, Judge


def _same_population(vocabulary: Vocabulary | None, a: str, b: str) -> bool:
    if vocabulary is None:
        return a == b
    return a in vocabulary.lineage(b) or b in vocabulary.lineage(a)


def judge_citation_fit(ctx: CheckContext) -> Judge:
    references = {ref.id: ref for ref in ctx.kb.references}
    policy_locator = ctx.kb.manifest.locator_required if ctx.kb.manifest else False

    def judge(rec: Recommendation) -> Iterator[Finding]:
        for citation in rec.citations:
            here = citation.where
            if policy_locator and not citation.locator:
                yield issue("AVN208", here.path, here.pointer + ("ref",),
                            f"{rec.id} cites {citation.ref} without a locator; the policy requires one: add "
                            "`locator:` (page, table or section)", ids=(rec.id, citation.ref))
            ref = references.get(citation.ref)
            if ref is None:
                continue
            if rec.topic and rec.topic not in ref.topics:
                yield issue("AVN205", here.path, here.pointer + ("ref",),
                            f"{rec.id} ({rec.topic}) cites {ref.id}, whose topics ({', '.join(ref.topics)}) do "
                            f"not include {rec.topic}: cite a source on the subject or correct the "
                            "reference's topics", ids=(rec.id, ref.id))
            if ref.covers is not None and rec.action.target not in ref.covers:
                yield issue("AVN210", here.path, here.pointer + ("ref",),
                            f"{rec.id} is about {rec.action.target}, but {ref.id} covers only "
                            f"{', '.join(ref.covers)}: cite the publication the claim comes from",
                            ids=(rec.id, ref.id))
            if ref.status == "retired":
                yield issue("AVN209", here.path, here.pointer + ("ref",),
                            f"{rec.id} cites {ref.id}, which is retired: replace the citation",
                            ids=(rec.id, ref.id))
    return judge


def judge_indirectness(ctx: CheckContext) -> Judge:
    vocabulary = ctx.kb.vocabulary
    references = {ref.id: ref for ref in ctx.kb.references}

    def judge(rec: Recommendation) -> Iterator[Finding]:
        cited: list[Reference] = [references[c.ref] for c in rec.citations if c.ref in references]
        if not cited or rec.indirect:
            return
        if not any(_same_population(vocabulary, rec.population, ref.population) for ref in cited):
            studied = ", ".join(sorted({f"{ref.id}: {ref.population}" for ref in cited}))
            yield issue("AVN206", rec.where.path, rec.where.pointer + ("evidence",),
                        f"{rec.id} is for {rec.population}, but every reference it cites studied another "
                        f"population ({studied}): set `evidence: {{indirect: true, reason: ...}}` and lower "
                        "the certainty, or cite direct evidence", ids=(rec.id,))
    return judge


def judge_certainty(_ctx: CheckContext) -> Judge:
    return _certainty


def _certainty(rec: Recommendation) -> Iterator[Finding]:
    basis = None
    if rec.certainty == "high" and rec.indirect:
        basis = "indirect evidence"
    elif rec.certainty in ("high", "moderate") and rec.expert_opinion:
        basis = "expert opinion alone"
    if basis:
        yield issue("AVN207", rec.where.path, rec.where.pointer + ("certainty",),
                    f"{rec.id}: certainty {rec.certainty} rests on {basis}; GRADE rates it down: lower it",
                    ids=(rec.id,))
