"""The resolver and zen-engine on the same recommendations and cases, in this process.

The resolver runs as a program calls it: `resolve(kb, case, as_of, index=index).ids("applies")` with an Index
built once. zen-engine evaluates the decision graph of benchmarks/zen_table.py, compiled once
(`ZenDecisionContent`) and served by the engine's loader, which is zen's fast path: in zen-engine
2.1 `engine.evaluate(key, case)` through a loader is more than ten times faster per call than
`create_decision(...).evaluate(case)` on the same content. Each timed call is one case; the first
calls are a warm-up and are not counted.

The answers are compared like with like. The table answers which recommendations' conditions
hold (rows match); it has no overrides and no third value. The resolver's like is the
recommendations whose own condition holds: those that apply, those overridden, and those it
leaves undecided although their condition holds because an overrider is undecided (the fail-safe
rule, docs/format.md section 14: a missing blood count never releases the standard dose). A table
cannot express that last outcome: it gives such a recommendation as if nothing could override it.
Those cases are counted and shown apart (`waiting`), as not comparable as answers; every other
difference is unexplained (`mismatches`), and a correct export and resolver have none.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

from avn_kb.model.conditions import evaluate
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.resolve.resolver import Index, Resolution, resolve

from benchmarks import zen_table

WARMUP = 50


@dataclass(frozen=True)
class Latency:
    """Per-case timings of one engine over the same cases."""

    cases: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    per_second: float


def time_calls(call: Callable[[dict[str, Any]], Any], cases: list[dict[str, Any]]) -> Latency:
    for case in cases[:min(WARMUP, len(cases) // 5)]:
        call(case)
    samples = []
    gc.collect()
    started = time.perf_counter()
    for case in cases:
        before = time.perf_counter_ns()
        call(case)
        samples.append(time.perf_counter_ns() - before)
    total = time.perf_counter() - started
    samples.sort()
    return Latency(len(cases), samples[len(samples) // 2] / 1e6, samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1e6,
                   statistics.fmean(samples) / 1e6, len(cases) / total)


@dataclass(frozen=True)
class Comparison:
    """Both engines on one knowledge base: latencies, agreement and sizes."""

    recommendations: int
    eligible: int
    rows: int
    index_seconds: float
    compile_seconds: float
    resolver: Latency
    zen: Latency
    compared: int
    mismatches: int  # cases whose held recommendations differ, unexplained: none if both are right
    first_mismatch: str
    applying_mean: float
    # Cases on which the resolver leaves undecided a recommendation whose condition holds, because
    # an overrider is undecided: what the table cannot express (see the module docstring).
    waiting: int = 0
    first_waiting: str = ""


class ZenRunner:
    """One compiled decision, evaluated through the engine's loader."""

    def __init__(self, graph: dict[str, Any]) -> None:
        import zen

        content = zen.ZenDecisionContent(json.dumps(graph))
        self.engine = zen.ZenEngine({"loader": lambda key: content})

    def ids(self, case: dict[str, Any]) -> set[str]:
        return zen_table.matched_ids(self.engine.evaluate("kb", case))

    def evaluate(self, case: dict[str, Any]) -> Any:
        return self.engine.evaluate("kb", case)


@dataclass(frozen=True)
class Held:
    """The resolver's answer in the table's terms: the recommendations whose own condition holds
    on the case, and of those the ones it leaves undecided for an undecided overrider (id ->
    the overriders it waits for)."""

    ids: frozenset[str]
    waiting: dict[str, tuple[str, ...]]


def holding(kb: KnowledgeBase, case: dict[str, Any], as_of: dt.date, index: Index) -> Held:
    """The recommendations whose own condition holds on the case, as the resolver decided them."""
    return held(resolve(kb, case, as_of=as_of, index=index))


def held(resolution: Resolution) -> Held:
    """Applies, overridden, and undecided only because an overrider is undecided: an undecided
    recommendation counts when it waits for an overrider and its own condition holds on the case's
    facts (the model's three-valued evaluation, derived facts included). One undecided for a fact
    its own condition lacks does not hold: the table's row does not match it either."""
    ids = set(resolution.ids("applies")) | set(resolution.ids("overridden"))
    waiting = {}
    for outcome in resolution.by_outcome("undecided"):
        if outcome.pending_overrides and evaluate(outcome.rec.when, resolution.facts) is True:
            waiting[outcome.rec.id] = tuple(p.id for p in outcome.pending_overrides)
    return Held(frozenset(ids | waiting.keys()), waiting)


def compare(kb: KnowledgeBase, cases: list[dict[str, Any]], as_of: dt.date, check: int) -> Comparison:
    """Time both engines on `cases`; check that they agree on the first `check` cases."""
    started = time.perf_counter()
    index = Index(kb)
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    graph, rows = zen_table.decision_graph(kb, as_of)
    problems = zen_table.check_cells(graph)
    if problems:
        raise ValueError(f"zen refuses {len(problems)} cells, e.g. {problems[0]}")
    runner = ZenRunner(graph)
    runner.evaluate(cases[0])  # the first call compiles
    compile_seconds = time.perf_counter() - started
    mismatches, first, applying, waiting, first_waiting = 0, "", [], 0, ""
    for case in cases[:check]:
        ours, theirs = holding(kb, case, as_of, index), runner.ids(case)
        applying.append(len(ours.ids) - len(ours.waiting))
        if ours.ids != theirs:
            mismatches += 1
            if not first:
                first = (f"{json.dumps(case)}: resolver only {sorted(ours.ids - theirs)[:5]}, "
                         f"zen only {sorted(theirs - ours.ids)[:5]}")
        elif ours.waiting:
            waiting += 1
            if not first_waiting:
                rec_id, overriders = min(ours.waiting.items())
                verb = "is" if len(overriders) == 1 else "are"
                first_waiting = (f"{json.dumps(case)}: {rec_id}'s condition holds (zen gives it), but the resolver "
                                 f"leaves it undecided until {', '.join(overriders)} (overriding it) {verb} decided")
    # Timed as a program uses it: resolve, then read the applying ids (outcome objects are lazy).
    resolver = time_calls(lambda case: resolve(kb, case, as_of=as_of, index=index).ids("applies"), cases)
    zen_latency = time_calls(runner.evaluate, cases)
    return Comparison(len(kb.recommendations), len(zen_table.eligible(kb, as_of)), rows, index_seconds,
                      compile_seconds, resolver, zen_latency, min(check, len(cases)), mismatches, first,
                      statistics.fmean(applying) if applying else 0.0, waiting, first_waiting)
