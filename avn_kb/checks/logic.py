"""Logic over the case space, decided exactly (see avn_kb/logic.py and docs/checks.md):
AVN301 conflicts with a witness case, AVN302 conditions that never hold, AVN303 redundancy,
AVN304 gaps, AVN305 strength direction against the action, AVN306 a question too large to decide.

Passing:  RT-001 do resistive-training when {phase: {not_in: [acute]}};
          PR-001 avoid resistive-training when {phase: acute}            (never both)
Failing:  RT-001 do resistive-training when {region: lower-limb};
          PR-004 avoid resistive-training when {comorbidities: {has: thrombocytopenia}}
          -> AVN301 with witness {site: femoral-head, comorbidities: [thrombocytopenia]}
          unless one lists the other in `overrides`.
"""

from __future__ import annotations

from typing import Any, Iterator

from avn_kb import actions
from avn_kb.checks.context import CheckContext
from avn_kb.checks.terms import well_formed
from avn_kb.conditions import All, Condition, Not, Test, evaluate
from avn_kb.findings import Finding, issue
from avn_kb.logic import CaseSearch, SearchTooLarge
from avn_kb.model import Recommendation, Vocabulary

MAX_GAP_EXAMPLES = 3
MAX_GAP_CANDIDATES = 500  # uncovered cases looked at to pick varied examples


def live(ctx: CheckContext) -> list[Recommendation]:
    """Recommendations that may be in force at some time (every status but retired) and whose
    condition is well formed (a malformed one is reported by the term checks, once)."""
    vocabulary = ctx.kb.vocabulary
    return [rec for rec in ctx.kb.recommendations
            if rec.status != "retired" and vocabulary is not None and well_formed(vocabulary, rec.when)]


def show_case(case: dict[str, Any]) -> str:
    """`{site: femoral-head, comorbidities: [thrombocytopenia]}`"""
    def show(value: Any) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(map(str, value)) + "]"
        if isinstance(value, bool):
            return "true" if value else "false"
        return f"{value:g}" if isinstance(value, float) else str(value)
    return "{" + ", ".join(f"{k}: {show(v)}" for k, v in case.items()) + "}"


def _allowed_values(vocabulary: Vocabulary, condition: Condition) -> dict[str, Any]:
    """What the top-level conjunction of a condition demands of single facts: for an enum or
    boolean fact the values it allows, for a number the interval, for a set the elements it must
    have and must lack. Two conditions whose demands on one fact are incompatible cannot both hold:
    a cheap filter before any search (only the enum part is used for bucketing)."""
    parts = condition.parts if isinstance(condition, All) else (condition,)
    allowed: dict[str, Any] = {}
    for part in parts:
        negated = isinstance(part, Not)
        test = part.part if isinstance(part, Not) else part
        if not isinstance(test, Test):
            continue
        kind = vocabulary.fact_type(test.fact)
        derived = vocabulary.derived.get(test.fact)
        keep_only = (test.op == "in") != negated
        if derived is not None and derived.otherwise is None and not keep_only:
            continue  # a derived fact may have no value at all, which every exclusion lets through
        if kind in ("enum", "boolean") and test.op in ("in", "not_in"):
            domain = frozenset(vocabulary.fact_values(test.fact)) if kind == "enum" else frozenset([True, False])
            keep = (test.op == "in") != negated  # `not: {phase: acute}` allows every other phase
            values = test.values & domain if keep else domain - test.values
            allowed[test.fact] = allowed.get(test.fact, domain) & values
        elif kind == "number" and test.op == "range" and not negated:
            low, high = allowed.get(test.fact, (None, None))
            if test.low is not None:
                low = test.low if low is None else max(low, test.low)
            if test.high is not None:
                high = test.high if high is None else min(high, test.high)
            allowed[test.fact] = (low, high)
        elif kind == "set" and test.op in ("has", "lacks"):
            has, lacks = allowed.get(test.fact, (frozenset(), frozenset()))
            if (test.op == "has") != negated:
                has = has | test.values
            else:
                lacks = lacks | test.values
            allowed[test.fact] = (has, lacks)
    return allowed


def _incompatible(a: Any, b: Any) -> bool:
    if isinstance(a, frozenset):
        return not (a & b)
    if isinstance(a[0], frozenset):  # set fact: (must have, must lack)
        return bool(a[0] & b[1] or b[0] & a[1])
    (lo_a, hi_a), (lo_b, hi_b) = a, b
    return (lo_a is not None and hi_b is not None and lo_a > hi_b) or \
        (lo_b is not None and hi_a is not None and lo_b > hi_a)


def _disjoint(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return any(_incompatible(a[fact], b[fact]) for fact in a.keys() & b.keys())


def overlapping_pairs(recs: list[Recommendation],
                      allowed: dict[str, dict[str, Any]]) -> Iterator[tuple[Recommendation, Recommendation]]:
    """Pairs whose top-level demands are compatible: the only pairs that can both apply, each
    yielded once, in the order of `recs`. Enum demands are matched through an inverted index (for
    each fact and value, the recommendations allowing it, plus those not testing the fact), so the
    partners of each recommendation come from set intersections rather than from comparing it with
    every other; number and set demands are then compared pair by pair."""
    index: dict[str, dict[Any, set[int]]] = {}
    for i, rec in enumerate(recs):
        for fact, demand in allowed[rec.id].items():
            if isinstance(demand, frozenset):
                by_value = index.setdefault(fact, {})
                for value in demand:
                    by_value.setdefault(value, set()).add(i)
    everyone = set(range(len(recs)))
    untested = {fact: everyone - set().union(*by_value.values()) for fact, by_value in index.items()}
    for i, rec in enumerate(recs):
        partners = everyone
        for fact, demand in allowed[rec.id].items():
            if isinstance(demand, frozenset):
                by_value = index[fact]
                compatible = untested[fact].union(*(by_value.get(v, ()) for v in demand))
                partners = partners & compatible
        mine = allowed[rec.id]
        for j in sorted(j for j in partners if j > i):
            other = allowed[recs[j].id]
            if not any(_incompatible(mine[f], other[f]) for f in mine.keys() & other.keys()
                       if not isinstance(mine[f], frozenset)):
                yield rec, recs[j]


def _windows_overlap(a: Recommendation, b: Recommendation) -> bool:
    start = max(a.effective_from or "0000-00-00", b.effective_from or "0000-00-00")
    end = min(a.effective_until or "9999-99-99", b.effective_until or "9999-99-99")
    return start <= end


def _related(links: dict[str, set[str]], a: str, b: str) -> bool:
    # Only a direct link resolves a conflict: the resolver lets an applying recommendation override
    # the ones it names, not the ones those name in turn.
    return b in links.get(a, ()) or a in links.get(b, ())


def check_conflicts(ctx: CheckContext) -> Iterator[Finding]:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    search = CaseSearch(vocabulary, budget=ctx.search_budget)
    recs = live(ctx)
    resolved: dict[str, set[str]] = {}
    for rec in recs:
        resolved.setdefault(rec.id, set()).update((*rec.overrides, *rec.supersedes))
    by_target: dict[str, list[Recommendation]] = {}
    for rec in recs:
        by_target.setdefault(rec.action.target, []).append(rec)
    allowed = {rec.id: _allowed_values(vocabulary, rec.when) for rec in recs}
    for group in by_target.values():
        for a, b in overlapping_pairs(group, allowed):
            why = actions.contradiction(a.action, b.action)
            if why is None or not _windows_overlap(a, b):
                continue
            if _related(resolved, a.id, b.id):
                continue
            try:
                witness = search.find([a.when, b.when])
            except SearchTooLarge as err:
                yield _too_large(b, f"whether {a.id} and {b.id} can both apply", err)
                continue
            if witness is not None:
                yield issue("AVN301", b.where.path, b.where.pointer + ("when",),
                            f"{a.id} and {b.id} both apply to {show_case(witness)}: {actions.describe(a.action)} "
                            f"vs {actions.describe(b.action)} ({why}); add `overrides: [{a.id}]` to {b.id} (or "
                            f"`overrides: [{b.id}]` to {a.id}) for the one that should win, or narrow a condition",
                            ids=(b.id, a.id), witness=witness)


def _too_large(rec: Recommendation, question: str, err: SearchTooLarge) -> Finding:
    return issue("AVN306", rec.where.path, rec.where.pointer + ("when",),
                 f"could not decide {question}: {err}; simplify the conditions", ids=(rec.id,))


def check_unsatisfiable(ctx: CheckContext) -> Iterator[Finding]:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    search = CaseSearch(vocabulary, budget=ctx.search_budget)
    for rec in ctx.kb.recommendations:
        if not well_formed(vocabulary, rec.when):
            continue
        try:
            if not search.satisfiable(rec.when):
                yield issue("AVN302", rec.where.path, rec.where.pointer + ("when",),
                            f"{rec.id} can never apply: no case satisfies its condition; fix the condition",
                            ids=(rec.id,))
        except SearchTooLarge as err:
            yield _too_large(rec, f"whether {rec.id} can apply", err)


def check_redundancy(ctx: CheckContext) -> Iterator[Finding]:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    search = CaseSearch(vocabulary, budget=ctx.search_budget)
    same: dict[Any, list[Recommendation]] = {}
    for rec in live(ctx):
        action = rec.action
        key = (action.kind, action.target, tuple(sorted(action.dose.items())), action.level, action.exercises)
        same.setdefault(key, []).append(rec)
    allowed = {rec.id: _allowed_values(vocabulary, rec.when) for group in same.values() for rec in group}
    for group in same.values():
        if len(group) < 2:
            continue
        # A few complete cases on which each condition applies refute most candidate implications
        # at the cost of one evaluation: where `a` applies and `b` does not, `a` cannot imply `b`.
        # Only the pairs that survive are searched exactly.
        axes = search.axes_for([rec.when for rec in group])
        samples = {rec.id: search.complete_cases(rec.when, axes) for rec in group}
        # Two satisfiable conditions that cannot both hold never imply each other.
        for a, b in overlapping_pairs(group, allowed):
            if not samples[a.id] or not samples[b.id] or not _windows_overlap(a, b):
                continue
            a_maybe = all(evaluate(b.when, case) is True for case in samples[a.id])
            b_maybe = all(evaluate(a.when, case) is True for case in samples[b.id])
            if not (a_maybe or b_maybe):
                continue
            try:
                a_in_b = a_maybe and search.implies(a.when, b.when)
                b_in_a = b_maybe and search.implies(b.when, a.when)
            except SearchTooLarge as err:
                yield _too_large(b, f"whether {a.id} and {b.id} overlap", err)
                continue
            if a_in_b or b_in_a:
                narrow, wide = (a, b) if a_in_b else (b, a)
                yield issue("AVN303", narrow.where.path, narrow.where.pointer + ("id",),
                            f"{narrow.id} is redundant: {wide.id} (the wider one) gives the same action "
                            f"({actions.describe(wide.action)}) whenever {narrow.id} applies; merge or retire one",
                            ids=(narrow.id, wide.id))


def _spread(cases: list[dict[str, Any]], wanted: int) -> list[dict[str, Any]]:
    """A few examples that differ from each other as much as possible (greedy, farthest first),
    so that the gaps shown are different regions rather than neighbours."""
    if not cases:
        return []
    chosen = [cases[0]]
    while len(chosen) < min(wanted, len(cases)):
        def distance(case: dict[str, Any]) -> int:
            return min(sum(case.get(k) != other.get(k) for k in case.keys() | other.keys()) for other in chosen)
        best = max(cases, key=distance)
        if distance(best) == 0:
            break
        chosen.append(best)
    return chosen


def check_gaps(ctx: CheckContext) -> Iterator[Finding]:
    vocabulary, manifest = ctx.kb.vocabulary, ctx.kb.manifest
    if vocabulary is None or manifest is None:
        return
    search = CaseSearch(vocabulary, budget=ctx.search_budget)
    day = ctx.as_of.isoformat()
    approved = [rec for rec in ctx.kb.recommendations if rec.status == "approved" and rec.in_force(day)]
    for index, (target, scope) in enumerate(manifest.decision_required):
        on_target = [rec for rec in approved if rec.action.target == target]
        if not all(well_formed(vocabulary, rec.when) for rec in on_target):
            continue  # a malformed condition is reported once; gaps behind it cannot be judged
        covering = [rec.when for rec in on_target]
        where = ("policy", "decision_required", index)
        try:
            found = []
            for case in search.iter_cases([scope], covering):
                found.append(case)
                if len(found) == MAX_GAP_CANDIDATES:
                    break
        except SearchTooLarge as err:
            yield issue("AVN306", manifest.where.path, where, f"could not finish the gap search for {target}: {err}")
            continue
        for case in _spread(found, MAX_GAP_EXAMPLES):
            yield issue("AVN304", manifest.where.path, where,
                        f"no approved recommendation on {target} in force on {day} applies to {show_case(case)}; "
                        "add one for such cases (see `avn-kb coverage`)", ids=(target,), witness=case)


def check_direction(ctx: CheckContext) -> Iterator[Finding]:
    for rec in ctx.kb.recommendations:
        if rec.direction != rec.action.stance:
            yield issue("AVN305", rec.where.path, rec.where.pointer + ("strength", "direction"),
                        f"{rec.id}: strength is {rec.direction} but the action is `{rec.action.kind}`, which is "
                        f"{rec.action.stance}: make them agree", ids=(rec.id,))
