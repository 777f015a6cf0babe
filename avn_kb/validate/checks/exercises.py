"""Exercises that load the affected part, prescribed where they do (AVN309).

An exercise may declare in the vocabulary the cases in which it loads the affected part
(`loads`, a condition). An approved recommendation that prescribes it, with a condition that admits
such a case, is reported with a witness case: the search decides exactly, over real cases only
(facts that agree, and are given only where they are defined). Where the loading is intended,
accept the finding with a reason (`accepted: [{code: AVN309, reason: ...}]`).

Passing:  exercises: [{id: leg-press, loads: {region: lower-limb}}] in the vocabulary;
          RT-002 do resistive-training when {region: upper-limb}, exercises: [leg-press]
Failing:  RT-001 do resistive-training when {region: lower-limb}, exercises: [leg-press]
          -> AVN309 with witness {site: femoral-head}
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from itertools import groupby

from avn_kb.lang.exercise_loads import prescribed_loads
from avn_kb.lang.search import CaseSearch, SearchTooLarge
from avn_kb.model.conditions import describe
from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Recommendation, Vocabulary
from avn_kb.validate.checks.context import CheckContext
from avn_kb.validate.checks.logic import show_case
from avn_kb.validate.checks.terms import well_formed
from avn_kb.validate.units import SearchRun


def check_loading_exercises(ctx: CheckContext, run: SearchRun) -> Iterator[Finding]:
    """AVN309 (or AVN306) per file of recommendations, each file's kept as one unit (a warm run
    searches only the files an edit changed; what a unit reads is the vocabulary and its
    recommendations, which is what it is kept under)."""
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    searches: list[CaseSearch] = []  # one, built only when some exercise declares what it loads
    for _path, in_file in groupby(ctx.kb.recommendations, key=lambda rec: rec.where.path):
        recs = tuple(in_file)
        if any(rec.status == "approved" and rec.action.exercises for rec in recs):
            yield from run.once("loading exercises in file", recs,
                                partial(_loading_in, vocabulary, run, searches, recs))


def _loading_in(vocabulary: Vocabulary, run: SearchRun, searches: list[CaseSearch],
                recs: tuple[Recommendation, ...]) -> tuple[Finding, ...]:
    found = []
    for rec in recs:
        if rec.status != "approved":
            continue
        for index, exercise, loads in prescribed_loads(vocabulary, rec.action):
            if not (well_formed(vocabulary, rec.when) and well_formed(vocabulary, loads)):
                continue  # reported by the term checks, once
            if not searches:
                searches.append(CaseSearch(vocabulary, budget=run.budget))
            here = rec.where.pointer + ("action", "exercises", index)
            try:
                witness = searches[0].find([rec.when, loads])
            except SearchTooLarge as err:
                found.append(issue("AVN306", rec.where.path, here,
                                   f"could not decide whether {rec.id} prescribes {exercise} in a case it loads: "
                                   f"{err}; simplify the conditions", ids=(rec.id,)))
                continue
            if witness is not None:
                found.append(issue(
                    "AVN309", rec.where.path, here,
                    f"{rec.id} prescribes {exercise}, which loads the affected part where {describe(loads)}, "
                    f"in a case its condition admits: {show_case(witness)}; remove {exercise} from the "
                    f"action, narrow the condition to exclude such cases, or accept AVN309 with a reason",
                    ids=(rec.id,), witness=witness))
    return tuple(found)
