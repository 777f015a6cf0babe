"""Logic over the case space, decided exactly (see avn_kb/logic.py and docs/checks.md):
AVN301 conflicts with a witness case, AVN302 conditions that never hold (AVN303 redundancy: redundancy.py),
AVN304 gaps, AVN305 strength direction against the action, AVN306 a question too large to decide,
AVN307 two different (overlapping) doses for one case, with a witness case.

Passing:  RT-001 do resistive-training when {phase: {not_in: [acute]}};
          PR-001 avoid resistive-training when {phase: acute}            (never both)
Failing:  RT-001 do resistive-training when {region: lower-limb};
          PR-004 avoid resistive-training when {comorbidities: {has: thrombocytopenia}}
          -> AVN301 with witness {site: femoral-head, comorbidities: [thrombocytopenia]}
          unless one lists the other in `overrides`.
Failing:  RT-001 consider resistive-training (intensity_pct_1rm [40, 60]) when {region: lower-limb};
          RT-009 consider resistive-training (intensity_pct_1rm [60, 80]) when {site: knee}
          -> AVN307 with witness {site: knee} (so does 50 beside [40, 60]; the same range twice gives
          nothing, and ranges that do not meet, [40, 60] beside [70, 80], are AVN301).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from itertools import groupby
from typing import Any

from avn_kb.lang import actions
from avn_kb.lang.pairs import clashing_pairs
from avn_kb.lang.search import CaseSearch, SearchTooLarge
from avn_kb.model.conditions import Condition
from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import KnowledgeBase, Recommendation, Vocabulary
from avn_kb.util.memo import remembered
from avn_kb.validate.checks.context import CheckContext, Judge
from avn_kb.validate.checks.terms import well_formed
from avn_kb.validate.units import SearchRun

MAX_GAP_EXAMPLES = 3
MAX_GAP_CANDIDATES = 500  # uncovered cases looked at to pick varied examples
SAMPLES = 3
_LIVE = "_avn_kb_live"


def live(ctx: CheckContext) -> list[Recommendation]:
    """Recommendations that may be in force at some time (every status but retired) and whose
    condition is well formed (a malformed one is reported by the term checks, once)."""
    # Asked by the conflict and the redundancy checks: made once per knowledge base.
    return remembered(ctx.kb, _LIVE, lambda: _live(ctx.kb))


def _live(kb: KnowledgeBase) -> list[Recommendation]:
    vocabulary = kb.vocabulary
    return [rec for rec in kb.recommendations
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


def windows_overlap(a: Recommendation, b: Recommendation) -> bool:
    start = max(a.effective_from or "0000-00-00", b.effective_from or "0000-00-00")
    end = min(a.effective_until or "9999-99-99", b.effective_until or "9999-99-99")
    return start <= end


def _related(links: dict[str, set[str]], a: str, b: str) -> bool:
    # Only a direct link resolves a conflict: the resolver lets an applying recommendation override
    # the ones it names, not the ones those name in turn.
    return b in links.get(a, ()) or a in links.get(b, ())


def check_conflicts(ctx: CheckContext, run: SearchRun) -> Iterator[Finding]:
    """AVN301 for actions that contradict, AVN307 for doses that differ but overlap: both are
    pairs that can apply to one case, neither overriding the other. One pass over the candidate
    pairs of `clashing_pairs` decides both, so that a pair is reported once, under one code."""
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    search = CaseSearch(vocabulary, budget=run.budget)
    recs = live(ctx)
    resolved: dict[str, set[str]] = {}
    for rec in recs:
        resolved.setdefault(rec.id, set()).update((*rec.overrides, *rec.supersedes))
    by_target: dict[str, list[Recommendation]] = {}
    for rec in recs:
        by_target.setdefault(rec.action.target, []).append(rec)
    for group in by_target.values():
        # The group's result reads the links of its members' ids, from every recommendation with
        # that id (a duplicate elsewhere counts). A member's own links are in what it is kept
        # under (its digest); links its id has from another recommendation are added to that
        # (not every member's: at 100,000 recommendations, digesting those took a third of a
        # warm run's second).
        borrowed = tuple(sorted((rec.id, tuple(sorted(resolved[rec.id]))) for rec in group
                                if resolved[rec.id] != {*rec.overrides, *rec.supersedes}))
        yield from run.once(("conflicts in group", borrowed), group,
                            partial(_clashes, search, vocabulary, resolved, group))


def _clashes(search: CaseSearch, vocabulary: Vocabulary, resolved: dict[str, set[str]],
             group: list[Recommendation]) -> tuple[Finding, ...]:
    """AVN301 and AVN307 among the members of one group (the same target)."""
    found = []
    for a, b in clashing_pairs(group, vocabulary):
        why = actions.contradiction(a.action, b.action)
        differences = () if why else actions.dose_differences(a.action, b.action)
        if not (why or differences) or not windows_overlap(a, b) or _related(resolved, a.id, b.id):
            continue
        try:
            witness = search.find([a.when, b.when])
        except SearchTooLarge as err:
            found.append(too_large(b, f"whether {a.id} and {b.id} can both apply", err, a))
            continue
        if witness is not None and differences:
            found.append(_two_doses(a, b, differences, witness))
        elif witness is not None:
            found.append(issue(
                "AVN301", b.where.path, b.where.pointer + ("when",),
                f"{a.id} and {b.id} both apply to {show_case(witness)}: {actions.describe(a.action)} "
                f"vs {actions.describe(b.action)} ({why}); add `overrides: [{a.id}]` to {b.id} (or "
                f"`overrides: [{b.id}]` to {a.id}) for the one that should win, or narrow a condition",
                ids=(b.id, a.id), witness=witness))
    return tuple(found)


def _two_doses(a: Recommendation, b: Recommendation, names: tuple[str, ...],
               witness: dict[str, Any]) -> Finding:
    ranges = ", ".join(f"{name} {actions.span(*a.action.dose[name])} against {actions.span(*b.action.dose[name])}"
                       for name in names)
    return issue("AVN307", b.where.path, b.where.pointer + ("action", "dose", names[0]),
                 f"{a.id} and {b.id} both apply to {show_case(witness)} with different doses of "
                 f"{b.action.target}: {ranges}; make the ranges agree, add `overrides: [{a.id}]` to {b.id} (or "
                 f"`overrides: [{b.id}]` to {a.id}) for the one that should win, or narrow a condition",
                 ids=(b.id, a.id), witness=witness)


def too_large(rec: Recommendation, question: str, err: SearchTooLarge, other: Recommendation | None = None) -> Finding:
    """AVN306 on `rec`, naming `other` too when the question is about a pair (so that either side
    may accept it, as with AVN301 and AVN307)."""
    ids = (rec.id, other.id) if other is not None else (rec.id,)
    return issue("AVN306", rec.where.path, rec.where.pointer + ("when",),
                 f"could not decide {question}: {err}; simplify the conditions", ids=ids)


def check_unsatisfiable(ctx: CheckContext, run: SearchRun) -> Iterator[Finding]:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    search = CaseSearch(vocabulary, budget=run.budget)
    if not run.enabled and not run.sharing:
        # Nothing kept: each recommendation in turn. (Judging every condition first, as the kept
        # form below does, peaked 250 MB higher at 100,000 recommendations: 1,068 MB against 820.)
        for rec in ctx.kb.recommendations:
            if well_formed(vocabulary, rec.when):
                yield from _never_applies(search, rec)
        return
    judged = [rec for rec in ctx.kb.recommendations if well_formed(vocabulary, rec.when)]
    # Kept per file (its recommendations, consecutive in the knowledge base): an edit searches its
    # file's conditions again, and a warm run looks up a few hundred units, not one per
    # recommendation (1.5 s of a warm run at 100,000 recommendations).
    for _path, in_file in groupby(judged, key=lambda rec: rec.where.path):
        recs = tuple(in_file)
        yield from run.once("satisfiable in file", recs, partial(_never_apply, search, recs))


def _never_apply(search: CaseSearch, recs: tuple[Recommendation, ...]) -> tuple[Finding, ...]:
    return tuple(finding for rec in recs for finding in _never_applies(search, rec))


def _never_applies(search: CaseSearch, rec: Recommendation) -> tuple[Finding, ...]:
    try:
        if search.satisfiable(rec.when):
            return ()
        return (issue("AVN302", rec.where.path, rec.where.pointer + ("when",),
                      f"{rec.id} can never apply: no case satisfies its condition; fix the condition",
                      ids=(rec.id,)),)
    except SearchTooLarge as err:
        return (too_large(rec, f"whether {rec.id} can apply", err),)


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


def check_gaps(ctx: CheckContext, run: SearchRun) -> Iterator[Finding]:
    vocabulary, manifest = ctx.kb.vocabulary, ctx.kb.manifest
    if vocabulary is None or manifest is None:
        return
    search = CaseSearch(vocabulary, budget=run.budget)
    day = ctx.as_of.isoformat()
    approved = [rec for rec in ctx.kb.recommendations if rec.status == "approved" and rec.in_force(day)]
    for index, (target, scope) in enumerate(manifest.decision_required):
        on_target = [rec for rec in approved if rec.action.target == target]
        if not all(well_formed(vocabulary, rec.when) for rec in on_target):
            continue  # a malformed condition is reported once; gaps behind it cannot be judged
        # The search's result reads the target, its scope, the day (in the findings' text) and the
        # manifest's place, besides the recommendations on the target: all of it in the question.
        question = ("gaps", manifest.where.path, index, target, scope, day)
        yield from run.once(question, on_target, partial(_gaps, search, manifest.where.path, index, target, scope,
                                                         day, on_target))


def _gaps(search: CaseSearch, path: str, index: int, target: str, scope: Condition, day: str,
          on_target: list[Recommendation]) -> tuple[Finding, ...]:
    """AVN304 with a few varied cases of `scope` no recommendation on `target` covers (AVN306 if
    the search is too large)."""
    where = ("policy", "decision_required", index)
    try:
        found = []
        for case in search.iter_cases([scope], [rec.when for rec in on_target]):
            found.append(case)
            if len(found) == MAX_GAP_CANDIDATES:
                break
    except SearchTooLarge as err:
        return (issue("AVN306", path, where, f"could not finish the gap search for {target}: {err}"),)
    return tuple(issue("AVN304", path, where,
                       f"no approved recommendation on {target} in force on {day} applies to {show_case(case)}; "
                       "add one for such cases (see `avn-kb coverage`)", ids=(target,), witness=case)
                 for case in _spread(found, MAX_GAP_EXAMPLES))


def judge_direction(_ctx: CheckContext) -> Judge:
    return _direction


def _direction(rec: Recommendation) -> Iterator[Finding]:
    if rec.direction != rec.action.stance:
        yield issue("AVN305", rec.where.path, rec.where.pointer + ("strength", "direction"),
                    f"{rec.id}: strength is {rec.direction} but the action is `{rec.action.kind}`, which is "
                    f"{rec.action.stance}: make them agree", ids=(rec.id,))
