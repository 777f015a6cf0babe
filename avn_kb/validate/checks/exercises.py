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

from avn_kb.lang.exercise_loads import prescribed_loads
from avn_kb.lang.search import CaseSearch, SearchTooLarge
from avn_kb.model.conditions import describe
from avn_kb.model.findings import Finding, issue
from avn_kb.validate.checks.context import CheckContext
from avn_kb.validate.checks.logic import show_case
from avn_kb.validate.checks.terms import well_formed
from avn_kb.validate.units import SearchRun


def check_loading_exercises(ctx: CheckContext, run: SearchRun) -> Iterator[Finding]:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    search: CaseSearch | None = None  # built only when some exercise declares what it loads
    for rec in ctx.kb.recommendations:
        if rec.status != "approved":
            continue
        for index, exercise, loads in prescribed_loads(vocabulary, rec.action):
            if not (well_formed(vocabulary, rec.when) and well_formed(vocabulary, loads)):
                continue  # reported by the term checks, once
            search = search or CaseSearch(vocabulary, budget=run.budget)
            here = rec.where.pointer + ("action", "exercises", index)
            try:
                witness = search.find([rec.when, loads])
            except SearchTooLarge as err:
                yield issue("AVN306", rec.where.path, here,
                            f"could not decide whether {rec.id} prescribes {exercise} in a case it loads: {err}; "
                            "simplify the conditions", ids=(rec.id,))
                continue
            if witness is not None:
                yield issue("AVN309", rec.where.path, here,
                            f"{rec.id} prescribes {exercise}, which loads the affected part where {describe(loads)}, "
                            f"in a case its condition admits: {show_case(witness)}; remove {exercise} from the "
                            f"action, narrow the condition to exclude such cases, or accept AVN309 with a reason",
                            ids=(rec.id,), witness=witness)
