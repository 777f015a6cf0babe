"""Every name a document uses is declared in the vocabulary, with a value inside its domain
(AVN121 unknown fact, AVN122 value outside the domain, AVN123 undeclared term, AVN124 range
whose minimum exceeds its maximum, AVN125 test that does not fit the fact's type), in
recommendations, derived facts, `defined_for` and exercise `loads` conditions alike; golden cases
give only facts defined for them (AVN126).

Passing:  when: {site: femoral-head, collapse: pre-collapse}; dose: {sets: [1, 3]}; a golden case
          {site: femoral-head, arco_stage: II}
Failing:  when: {stage: II} (no fact `stage`, AVN121); when: {site: hip} (AVN122);
          action: {target: yoga} (AVN123); dose: {sets: [3, 1]} (AVN124);
          when: {site: {has: knee}} (`has` is for set facts, AVN125);
          a golden case {site: humeral-head, arco_stage: II} where arco_stage declares
          `defined_for: {site: femoral-head}` (AVN126).
"""

from __future__ import annotations

from collections.abc import Iterator

from avn_kb.lang.case_checks import case_problems
from avn_kb.model.conditions import OPS_BY_TYPE, Condition, Test, tests
from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Intervention, Recommendation, Source, Vocabulary
from avn_kb.validate.checks.context import CheckContext, Judge, judges_nothing

_OPS_BY_TYPE = OPS_BY_TYPE
_FITS = "_avn_kb_fits"
_OP_WORDS = {"in": "is / in", "not_in": "not_in", "has": "has", "lacks": "lacks", "range": "min / max"}


def judge_conditions(ctx: CheckContext) -> Judge:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return judges_nothing
    return lambda rec: _condition_findings(ctx, vocabulary, rec.when, rec.where.path, rec.id)


def check_vocabulary_conditions(ctx: CheckContext) -> Iterator[Finding]:
    """The conditions of the vocabulary itself: derived facts, `defined_for`, exercise `loads`."""
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    for derived in vocabulary.derived.values():
        for index, (value, when) in enumerate(derived.cases):
            yield from _condition_findings(ctx, vocabulary, when, derived.where.path, derived.name)
            if value not in derived.values:
                yield issue("AVN122", derived.where.path, derived.where.pointer + ("cases", index, "value"),
                            f"derived fact {derived.name}: {value!r} is not one of its values "
                            f"({', '.join(derived.values)})")
        if derived.otherwise is not None and derived.otherwise not in derived.values:
            yield issue("AVN122", derived.where.path, derived.where.pointer + ("otherwise",),
                        f"derived fact {derived.name}: otherwise {derived.otherwise!r} is not one of its values")
    for fact in vocabulary.every_fact():
        if fact.defined_for is not None:
            yield from _condition_findings(ctx, vocabulary, fact.defined_for, fact.where.path, fact.name)
    for intervention in vocabulary.interventions.values():
        for exercise in intervention.exercise_details.values():
            if exercise.loads is not None:
                yield from _condition_findings(ctx, vocabulary, exercise.loads, exercise.where.path,
                                               f"{intervention.name} exercise {exercise.id}")


def well_formed(vocabulary: Vocabulary, condition: Condition) -> bool:
    """Whether every test names a declared fact, fits its type and uses declared values; the logic
    checks skip conditions that are not, so one typo is reported once, not as a cascade. Asked by
    several checks of each condition: kept on the condition with the vocabulary it was judged by."""
    judged = condition.__dict__.get(_FITS)
    if judged is None or judged[0] is not vocabulary:
        return _keep_fits(vocabulary, condition, vocabulary.fits(condition))
    return bool(judged[1])


def _keep_fits(vocabulary: Vocabulary, condition: Condition, fits: bool) -> bool:
    condition.__dict__[_FITS] = (vocabulary, fits)
    return fits


class WellFormed:
    """well_formed of a recommendation's condition as the per-recommendation table keeps it
    (avn_kb/validate/kept_findings.py Verdict): a warm run does not judge the conditions again."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    def judge(self, rec: Recommendation) -> bool:
        return well_formed(self.vocabulary, rec.when)

    def known(self, rec: Recommendation, verdict: bool) -> None:
        _keep_fits(self.vocabulary, rec.when, verdict)


def _condition_findings(ctx: CheckContext, vocabulary: Vocabulary, condition: Condition, path: str,
                        owner: str) -> Iterator[Finding]:
    for test in tests(condition):
        kind = vocabulary.fact_type(test.fact)
        if kind is None:
            if test.fact not in ctx.declared_names:
                yield issue("AVN121", path, test.pointer,
                            f"{owner}: unknown fact {test.fact!r}: declare it in vocabulary.yaml or use one "
                            f"of {', '.join(sorted([*vocabulary.facts, *vocabulary.derived]))}", ids=(owner,))
            continue
        if test.op not in _OPS_BY_TYPE[kind]:
            allowed = " or ".join(_OP_WORDS[op] for op in sorted(_OPS_BY_TYPE[kind]))
            yield issue("AVN125", path, test.pointer,
                        f"{owner}: {test.fact} is a {kind} fact; test it with {allowed}", ids=(owner,))
            continue
        yield from _value_findings(vocabulary, test, kind, path, owner)


def _value_findings(vocabulary: Vocabulary, test: Test, kind: str, path: str, owner: str) -> Iterator[Finding]:
    if kind in ("enum", "set"):
        allowed = vocabulary.fact_values(test.fact)
        for value in sorted(test.values, key=str):
            if value not in allowed:
                yield issue("AVN122", path, test.pointer,
                            f"{owner}: {value!r} is not a value of {test.fact} ({', '.join(allowed)})"
                            f"{_lookalike_note(value)}", ids=(owner,))
    elif kind == "boolean":
        if not all(isinstance(v, bool) for v in test.values):
            yield issue("AVN122", path, test.pointer, f"{owner}: {test.fact} is true or false", ids=(owner,))
    else:
        fact = vocabulary.facts[test.fact]
        if test.low is not None and test.high is not None and test.low > test.high:
            yield issue("AVN124", path, test.pointer,
                        f"{owner}: {test.fact} min {test.low} exceeds max {test.high}: swap them", ids=(owner,))
        for bound in (test.low, test.high):
            if (bound is not None and fact.low is not None and fact.high is not None
                    and not fact.low <= bound <= fact.high):
                yield issue("AVN122", path, test.pointer,
                            f"{owner}: {test.fact} bound {bound} is outside {fact.low}-{fact.high} {fact.unit}",
                            ids=(owner,))


def _lookalike_note(value: object) -> str:
    """Names characters an editor cannot tell from ASCII (a Cyrillic е in `knее`)."""
    if not isinstance(value, str):
        return ""
    odd = [f"U+{ord(ch):04X}" for ch in dict.fromkeys(value) if not ch.isascii() or not ch.isprintable()]
    return f"; it contains {', '.join(odd)}, invisible or look-alike: retype it" if odd else ""


def judge_actions(ctx: CheckContext) -> Judge:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return judges_nothing
    return lambda rec: _action_findings(ctx, vocabulary, rec)


def _action_findings(ctx: CheckContext, vocabulary: Vocabulary, rec: Recommendation) -> Iterator[Finding]:
    action, where = rec.action, rec.where.at("action")
    intervention = vocabulary.interventions.get(action.target)
    if intervention is None:
        if action.target not in ctx.declared_names:
            yield issue("AVN123", where.path, where.pointer + ("target",),
                        f"{rec.id}: intervention {action.target!r} is not declared: add it to vocabulary.yaml "
                        f"interventions or use one of {', '.join(sorted(vocabulary.interventions))}", ids=(rec.id,))
        return
    if action.level is not None and action.level not in intervention.levels:
        yield issue("AVN123", where.path, where.pointer + ("level",),
                    f"{rec.id}: {action.level!r} is not a level of {action.target} "
                    f"({', '.join(intervention.levels) or 'it declares none'})", ids=(rec.id,))
    for index, exercise in enumerate(action.exercises):
        if exercise not in intervention.exercises:
            yield issue("AVN123", where.path, where.pointer + ("exercises", index),
                        f"{rec.id}: {exercise!r} is not an exercise of {action.target} "
                        f"({', '.join(intervention.exercises) or 'it declares none'})", ids=(rec.id,))
    for name, (low, high) in action.dose.items():
        here = where.pointer + ("dose", name)
        parameter = intervention.dose.get(name)
        if parameter is None:
            yield issue("AVN123", where.path, here,
                        f"{rec.id}: {action.target} has no dose parameter {name!r} "
                        f"({', '.join(intervention.dose) or 'it declares none'})", ids=(rec.id,))
            continue
        if low > high:
            yield issue("AVN124", where.path, here,
                        f"{rec.id}: {name} range [{low:g}, {high:g}] has its minimum above its maximum: swap them",
                        ids=(rec.id,))
        if low < parameter.low or high > parameter.high:
            yield issue("AVN122", where.path, here,
                        f"{rec.id}: {name} [{low:g}, {high:g}] is outside {parameter.low:g}-{parameter.high:g} "
                        f"{parameter.unit}", ids=(rec.id,))


def judge_declared_terms(ctx: CheckContext) -> Judge:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return judges_nothing
    sections = vocabulary.sections()

    def judge(rec: Recommendation) -> Iterator[Finding]:
        if rec.topic and rec.topic not in sections:
            yield issue("AVN123", rec.where.path, ("topic",),
                        f"topic {rec.topic!r} is not a section topic of the vocabulary ({', '.join(sections)})",
                        ids=(rec.id,))
        yield from _population(vocabulary, rec.population, rec.where.at("population"), rec.id)
    return judge


def check_declared_terms(ctx: CheckContext) -> Iterator[Finding]:
    """The terms references and the vocabulary itself use."""
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    for ref in ctx.kb.references:
        yield from _population(vocabulary, ref.population, ref.where.at("population"), ref.id)
        for index, topic in enumerate(ref.topics):
            if topic not in vocabulary.topics and topic not in ctx.declared_names:
                yield issue("AVN123", ref.where.path, ref.where.pointer + ("topics", index),
                            f"{ref.id}: topic {topic!r} is not declared in the vocabulary", ids=(ref.id,))
        for index, target in enumerate(ref.covers or ()):
            if target not in vocabulary.interventions:
                yield issue("AVN123", ref.where.path, ref.where.pointer + ("covers", index),
                            f"{ref.id}: covers {target!r}, which is not a declared intervention", ids=(ref.id,))
    for name, parent in vocabulary.populations.items():
        if parent is not None and parent not in vocabulary.populations:
            yield issue("AVN123", vocabulary.where.path, ("populations", name, "parent"),
                        f"population {name}: parent {parent!r} is not declared")
    for fact in vocabulary.facts.values():
        if fact.low is not None and fact.high is not None and fact.low > fact.high:
            yield issue("AVN124", fact.where.path, fact.where.pointer + ("min",),
                        f"fact {fact.name}: min {fact.low:g} exceeds max {fact.high:g}: swap them")
    for intervention in vocabulary.interventions.values():
        yield from _repeated_exercises(vocabulary, intervention)
        for parameter in intervention.dose.values():
            if parameter.low > parameter.high:
                yield issue("AVN124", vocabulary.where.path,
                            ("interventions", intervention.name, "dose", parameter.name, "min"),
                            f"{intervention.name}.{parameter.name}: min exceeds max: swap them")
            if (parameter.per_kg_of and vocabulary.fact_type(parameter.per_kg_of) != "number"
                    and parameter.per_kg_of not in ctx.declared_names):
                yield issue("AVN121", vocabulary.where.path,
                            ("interventions", intervention.name, "dose", parameter.name, "per_kg_of"),
                            f"{intervention.name}.{parameter.name}: per_kg_of names {parameter.per_kg_of!r}, "
                            "which is not a number fact")


def _repeated_exercises(vocabulary: Vocabulary, intervention: Intervention) -> Iterator[Finding]:
    """An exercise id declared twice (once as a plain id, once with its loads, say): which of the two
    declarations an action means would be a guess."""
    seen: set[str] = set()
    for index, exercise in enumerate(intervention.exercises):
        if exercise in seen:
            yield issue("AVN120", vocabulary.where.path, ("interventions", intervention.name, "exercises", index),
                        f"{intervention.name}: exercise {exercise!r} is declared more than once: keep one declaration")
        seen.add(exercise)


def _population(vocabulary: Vocabulary, name: str, where: Source, owner: str) -> Iterator[Finding]:
    if name not in vocabulary.populations:
        yield issue("AVN123", where.path, where.pointer,
                    f"{owner}: population {name!r} is not declared in the vocabulary "
                    f"({', '.join(sorted(vocabulary.populations))})", ids=(owner,))


def check_golden_cases(ctx: CheckContext) -> Iterator[Finding]:
    vocabulary = ctx.kb.vocabulary
    known = {rec.id for rec in ctx.kb.recommendations} | set(ctx.unbuilt_ids)
    recommendations_unreadable = "recommendations" in ctx.unloaded_kinds
    for case in ctx.kb.cases:
        if vocabulary is not None:
            for problem in case_problems(vocabulary, case.facts):
                yield issue(problem.code, case.where.path, case.where.pointer + ("facts", problem.fact),
                            f"case {case.id}: {problem.message}", ids=(case.id,))
        for outcome, ids in case.expect.items():
            for index, rec_id in enumerate(ids):
                if rec_id not in known and not recommendations_unreadable:
                    yield issue("AVN127", case.where.path, case.where.pointer + ("expect", outcome, index),
                                f"case {case.id} expects {rec_id} ({outcome}), which does not exist",
                                ids=(case.id, rec_id))


