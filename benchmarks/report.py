"""Tables for the terminal and docs/performance.md, from the results of benchmarks/run.py."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from benchmarks.engines import Comparison
from benchmarks.measure import Hotspot, Phase, Run


@dataclass
class Results:
    """Everything one run measured (filled in by run.py step by step)."""

    machine: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    command: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    sizes: dict[int, dict[str, float]] = field(default_factory=dict)  # n -> {mb, files}
    sanity: list[tuple[str, bool, str]] = field(default_factory=list)
    shipped: list[Run] = field(default_factory=list)
    startup: dict[str, float] = field(default_factory=dict)
    imports: list[tuple[str, float]] = field(default_factory=list)
    shipped_phases: list[Phase] = field(default_factory=list)
    validate: dict[int, Run | str] = field(default_factory=dict)  # a Run, or why it was not run
    schema_only: dict[str, dict[int, Run | str]] = field(default_factory=dict)  # variant -> n -> run
    engines: dict[str, Comparison] = field(default_factory=dict)
    resolve_growth: dict[int, tuple[float, float, float]] = field(default_factory=dict)  # n -> load s, p50, mean
    phases: dict[int, list[Phase]] = field(default_factory=dict)
    profiles: dict[str, tuple[float, list[Hotspot]]] = field(default_factory=dict)
    commands: dict[str, dict[int, Run]] = field(default_factory=dict)  # d.: command -> n -> run
    targets: list[tuple[str, str, str]] = field(default_factory=list)  # target, measured, verdict
    obstacles: list[tuple[str, list[str]]] = field(default_factory=list)
    incremental: Any = None  # e.: benchmarks/incremental.py's Incremental
    large_edit: dict[str, Run] = field(default_factory=dict)  # e.: the largest size, warm after an edit
    targets_17: list[tuple[str, str, str]] = field(default_factory=list)  # issue 17's, as `targets`


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A markdown table (also readable in a terminal)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells[1:]]
    return lines


def seconds(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f} s"
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1000:.0f} ms"


def ms(value: float) -> str:
    return f"{value:.3f} ms" if value < 1 else f"{value:.2f} ms"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b > 0 else "-"


def run_cell(run: Run | str | None) -> tuple[str, str, str]:
    """(wall, CPU, peak MB) of a run, or the reason it has none."""
    if run is None:
        return ("-", "-", "-")
    if isinstance(run, str):
        return (run, "-", "-")
    if run.timed_out:
        return (f"> {seconds(run.wall)} (stopped)", "-", f"> {run.peak_mb:,.0f} MB")
    return (seconds(run.wall), seconds(run.cpu), f"{run.peak_mb:,.0f} MB")


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares exponent b of y = a * n^b over the points (n, y)."""
    points = [(n, y) for n, y in points if n > 0 and y > 0]
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else None


def finished(run: Run | str | None) -> Run | None:
    return run if isinstance(run, Run) and not run.timed_out and run.code is not None else None


def validate_vs_schema(results: Results, sizes: Sequence[int]) -> list[str]:
    variants = list(results.schema_only)
    rows = []
    for n in sizes:
        ours = results.validate.get(n)
        a = finished(ours)
        row = [f"{n:,}", f"{results.sizes[n]['mb']:.1f} MB", *run_cell(ours)]
        for variant in variants:
            theirs = results.schema_only[variant].get(n)
            b = finished(theirs)
            wall, cpu, peak = run_cell(theirs)
            row += [wall, cpu, peak, ratio(b.wall, a.wall) if a and b else "-"]
        rows.append(row)
    header = ["N", "files", "avn-kb wall", "CPU", "peak"]
    for variant in variants:
        header += [f"check-jsonschema ({variant}) wall", "CPU", "peak", "ratio (cj / avn, wall)"]
    return table(header, rows)


def schema_only_best(results: Results, n: int) -> tuple[str, Run] | None:
    """The faster finished check-jsonschema variant at n (the stricter comparison)."""
    found = [(variant, run) for variant, runs in results.schema_only.items() if (run := finished(runs.get(n)))]
    return min(found, key=lambda item: item[1].wall) if found else None


def resolver_vs_zen(results: Results) -> list[str]:
    rows = []
    for name, c in results.engines.items():
        rows.append([name, f"{c.recommendations:,}", f"{c.rows:,}", f"{c.applying_mean:.1f}",
                     ms(c.resolver.p50_ms), ms(c.resolver.p99_ms), f"{c.resolver.per_second:,.0f}/s",
                     ms(c.zen.p50_ms), ms(c.zen.p99_ms), f"{c.zen.per_second:,.0f}/s",
                     ratio(c.resolver.per_second, c.zen.per_second),
                     f"{c.compared - c.mismatches}/{c.compared}", f"{c.waiting}"])
    return table(["knowledge base", "recs", "zen rows", "applying/case", "resolver p50", "p99", "throughput",
                  "zen p50", "p99", "throughput", "throughput ratio (resolver / zen)", "same conditions held",
                  "undecided by overrides"], rows)


def growth(results: Results, sizes: Sequence[int]) -> list[str]:
    rows = []
    for n in sizes:
        wall, cpu, peak = run_cell(results.validate.get(n))
        load, p50, mean = results.resolve_growth.get(n, (0.0, 0.0, 0.0))
        rows.append([f"{n:,}", f"{results.sizes[n]['mb']:.1f} MB", wall, cpu, peak,
                     seconds(load) if load else "-", ms(p50) if p50 else "-", ms(mean) if mean else "-"])
    lines = table(["N", "files", "validate wall", "CPU", "peak memory", "load in process", "resolve p50",
                   "resolve mean"], rows)
    done = {n: r for n in sizes if (r := finished(results.validate.get(n)))}
    exponents = [("validate wall", slope([(n, r.wall) for n, r in done.items()])),
                 ("validate CPU", slope([(n, r.cpu) for n, r in done.items()])),
                 ("validate peak memory", slope([(n, r.peak_mb) for n, r in done.items()])),
                 ("resolve mean per case", slope([(n, v[2]) for n, v in results.resolve_growth.items() if v[2]]))]
    lines.append("")
    lines.append("Growth exponent b in time = a * N^b, fitted on the sizes measured (1 is linear, 2 quadratic): "
                 + "; ".join(f"{name} {b:.2f}" if b is not None else f"{name} -" for name, b in exponents) + ".")
    return lines


def phase_table(results: Results) -> list[str]:
    sizes = sorted(results.phases)
    names = list(dict.fromkeys(p.name for n in sizes for p in results.phases[n]))
    rows = []
    for name in names:
        row = [name]
        values = []
        for n in sizes:
            phase = next((p for p in results.phases[n] if p.name == name), None)
            if phase is None:
                row.append("-")
                continue
            row.append(seconds(phase.seconds) if phase.finished else f"> {seconds(phase.seconds)}")
            if phase.finished:
                values.append((n, phase.seconds))
        b = slope(values)
        row.append(f"{b:.2f}" if b is not None and max(v for _, v in values) > 0.05 else "-")
        rows.append(row)
    return table(["phase", *[f"N = {n:,}" for n in sizes], "exponent"], rows)


def hotspot_table(spots: list[Hotspot]) -> list[str]:
    return table(["function", "calls", "own time", "with callees"],
                 [[f"`{h.function}`", h.calls, seconds(h.own), seconds(h.total)] for h in spots])
