"""Check the facts of a patient case against the vocabulary: used by the validator for golden
cases and by the query command for the cases it is given."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from avn_kb.lang.derive import definitions, derive_values
from avn_kb.lang.readings import Reading
from avn_kb.model.knowledge import Vocabulary
from avn_kb.util.memo import remembered


@dataclass(frozen=True)
class CaseProblem:
    fact: str
    code: str  # AVN121 unknown fact, AVN122 value outside the domain, AVN125 wrong type, AVN126 undefined here
    message: str


def case_problems(vocabulary: Vocabulary, facts: Mapping[str, Any],
                  reading: Reading | None = None) -> list[CaseProblem]:
    """Every fact that is unknown, of the wrong type or outside its domain; then, if there is none,
    every fact given outside the cases it is defined for and every derived fact the facts disagree
    on. `reading`: the case as a `Readings` of this vocabulary reads it, when the caller has it."""
    problems: list[CaseProblem] = []
    plain = _plainly_valid(vocabulary)
    for name, value in facts.items():
        allowed = plain.get(name)
        if allowed is not None and type(value) in allowed:
            if allowed[type(value)](value):
                continue
        kind = vocabulary.fact_type(name)
        if kind is None:
            known = ", ".join(sorted([*vocabulary.facts, *vocabulary.derived]))
            problems.append(CaseProblem(name, "AVN121", f"unknown fact {name!r}; known facts: {known}"))
            continue
        problem = _value_problem(vocabulary, name, kind, value)
        if problem:
            problems.append(CaseProblem(name, problem[0], f"{name}: {problem[1]}"))
    if not problems:
        # Derived once for both checks.
        if reading is not None:
            messages = reading.disagreements()
            problems += [CaseProblem(name, "AVN126", message) for name, message in reading.outside_definitions()]
        else:
            derived, messages = derive_values(vocabulary, facts)
            problems += _outside_definitions(vocabulary, facts, derived)
        problems += _disagreements(vocabulary, facts, messages)
    return problems


def _outside_definitions(vocabulary: Vocabulary, facts: Mapping[str, Any],
                         derived: Mapping[str, Any]) -> list[CaseProblem]:
    """Facts the case gives (or derives: `derived`) outside the cases they are defined for (AVN126)."""
    if not definitions(vocabulary):
        return []
    from avn_kb.lang.derive import outside_definitions

    return [CaseProblem(name, "AVN126", message) for name, message in outside_definitions(vocabulary, derived, facts)]


def _disagreements(vocabulary: Vocabulary, facts: Mapping[str, Any], messages: list[str]) -> list[CaseProblem]:
    """Facts that give a derived fact more than one value (`messages`: derive_values says which),
    each problem on the fact that brings the disagreement: the first whose addition makes the
    facts so far disagree (ficat_stage after arco_stage). Disagreement is monotone (more facts
    never reconcile facts that disagree), so that fact exists and is one of those to correct."""
    from avn_kb.lang.derive import disagreements

    if not messages:
        return []
    names = list(facts)
    culprit = next((name for count, name in enumerate(names, start=1)
                    if disagreements(vocabulary, {n: facts[n] for n in names[:count]})), names[-1])
    return [CaseProblem(culprit, "AVN122", message) for message in messages]


def _plainly_valid(vocabulary: Vocabulary) -> dict[str, dict[type, Callable[[Any], bool]]]:
    """For each term fact, by the exact type of a value: a test that is true only of values
    `_value_problem` finds nothing wrong with (a term of the fact's, a list of them, true or false;
    or None), so that a case's usual values are passed without building a message. Anything the
    test does not pass goes through `_value_problem`, which says what is wrong, if anything."""
    def make() -> dict[str, dict[type, Callable[[Any], bool]]]:
        table: dict[str, dict[type, Callable[[Any], bool]]] = {}
        for name in vocabulary.facts:
            kind = vocabulary.fact_type(name)
            if kind == "enum":
                terms = frozenset(vocabulary.fact_values(name))
                table[name] = {str: terms.__contains__}
            elif kind == "set":
                table[name] = {list: _all_terms(frozenset(vocabulary.fact_values(name)))}
            elif kind == "boolean":
                table[name] = {bool: lambda _: True}
            else:
                continue
            table[name][type(None)] = lambda _: True
        return table

    return remembered(vocabulary, "_plainly_valid", make)


def _all_terms(terms: frozenset[str]) -> Callable[[Any], bool]:
    return lambda items: all(type(item) is str and item in terms for item in items)


def _shown(value: Any) -> str:
    """A value as a message can show it: long ones are cut (a 10 MB string is not echoed back)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _value_problem(vocabulary: Vocabulary, name: str, kind: str, value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    if kind == "enum":
        allowed = vocabulary.fact_values(name)
        if not isinstance(value, str):
            return "AVN125", f"{_shown(value)} is not a term; give one of: {', '.join(allowed)}"
        if value not in allowed:
            return "AVN122", f"{_shown(value)} is not one of: {', '.join(allowed)}"
        return None
    if kind == "set":
        allowed = vocabulary.fact_values(name)
        items = value if isinstance(value, (list, tuple)) else None
        if items is None or not all(isinstance(v, str) for v in items):
            return "AVN125", f"expected a list of terms from: {', '.join(allowed)}"
        unknown = [v for v in items if v not in allowed]
        if unknown:
            return "AVN122", f"{', '.join(map(repr, unknown))} not among: {', '.join(allowed)}"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else ("AVN125", f"{_shown(value)} is not true or false")
    fact = vocabulary.facts[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "AVN125", f"{_shown(value)} is not a number ({fact.unit})"
    if fact.integer and value != int(value):
        return "AVN122", f"{value} is not a whole number"
    if (fact.low is not None and value < fact.low) or (fact.high is not None and value > fact.high):
        return "AVN122", f"{value:g} is outside {fact.low:g}-{fact.high:g} {fact.unit}"
    return None
