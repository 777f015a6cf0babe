"""Which targets of issues 7 and 17 a run meets, and for each one missed, what the measurements say
stands in the way (the largest phases, the startup costs, the profile tops)."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from benchmarks.report import Results, finished, ms, schema_only_best, seconds, slope

if TYPE_CHECKING:
    from benchmarks.run import Plan

LINEAR = 1.15  # the largest growth exponent called "close to linear"


def judge(results: Results, plan: "Plan") -> None:
    big = max(plan.compare)
    ours, best = finished(results.validate.get(big)), schema_only_best(results, big)
    theirs = best[1] if best else None
    scale = f"N = {big:,}" + ("" if big == 10000 else " (quick run: 10,000 not measured)")
    add = results.targets.append
    if ours:
        add((f"validate 10,000 recommendations, all checks, < 1 s wall", f"{seconds(ours.wall)} at {scale}",
             _verdict(ours.wall < 1, big == 10000)))
    else:
        add(("validate 10,000 recommendations, all checks, < 1 s wall", _why_none(results.validate.get(big)), "missed"))
    if ours and theirs:
        factor = theirs.wall / ours.wall
        add(("at least 20x faster than check-jsonschema (schema only) on the same files",
             f"{factor:.2f}x at {scale} ({seconds(theirs.wall)} for the faster check-jsonschema run, "
             f"{best[0] if best else ''}, against {seconds(ours.wall)})",
             _verdict(factor >= 20, big == 10000)))
    else:
        add(("at least 20x faster than check-jsonschema (schema only) on the same files",
             "avn-kb validate did not finish" if not ours else "check-jsonschema did not finish", "missed"))
    shipped = statistics.median(r.wall for r in results.shipped) if results.shipped else float("nan")
    add(("validate the shipped knowledge base, process start to exit, < 0.3 s",
         f"{seconds(shipped)} (median of {len(results.shipped)})", _verdict(shipped < 0.3, True)))
    name = f"N = {max(plan.resolve):,}"
    comparison = results.engines.get(name)
    full = max(plan.resolve) == 10000
    if comparison:
        add(("resolve a case on 10,000 recommendations, p50 < 1 ms", f"{ms(comparison.resolver.p50_ms)} at {name}",
             _verdict(comparison.resolver.p50_ms < 1, full)))
        factor = comparison.resolver.per_second / comparison.zen.per_second
        add(("beat zen-engine's throughput on the same rules and cases",
             f"{factor:.3f}x zen's at {name} ({comparison.resolver.per_second:,.0f}/s against "
             f"{comparison.zen.per_second:,.0f}/s)", _verdict(factor > 1, full)))
    _growth_verdict(results, plan)
    _judge_17(results, plan)
    _obstacles(results, plan)


def _judge_17(results: Results, plan: "Plan") -> None:
    """Issue 17's targets that steps a. to e. measure (the batch targets: section f.)."""
    add = results.targets_17.append
    ten = finished(results.validate.get(10000))
    best = schema_only_best(results, 10000)
    if ten:
        add(("10,000 recommendations, cold (--no-cache), < 3 s", seconds(ten.wall), _verdict(ten.wall < 3, True)))
    else:
        add(("10,000 recommendations, cold (--no-cache), < 3 s", _why_none(results.validate.get(10000)),
             "missed" if 10000 in plan.compare else "not measured"))
    if ten and best:
        factor = best[1].wall / ten.wall
        add(("... at least 25x check-jsonschema's schema-only pass on the same files, same run",
             f"{factor:.1f}x ({seconds(best[1].wall)}, {best[0]})", _verdict(factor >= 25, True)))
    hundred = finished(results.validate.get(100000))
    if hundred:
        add(("100,000 recommendations, cold, < 40 s", seconds(hundred.wall), _verdict(hundred.wall < 40, True)))
        add(("100,000 recommendations, cold, peak memory < 1 GB", f"{hundred.peak_mb:,.0f} MB",
             _verdict(hundred.peak_mb < 1024, True)))
    else:
        add(("100,000 recommendations, cold, < 40 s and < 1 GB", _why_none(results.validate.get(100000)),
             "not measured" if 100000 not in plan.growth else "missed"))
    warm = [run for name, run in results.large_edit.items() if name.startswith("warm") and not run.timed_out]
    largest = max(plan.growth)
    if warm:
        median = statistics.median(run.wall for run in warm)
        add((f"{largest:,} recommendations, warm after a one-recommendation edit, < 5 s",
             f"{seconds(median)} (median of {len(warm)}; filling the cache "
             f"{seconds(results.large_edit['filling an empty cache'].wall)})",
             _verdict(median < 5, largest == 100000)))
    comparison = results.engines.get("N = 10,000")
    if comparison:
        factor = comparison.resolver.per_second / comparison.zen.per_second
        add(("resolver at least 3x zen-engine's throughput at 10,000", f"{factor:.2f}x", _verdict(factor >= 3, True)))
    if results.incremental is not None:
        from benchmarks.incremental import verdicts

        # Its rows also give the CPU time (target, wall, CPU, verdict): shown with the wall time.
        results.targets_17.extend((row[0], f"{row[1]} (CPU {row[2]})" if len(row) > 3 else row[1], row[-1])
                                  for row in verdicts(results.incremental))


def _verdict(ok: bool, at_target_size: bool) -> str:
    if not at_target_size:
        return "met at this size" if ok else "missed at this size"
    return "met" if ok else "missed"


def _why_none(run: Any) -> str:
    if isinstance(run, str):
        return run
    if run is not None and run.timed_out:
        return f"stopped after {seconds(run.wall)}"
    return "not measured"


def _growth_verdict(results: Results, plan: "Plan") -> None:
    sizes = sorted(plan.growth)
    done = {n: r for n in sizes if (r := finished(results.validate.get(n)))}
    time_b = slope([(n, r.wall) for n, r in done.items()])
    memory_b = slope([(n, r.peak_mb) for n, r in done.items()])
    resolve_b = slope([(n, v[2]) for n, v in results.resolve_growth.items() if v[2]])
    reached = max(done) if done else 0
    measured = (f"validate time N^{time_b:.2f}, memory N^{memory_b:.2f}" if time_b is not None and memory_b is not None
                else "validate: fewer than two sizes finished")
    measured += f"; resolve N^{resolve_b:.2f}" if resolve_b is not None else ""
    measured += f"; validate reached N = {reached:,} of {sizes[-1]:,}"
    ok = (reached == sizes[-1] and time_b is not None and memory_b is not None and time_b <= LINEAR
          and memory_b <= LINEAR and (resolve_b is None or resolve_b <= LINEAR))
    results.targets.append((f"growth close to linear (exponent <= {LINEAR}) from {sizes[0]:,} to {sizes[-1]:,}, "
                            "time and memory", measured, _verdict(ok, sizes[-1] == 100000)))


def _obstacles(results: Results, plan: "Plan") -> None:
    missed = {target for target, _, verdict in [*results.targets, *results.targets_17] if "missed" in verdict}
    if any(t.startswith(("validate 10,000", "at least 20x", "growth", "10,000 recommendations, cold", "... at least 25x",
                         "100,000 recommendations, cold")) for t in missed):
        results.obstacles.append(("Validating a large knowledge base", _validation_lines(results)))
    if any(t.startswith("validate the shipped") for t in missed):
        results.obstacles.append(("Validating the shipped knowledge base from a cold start", _startup_lines(results)))
    if any("warm after a one-recommendation edit" in t for t in missed):
        results.obstacles.append(("Validating again after a one-recommendation edit", _edit_lines(results)))
    if any(t.startswith("resolve a case") or t.startswith("beat zen") for t in missed):
        results.obstacles.append(("Resolving a case", _resolve_lines(results)))


def _validation_lines(results: Results) -> list[str]:
    lines = []
    if results.phases:
        n = max(results.phases)
        phases = sorted(results.phases[n], key=lambda p: p.seconds, reverse=True)
        total = sum(p.seconds for p in phases)
        shown = ", ".join(f"{p.name} {'> ' if not p.finished else ''}{seconds(p.seconds)}" for p in phases[:5])
        lines.append(f"At N = {n:,}, in this process, the largest phases are: {shown} "
                     f"(all phases: {'at least ' if any(not p.finished for p in phases) else ''}{seconds(total)}).")
        growing = []
        sizes = sorted(results.phases)
        for phase in results.phases[n]:
            points = [(m, p.seconds) for m in sizes for p in results.phases[m] if p.name == phase.name and p.finished]
            b = slope(points)
            if b is not None and b > 1.3 and max(v for _, v in points) > 0.5:
                growing.append(f"{phase.name} (N^{b:.1f})")
        if growing:
            lines.append("Phases growing faster than linearly: " + ", ".join(growing) + ". A check that compares "
                         "recommendations pairwise does N^2/2 comparisons, each a case search.")
    for title, (_, spots) in results.profiles.items():
        if title.startswith("validate"):
            own = sorted(spots, key=lambda h: h.own, reverse=True)[:6]
            lines.append(f"cProfile of {title}, most own time: " +
                         ", ".join(f"`{h.function}` {seconds(h.own)}" for h in own) + ".")
        if title.startswith("load_knowledge"):
            own = sorted(spots, key=lambda h: h.own, reverse=True)[:5]
            lines.append(f"cProfile of {title}, most own time: " +
                         ", ".join(f"`{h.function}` {seconds(h.own)}" for h in own) + ".")
    return lines


def _edit_lines(results: Results) -> list[str]:
    """From step e.'s cProfile of a warm run after an edit (docs: "What the cache keeps")."""
    found = results.incremental
    if found is None or found.profile is None:
        return ["No profile of a warm run after an edit was taken in this run."]
    total, spots = found.profile
    own = sorted(spots, key=lambda h: h.own, reverse=True)[:6]
    widest = sorted(spots, key=lambda h: h.total, reverse=True)[1:7]
    return [f"cProfile of a warm run after an edit at {found.size:,} ({seconds(total)} under the profiler), "
            "most cumulative time: " + ", ".join(f"`{h.function}` {seconds(h.total)}" for h in widest) + ".",
            "Most own time: " + ", ".join(f"`{h.function}` {seconds(h.own)}" for h in own) + ".",
            "The searching checks answer from level 3 but for the edited units; the rest is done again "
            "over every recommendation (see \"What the cache keeps\")."]


def _startup_lines(results: Results) -> list[str]:
    lines = []
    if results.startup:
        lines.append("Process start and imports, before any file is read (medians): " +
                     ", ".join(f"{name} {seconds(value)}" for name, value in results.startup.items()) + ".")
    if results.imports:
        lines.append("Largest imports (cumulative, one run of -X importtime): " +
                     ", ".join(f"{name} {seconds(value)}" for name, value in results.imports[:8]) + ".")
    if results.shipped_phases:
        phases = sorted(results.shipped_phases, key=lambda p: p.seconds, reverse=True)[:5]
        lines.append("Validation itself, in process: " + ", ".join(f"{p.name} {seconds(p.seconds)}" for p in phases)
                     + f" (all phases {seconds(sum(p.seconds for p in results.shipped_phases))}).")
    return lines


def _resolve_lines(results: Results) -> list[str]:
    lines = []
    for name, comparison in results.engines.items():
        lines.append(f"{name}: resolver mean {ms(comparison.resolver.mean_ms)} per case against zen "
                     f"{ms(comparison.zen.mean_ms)}, {comparison.applying_mean:.1f} recommendations applying per case.")
    for title, (_, spots) in results.profiles.items():
        if title.startswith("resolve"):
            own = sorted(spots, key=lambda h: h.own, reverse=True)[:8]
            lines.append(f"cProfile of {title}, most own time: " +
                         ", ".join(f"`{h.function}` {seconds(h.own)}" for h in own) + ".")
    return lines
