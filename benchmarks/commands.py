"""d. The commands besides validate at scale: graph, export fhir, render and coverage, whole
processes on the generated knowledge bases of a. Each runs at two sizes, so the ratio of their
times shows how the command grows: about 10 for ten times the recommendations is linear, about
100 quadratic (graph took 69 s and export fhir 19.7 s at 10,000 before issue 14 made them linear)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import measure
from benchmarks.report import Results, run_cell, table

# name -> the arguments after `avn-kb`, given the knowledge directory and a scratch directory.
COMMANDS = {
    "graph --format dot": lambda kb, out: ["graph", "--kb", str(kb), "--format", "dot", "-o", str(out / "g.dot")],
    "graph --format mermaid": lambda kb, out: ["graph", "--kb", str(kb), "--format", "mermaid",
                                               "-o", str(out / "g.mmd")],
    "export fhir": lambda kb, out: ["export", "fhir", "--kb", str(kb), "-o", str(out / "bundle.json")],
    "export fhir --version R5": lambda kb, out: ["export", "fhir", "--kb", str(kb), "--version", "R5",
                                                 "-o", str(out / "bundle-r5.json")],
    "render": lambda kb, out: ["render", "--kb", str(kb), "--out", str(out / "site")],
    "coverage": lambda kb, out: ["coverage", str(kb)],
}


def measure_commands(binary: Path, sizes: tuple[int, ...], dirs: dict[int, Path], work: Path, timeout: float,
                     results: Results) -> None:
    for n in sizes:
        scratch = work / f"commands-{n}"
        scratch.mkdir(parents=True, exist_ok=True)
        for name, arguments in COMMANDS.items():
            run = measure.run_command([str(binary), *arguments(dirs[n], scratch)], timeout)
            results.commands.setdefault(name, {})[n] = run
            if run.code != 0:
                results.sanity.append((f"avn-kb {name} at N = {n:,} exits 0", False, run.last_line[:200]))


def commands_section(results: Results, sizes: tuple[int, ...]) -> list[str]:
    if not results.commands:
        return []
    small, big = min(sizes), max(sizes)
    rows = []
    for name, runs in results.commands.items():
        a, b = runs.get(small), runs.get(big)
        ratio = f"{b.wall / a.wall:.1f}x" if a and b and not a.timed_out and not b.timed_out and a.wall else "-"
        rows.append((f"`avn-kb {name}`", *(run_cell(runs.get(n))[0] for n in sizes), ratio,
                     run_cell(b)[2] if b else "-"))
    header = ["command", *(f"wall at {n:,}" for n in sizes), f"{big:,} / {small:,}", f"peak at {big:,}"]
    return ["", "## d. The other commands at scale (whole processes)", "",
            "Ten times the recommendations should cost about ten times the time, less where start-up and loading "
            "weigh at the small size; 69 s (graph) and 19.7 s (export fhir) at 10,000 were quadratic paths before "
            "issue 14.", "",
            *table(header, rows)]
