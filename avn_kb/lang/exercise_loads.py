"""Which exercises of an action load the affected part on a given case.

The vocabulary may declare, for an exercise of an intervention, `loads`: a condition saying in
which cases the exercise loads the part the case is about (a closed-chain press through the joints
of the leg, say). The validator reports an approved recommendation that prescribes such an exercise
in a case its condition admits (AVN309); the resolver marks the exercise on the answer of a case
for which it loads, or may load once more facts are known. Both read the declaration through
`loads_condition`, so they cannot disagree about what an exercise loads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from avn_kb.lang.derive import with_derived
from avn_kb.model.conditions import Condition, evaluate
from avn_kb.model.knowledge import Action, Vocabulary


def loads_condition(vocabulary: Vocabulary, target: str, exercise: str) -> Condition | None:
    """The `loads` condition declared for this exercise of this intervention; None when the
    intervention or the exercise is not declared, or the exercise declares no loads."""
    intervention = vocabulary.interventions.get(target)
    if intervention is None:
        return None
    details = intervention.exercise_details.get(exercise)
    return details.loads if details is not None else None


def prescribed_loads(vocabulary: Vocabulary, action: Action) -> Iterator[tuple[int, str, Condition]]:
    """(position in the action, exercise, its loads condition) for each exercise the action
    prescribes that declares what it loads. An `avoid` action prescribes nothing."""
    if action.stance != "for":
        return
    for index, exercise in enumerate(action.exercises):
        loads = loads_condition(vocabulary, action.target, exercise)
        if loads is not None:
            yield index, exercise, loads


def loading_exercises(vocabulary: Vocabulary, action: Action, facts: Mapping[str, Any],
                      derived: bool = False) -> tuple[tuple[str, bool | None], ...]:
    """Each exercise the action prescribes that loads the affected part on this case: (exercise,
    True) when its `loads` condition holds on the case's facts, (exercise, None) when a missing fact
    leaves it open (three-valued, as everywhere: unknown is never read as "does not load").
    Exercises whose condition is false, or that declare none, are left out; in the action's order.
    `facts` are the case's facts; derived facts are computed here (passing them already derived
    changes nothing, and `derived` True says they are: the resolver's, derived once per case)."""
    found = [(exercise, loads) for _, exercise, loads in prescribed_loads(vocabulary, action)]
    if not found:
        return ()
    case = facts if derived else with_derived(vocabulary, facts)
    result = []
    for exercise, loads in found:
        truth = evaluate(loads, case)
        if truth is not False:
            result.append((exercise, truth))
    return tuple(result)
