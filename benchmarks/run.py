"""The performance harness of issue 7: `make bench` (or `python -m benchmarks.run`).

    python -m benchmarks.run [--quick] [--out docs/performance.md] [--work DIR] [--timeout S]

Side by side, on the same generated files and cases:
  a. `avn-kb validate` (all checks, a process from start to exit) against `check-jsonschema` with
     the project's recommendation schema (schema only), as ratios;
  b. the resolver (in this process, a prebuilt Index) against zen-engine evaluating the same
     recommendations compiled into a JDM decision table (benchmarks/zen_table.py);
  c. the growth curve of validate (wall, CPU, peak memory) and resolve (per case);
  d. the other commands at scale (benchmarks/commands.py); e. incremental validation, the cache
     cold and warm on the pre-commit path (benchmarks/incremental.py);
then where the time goes (phases of a validation, import costs, cProfile tops) and which targets
of issue 7 are met; then the decision service under load (benchmarks/serve_load.py, its own
section). A full run writes docs/performance.md; --quick is a smoke run of the same
steps on small sizes and writes nothing unless --out is given.

A validation is stopped after --timeout seconds; a size whose predicted time (from the growth
measured so far) exceeds the timeout is not started. Both are reported, never hidden.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `avn_kb` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.commands import measure_commands
from benchmarks.incremental import measure_incremental
from benchmarks.large_edit import warm_after_edit
from benchmarks import cases as case_maker  # noqa: E402
from benchmarks import engines, measure, report  # noqa: E402
from benchmarks.generate import generate  # noqa: E402
from benchmarks.report import Results  # noqa: E402
from benchmarks.verdicts import judge  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Fixed, so review dates and effective periods judge the same every run: the day the shipped
# recommendations come into force (before it none is eligible, and the resolver and zen-engine
# were compared on the shipped knowledge base with nothing to answer).
AS_OF = dt.date(2026, 12, 1)
SCHEMA = ROOT / "schema" / "recommendations.schema.json"
PACKAGES = ("avn-kb", "PyYAML", "jsonschema", "referencing", "networkx", "click", "check-jsonschema",
            "ruamel.yaml", "regress", "zen-engine")


@dataclass(frozen=True)
class Plan:
    compare: tuple[int, ...]      # a. validate against check-jsonschema
    resolve: tuple[int, ...]      # b. resolver against zen (plus the shipped knowledge base)
    growth: tuple[int, ...]       # c. growth curve
    phases: tuple[int, ...]       # where a validation spends its time
    profile_validate: int         # cProfile of a whole validation
    profile_resolve: int          # cProfile of resolve
    conflicts: tuple[int, int]    # (N, K) of the planted-conflict check
    cases: int
    checked: int                  # cases on which both engines must agree
    timeout: float
    phase_budget: float
    shipped_runs: int


FULL = Plan(compare=(1000, 10000), resolve=(1000, 10000), growth=(1000, 3000, 10000, 30000, 100000),
            phases=(1000, 3000, 10000), profile_validate=1000, profile_resolve=10000, conflicts=(1000, 10),
            cases=1000, checked=500, timeout=1800, phase_budget=120, shipped_runs=7)
QUICK = Plan(compare=(300, 1000), resolve=(300, 1000), growth=(300, 1000), phases=(300, 1000),
             profile_validate=300, profile_resolve=1000, conflicts=(300, 3), cases=300, checked=300,
             timeout=300, phase_budget=20, shipped_runs=3)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return {"avn-kb source": _source(), "cores": str(os.cpu_count()), "cpu": model, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}",
            "memory": _memory(), "load average at start": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
            "machine speed at start": machine_speed(),
            "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M")}


def machine_speed() -> str:
    """A fixed pure-Python workload's best time of three: this kind of machine ran it in one run
    twice as long as in another on the same day, so runs are compared by it, not only by load."""
    def work() -> float:
        started = time.perf_counter()
        total = 0
        for number in range(5_000_000):
            total += number % 7
        return time.perf_counter() - started
    return f"{min(work() for _ in range(3)) * 1000:.0f} ms for 5 million loop steps (lower is faster)"


def _source() -> str:
    """The commit measured, and whether avn_kb/ had changes not committed (read-only git calls)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "avn_kb", "schema")
    return f"{commit}" + (" with uncommitted changes in avn_kb/ or schema/" if dirty else "")


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    import yaml

    found["PyYAML"] += " (libyaml CSafeLoader)" if hasattr(yaml, "CSafeLoader") else " (pure Python loader)"
    return found


# ---------------------------------------------------------------- steps

def make_knowledge(plan: Plan, work: Path, results: Results, seed: int) -> dict[int, Path]:
    sizes = sorted(set(plan.compare) | set(plan.resolve) | set(plan.growth) | set(plan.phases)
                   | {plan.profile_validate, plan.profile_resolve})
    dirs = {}
    for n in sizes:
        say(f"generating N = {n:,}")
        dirs[n] = work / f"kb-{n}"
        summary = generate(n, dirs[n], seed=seed)
        results.sizes[n] = {"mb": summary["bytes"] / 1e6, "files": summary["files"]}
    return dirs


def sanity(plan: Plan, work: Path, results: Results, seed: int, dirs: dict[int, Path]) -> None:
    """The generated files are what they claim: clean ones validate (checked with the timed runs),
    planted conflicts are found one each, and check-jsonschema really validates (a planted schema
    error must fail it)."""
    import json

    n, k = plan.conflicts
    say(f"sanity: {k} planted conflicts in N = {n:,}")
    planted = generate(n, work / f"kb-{n}-conflicts", conflicts=k, seed=seed)
    run = measure.run_command([str(BIN / "avn-kb"), "validate", str(work / f"kb-{n}-conflicts"), "--no-cache",
                               "--as-of", AS_OF.isoformat(), "--format", "json"], plan.timeout)
    found: dict[str, int] = {}
    if run.code is not None:
        for finding in json.loads(run.output)["findings"]:
            if finding.get("accepted") is None:
                found[finding["code"]] = found.get(finding["code"], 0) + 1
    ok = found == {"AVN301": k}
    results.sanity.append((f"{k} planted conflicts give exactly {k} AVN301 and nothing else", ok,
                           f"unaccepted findings: {found or 'none'} ({', '.join(planted['planted'])})"))
    smallest = min(plan.compare)
    broken = work / "schema-error"
    broken.mkdir(exist_ok=True)
    source = sorted((dirs[smallest] / "recommendations").glob("*.yaml"))[0]
    text = _plant(_plant(source.read_text(encoding="utf-8"), "    certainty: ", "medium"),
                  "    population: ", '"Bad Population"')
    (broken / source.name).write_text(text, encoding="utf-8")
    clean = sorted((dirs[smallest] / "recommendations").glob("*.yaml"))
    for variant in SCHEMA_VARIANTS:
        run = measure.run_command(schema_only_command(variant, work, [broken / source.name]), plan.timeout)
        ok = run.code == 1 and "'medium' is not one of" in run.output and "'Bad Population' does not match" in run.output
        results.sanity.append((f"check-jsonschema ({variant}) fails on two planted schema errors (certainty: medium; "
                               "population: Bad Population, a $ref to common.schema.json)", ok,
                               f"exit {run.code}, {run.output.count('::$')} errors reported"))
        run = measure.run_command(schema_only_command(variant, work, clean), plan.timeout)
        results.sanity.append((f"check-jsonschema ({variant}) passes the clean N = {smallest:,} files", run.code == 0,
                               run.last_line[:160]))


def _plant(text: str, marker: str, value: str) -> str:
    """Replace the value after the first `marker` line prefix."""
    at = text.index(marker)
    end = text.index("\n", at)
    return text[:at] + marker + value + text[end:]


SCHEMA_VARIANTS = ("schema as shipped", "bundled schema")


def schema_only_command(variant: str, work: Path, files: list[Path]) -> list[str]:
    """check-jsonschema with the project's recommendation schema, one of two ways:

    - as shipped: the schema's $id is https://avn-kb.org/..., so its $refs to common.schema.json
      would be downloaded from there; --base-uri puts the schema at its file path instead, and
      common.schema.json is read from schema/ next to it. This is what a user would run.
    - bundled: the same schema with common.schema.json's definitions copied into its $defs (same
      rules, one resource), which spares check-jsonschema a cross-file lookup per $ref (its
      referencing registry re-crawls the retrieved schema each time): its best case.
    """
    if variant == "bundled schema":
        return [str(BIN / "check-jsonschema"), "--schemafile", str(bundle_schema(work)), *map(str, files)]
    return [str(BIN / "check-jsonschema"), "--base-uri", SCHEMA.as_uri(), "--schemafile", str(SCHEMA),
            *map(str, files)]


def bundle_schema(work: Path) -> Path:
    import json

    target = work / "recommendations.bundled.schema.json"
    if target.exists():
        return target
    recommendations = json.loads(SCHEMA.read_text(encoding="utf-8"))
    common = json.loads((SCHEMA.parent / "common.schema.json").read_text(encoding="utf-8"))

    def rewrite(node: object, inside_common: bool) -> object:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    if value.startswith("common.schema.json#/$defs/") or (inside_common and value.startswith("#/$defs/")):
                        # Named through the bundle's $id: inside common's `condition`, which is a
                        # resource of its own, "#" would be that resource, not the bundle.
                        value = "bundle.schema.json#/$defs/common_" + value.rsplit("/", 1)[1]
                out[key] = rewrite(value, inside_common)
            return out
        if isinstance(node, list):
            return [rewrite(item, inside_common) for item in node]
        return node

    bundled = rewrite(recommendations, False)
    assert isinstance(bundled, dict)
    bundled["$id"] = "https://avn-kb.invalid/bundle.schema.json"  # never fetched: every $ref is inside
    bundled["$defs"].update({f"common_{name}": rewrite(body, True) for name, body in common["$defs"].items()})
    target.write_text(json.dumps(bundled, indent=1), encoding="utf-8")
    return target


def validate_command(directory: Path) -> list[str]:
    # --no-cache: these are cold runs (a second run would print the stored report); e. times the cache.
    return [str(BIN / "avn-kb"), "validate", str(directory), "--no-cache", "--as-of", AS_OF.isoformat()]


def shipped(plan: Plan, results: Results) -> None:
    say("shipped knowledge base: validate, process start to exit")
    # A pip install compiles the package's bytecode; an editable install under
    # PYTHONDONTWRITEBYTECODE (set on these machines) would recompile every module at every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "avn_kb")], check=False)
    for _ in range(plan.shipped_runs):
        results.shipped.append(measure.run_command([str(BIN / "avn-kb"), "validate", "knowledge", "--no-cache"], 60,
                                                   cwd=ROOT))
    starts = {"python -c pass": [sys.executable, "-c", "pass"],
              "avn-kb --version (CLI imports)": [str(BIN / "avn-kb"), "--version"],
              "python -c 'import avn_kb.validate.runner, avn_kb.output.findings, avn_kb.cli'":
                  [sys.executable, "-c", "import avn_kb.validate.runner, avn_kb.output.findings, avn_kb.cli"]}
    for name, argv in starts.items():
        runs = [measure.run_command(argv, 60, cwd=ROOT) for _ in range(plan.shipped_runs)]
        results.startup[name] = statistics.median(r.wall for r in runs)
    trace = subprocess.run([sys.executable, "-X", "importtime", "-c", "import avn_kb.validate.runner, avn_kb.output.findings, avn_kb.cli"],
                           capture_output=True, text=True, cwd=ROOT, check=False).stderr
    cumulative = []
    for line in trace.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            depth = (len(name) - len(name.lstrip())) // 2
            if depth <= 2:
                cumulative.append((name.strip(), int(parts[1]) / 1e6))
    results.imports = sorted(cumulative, key=lambda item: item[1], reverse=True)[:12]
    results.shipped_phases = measure.validation_phases(ROOT / "knowledge", AS_OF, plan.phase_budget)


def validations(plan: Plan, dirs: dict[int, Path], results: Results) -> None:  # noqa: C901
    """avn-kb validate at every size of a. and c. (skipping sizes predicted past the timeout), and
    check-jsonschema at the sizes of a."""
    done: list[tuple[int, float]] = []
    for n in sorted(set(plan.compare) | set(plan.growth)):
        predicted = _predict(done, n)
        if predicted is not None and predicted > plan.timeout:
            why = ("not run: a smaller size was stopped" if predicted == float("inf")
                   else f"not run: about {seconds_words(predicted)} predicted")
            results.validate[n] = why
            say(f"validate N = {n:,}: {why}")
            continue
        say(f"validate N = {n:,}")
        run = measure.run_command(validate_command(dirs[n]), plan.timeout)
        results.validate[n] = run
        if run.timed_out:
            done.append((n, float("inf")))
        else:
            done.append((n, run.wall))
            if run.code != 0 or " 0 errors, 0 warnings" not in run.last_line:
                results.sanity.append((f"generated N = {n:,} validates clean", False, run.last_line[:200]))
            else:
                results.sanity.append((f"generated N = {n:,} validates clean", True, run.last_line[:200]))
        if n in plan.compare:
            files = sorted((dirs[n] / "recommendations").glob("*.yaml"))
            for variant in SCHEMA_VARIANTS:
                say(f"check-jsonschema ({variant}) N = {n:,}")
                results.schema_only.setdefault(variant, {})[n] = measure.run_command(
                    schema_only_command(variant, dirs[n].parent, files), plan.timeout)


def seconds_words(value: float) -> str:
    return f"{value / 3600:.1f} h" if value >= 3600 else f"{value / 60:.0f} min" if value >= 120 else f"{value:.0f} s"


def _predict(done: list[tuple[int, float]], n: int) -> float | None:
    """Time at n extrapolated from the last two sizes measured (at least linear growth)."""
    if not done:
        return None
    if done[-1][1] == float("inf"):
        return float("inf")
    if len(done) == 1:
        return done[-1][1] * n / done[-1][0]
    (n1, t1), (n2, t2) = done[-2], done[-1]
    exponent = max(1.0, report.slope([(n1, t1), (n2, t2)]) or 1.0)
    return t2 * (n / n2) ** exponent


def resolvers(plan: Plan, dirs: dict[int, Path], results: Results) -> None:
    from avn_kb.load.knowledge import load_knowledge

    targets: list[tuple[str, Path, int]] = [("shipped", ROOT / "knowledge", 0)]
    targets += [(f"N = {n:,}", dirs[n], n) for n in plan.resolve]
    for name, directory, _ in targets:
        say(f"resolver and zen: {name}")
        kb = load_knowledge(directory, str(directory)).kb
        assert kb.vocabulary is not None
        cases = case_maker.make_cases(kb.vocabulary, plan.cases)
        results.engines[name] = engines.compare(kb, cases, AS_OF, plan.checked)
        del kb
        gc.collect()
    for n in sorted(plan.growth):
        say(f"resolve growth: N = {n:,}")
        started = time.perf_counter()
        kb = load_knowledge(dirs[n], str(dirs[n])).kb
        load = time.perf_counter() - started
        assert kb.vocabulary is not None
        from avn_kb.resolve.resolver import Index, resolve

        index = Index(kb)
        # Fewer cases at the largest sizes: the growth curve needs the median and the mean only.
        cases = case_maker.make_cases(kb.vocabulary, min(plan.cases, 500, max(60, 5_000_000 // n)))
        latency = engines.time_calls(lambda case: resolve(kb, case, as_of=AS_OF, index=index).ids("applies"), cases)
        results.resolve_growth[n] = (load, latency.p50_ms, latency.mean_ms)
        del kb, index
        gc.collect()


def profiles(plan: Plan, dirs: dict[int, Path], results: Results) -> None:
    from avn_kb.validate.runner import validate
    from avn_kb.load.knowledge import load_knowledge
    from avn_kb.resolve.resolver import Index, resolve

    for n in plan.phases:
        say(f"phases of a validation: N = {n:,}")
        results.phases[n] = measure.validation_phases(dirs[n], AS_OF, plan.phase_budget)
    n = plan.profile_validate
    say(f"cProfile: validate N = {n:,}")
    results.profiles[f"validate, N = {n:,} (in process, all checks)"] = measure.profile(
        lambda: validate(dirs[n], str(dirs[n]), as_of=AS_OF))
    n = plan.profile_resolve
    say(f"cProfile: load N = {n:,}")
    results.profiles[f"load_knowledge, N = {n:,} (parse, schema, build)"] = measure.profile(
        lambda: load_knowledge(dirs[n], str(dirs[n])))
    kb = load_knowledge(dirs[n], str(dirs[n])).kb
    assert kb.vocabulary is not None
    index = Index(kb)
    cases = case_maker.make_cases(kb.vocabulary, 300)
    say(f"cProfile: resolve N = {n:,}, {len(cases)} cases")
    results.profiles[f"resolve, N = {n:,}, {len(cases)} cases (prebuilt Index)"] = measure.profile(
        lambda: [resolve(kb, case, as_of=AS_OF, index=index).ids("applies") for case in cases])


# ---------------------------------------------------------------- entry point

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run on small sizes (writes nothing by default)")
    parser.add_argument("--out", type=Path, help="markdown report (default for a full run: docs/performance.md)")
    parser.add_argument("--work", type=Path, help="directory for generated knowledge bases (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated knowledge bases")
    parser.add_argument("--timeout", type=float, help="seconds after which a validation is stopped")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.timeout:
        plan = Plan(**{**plan.__dict__, "timeout": args.timeout})
    out = args.out if args.out else (None if args.quick else ROOT / "docs" / "performance.md")
    for tool in ("avn-kb", "check-jsonschema"):
        if not (BIN / tool).exists():
            print(f"benchmarks: {tool} is not installed in {BIN}; pip install -e '.[bench]'", file=sys.stderr)
            return 2
    try:
        import zen  # noqa: F401
    except ImportError:
        print("benchmarks: zen-engine is not installed; pip install -e '.[bench]'", file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="avn-kb-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results = Results(machine=machine(), versions=versions(),
                      command=" ".join(shlex.quote(a) for a in ["python", "-m", "benchmarks.run", *(argv or sys.argv[1:])]),
                      settings={"plan": "quick" if args.quick else "full", **plan.__dict__, "seed": args.seed,
                                "as_of": AS_OF.isoformat()})
    started = time.perf_counter()
    try:
        dirs = make_knowledge(plan, work, results, args.seed)
        sanity(plan, work, results, args.seed, dirs)
        shipped(plan, results)
        validations(plan, dirs, results)
        resolvers(plan, dirs, results)
        say("d. graph, export, render and coverage at " + ", ".join(f"{n:,}" for n in plan.compare))
        measure_commands(BIN / "avn-kb", plan.compare, dirs, work, plan.timeout, results)
        size = max(plan.compare)
        say(f"e. incremental validation: shipped and {size:,}, cold and warm")
        results.incremental = measure_incremental(BIN / "avn-kb", dirs[size], size, work, plan.shipped_runs)
        largest = max(plan.growth)
        if largest in dirs:
            say(f"e. incremental validation at {largest:,}: filling the cache, warm after an edit")
            results.large_edit = warm_after_edit(BIN / "avn-kb", dirs[largest], work, plan.timeout)
        profiles(plan, dirs, results)
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    results.machine["load average at end"] = f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    results.machine["machine speed at end"] = machine_speed()
    results.machine["harness wall time"] = seconds_words(time.perf_counter() - started)
    judge(results, plan)
    from benchmarks.document import render, terminal

    print("\n".join(terminal(results, plan)))
    if out:
        out.write_text(render(results, plan), encoding="utf-8")
        say(f"wrote {out}")
    # The decision service under load writes its own section of the same report.
    from benchmarks import serve_load

    say("decision service under load")
    served = serve_load.main([*(["--quick"] if args.quick else []), *(["--out", str(out)] if out else [])])
    from benchmarks import batch

    say("f. batch answers, one job and two")
    batched = batch.main([*(["--quick"] if args.quick else []), *(["--out", str(out)] if out else [])])
    return 0 if all(ok for _, ok, _ in results.sanity) and served == 0 and batched == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
