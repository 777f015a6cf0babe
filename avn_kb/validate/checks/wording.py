"""Text that disagrees with the data (AVN308): a statement or plain-language text giving a dose,
in the words the vocabulary declares for a dose parameter (`written_as`, read by
avn_kb/dose_text.py), that is not the recommendation's structured dose, or that the structured
dose does not carry at all. A clinician reads the text and the resolver uses the data, so both
must say the same. Retired recommendations are left out: nobody is given them.

With `intensity_pct_1rm: {..., written_as: ["% of 1RM", "%"]}` in the vocabulary:

Passing:  statement: "... at 40-60% of 1RM ..."        dose: {intensity_pct_1rm: [40, 60]}
          statement: "Light resistive training."       dose: {}               (no dose in the text)
Failing:  statement: "... at 40-60% of 1RM ..."        dose: {intensity_pct_1rm: [50, 70]}
          -> AVN308 at `statement`: the text says 40-60, the dose 50-70
          statement: "... at 40-60% of 1RM ..."        dose: {sets: [1, 3]}
          -> AVN308 at `statement`: the text gives an intensity the dose does not carry
"""

from __future__ import annotations

from collections.abc import Iterator

from avn_kb.lang.actions import span
from avn_kb.lang.dose_text import DoseReader, Mention, readers
from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Recommendation
from avn_kb.validate.checks.context import CheckContext, Judge, judges_nothing


def judge_dose_wording(ctx: CheckContext) -> Judge:
    """AVN308 for every dose a text gives that is not the structured dose."""
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return judges_nothing
    by_target = readers(vocabulary.interventions)

    def judge(rec: Recommendation) -> Iterator[Finding]:
        found = by_target.get(rec.action.target)
        if found is not None and rec.status != "retired":
            yield from _disagreements(rec, found)
    return judge


def check_ambiguous_dose_words(ctx: CheckContext) -> Iterator[Finding]:
    """AVN308 for words declared for two parameters of one intervention."""
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    for target, reader in readers(vocabulary.interventions).items():
        for phrase, first, other, index in reader.ambiguous:
            yield issue("AVN308", vocabulary.where.path,
                        ("interventions", target, "dose", other, "written_as", index),
                        f"{target}: {phrase!r} is written_as of both {first} and {other}, so a number before it "
                        f"cannot be checked against either: keep it on one of them")


def _disagreements(rec: Recommendation, reader: DoseReader) -> Iterator[Finding]:
    for field, text in (("statement", rec.statement), ("plain_language", rec.plain_language)):
        for mention in reader.mentions(text):
            dose = rec.action.dose.get(mention.parameter)
            if dose is None or not mention.agrees(dose):
                yield issue("AVN308", rec.where.path, rec.where.pointer + (field,),
                            _message(rec, field, mention, dose), ids=(rec.id,))


def _message(rec: Recommendation, field: str, mention: Mention, dose: tuple[float, float] | None) -> str:
    said = f'{rec.id}: the {field} says "{mention.text}" ({mention.parameter} {mention.describe()})'
    if dose is None:
        return (f"{said} but the structured dose has no {mention.parameter}: add it to `action.dose`, or take the "
                "number out of the text")
    return (f"{said} but the structured dose gives {mention.parameter} {span(*dose)}: make the text and "
            f"`action.dose.{mention.parameter}` agree")
