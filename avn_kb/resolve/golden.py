"""Golden cases: patient scenarios in knowledge/cases/ with the recommendations they must and must
not get, run through the resolver like any query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from avn_kb.lang.case_checks import case_problems
from avn_kb.model.knowledge import GoldenCase, KnowledgeBase
from avn_kb.resolve.resolver import Index, Resolution, resolve


@dataclass(frozen=True)
class CaseRun:
    case: GoldenCase
    resolution: Resolution | None
    failures: tuple[str, ...]  # one line per expectation not met

    @property
    def passed(self) -> bool:
        return not self.failures


def run_case(kb: KnowledgeBase, case: GoldenCase, index: Index, today: dt.date) -> CaseRun:
    if kb.vocabulary is not None:
        problems = case_problems(kb.vocabulary, case.facts)
        if problems:
            return CaseRun(case, None, tuple(f"invalid case: {p.message}" for p in problems))
    as_of = dt.date.fromisoformat(case.as_of) if case.as_of else today
    resolution = resolve(kb, case.facts, as_of=as_of, index=index)
    actual = {o.rec.id: o.outcome for o in resolution.outcomes}
    failures = []
    for rec_id in case.expect["apply"]:
        if actual.get(rec_id) != "applies":
            failures.append(f"{rec_id}: expected to apply, got {actual.get(rec_id, 'no such recommendation')}")
    for rec_id in case.expect["not_apply"]:
        if actual.get(rec_id) == "applies":
            failures.append(f"{rec_id}: expected not to apply, but it applies")
    for outcome, key in (("undecided", "undecided"), ("overridden", "overridden")):
        for rec_id in case.expect[key]:
            if actual.get(rec_id) != outcome:
                failures.append(f"{rec_id}: expected {outcome}, got {actual.get(rec_id, 'no such recommendation')}")
    return CaseRun(case, resolution, tuple(failures))


def run_all(kb: KnowledgeBase, today: dt.date | None = None) -> list[CaseRun]:
    index = Index(kb)
    return [run_case(kb, case, index, today or dt.date.today()) for case in kb.cases]


def unexercised(kb: KnowledgeBase, runs: list[CaseRun]) -> list[str]:
    """Approved recommendations that apply in no golden case."""
    applied = {rec_id for run in runs if run.resolution for rec_id in run.resolution.ids("applies")}
    return [rec.id for rec in kb.recommendations if rec.status == "approved" and rec.id not in applied]
