"""Parser choice, measured: the safe loader's two paths over the same YAML files.

    python -m benchmarks.parsers /tmp/kb-10k/recommendations/*.yaml [--repeat 5]

For each path, the best of `--repeat` runs over all the files, with the cyclic garbage collector
paused as `load_knowledge` runs the loader: wall and CPU time. The fast path is also split into
its three gates (guard, yaml-rs, check of the value). Checks that both paths give the same values
and findings, and counts the files the fast path took. docs/performance.md, "Parser choice",
records a run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from avn_kb.util.gcpause import collector_paused
from avn_kb.load import fast_yaml
from avn_kb.load.safe_yaml import MAX_DEPTH, MAX_NODES, load_yaml


def best(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `repeat` runs."""
    timings = []
    for _ in range(repeat):
        with collector_paused():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            timings.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    files = [(str(path), path.read_bytes()) for path in args.files]
    texts = [(data.decode("utf-8"), data) for _, data in files]
    size = sum(len(data) for _, data in files) / 1e6

    fast = [load_yaml(name, data) for name, data in files]
    slow = [load_yaml(name, data, fast=False) for name, data in files]
    same = all((a.value, a.ok, a.findings) == (b.value, b.ok, b.findings) for a, b in zip(fast, slow))
    taken = sum(fast_yaml.fast_value(text, data, MAX_NODES, MAX_DEPTH) is not None for text, data in texts)
    values = [fast_yaml.yaml_rs.loads(text, parse_datetime=False) for text, _ in texts] if taken else []

    rows = [("event-based path (libyaml events, values built in Python)",
             best(lambda: [load_yaml(name, data, fast=False) for name, data in files], args.repeat)),
            ("fast path, whole load_yaml", best(lambda: [load_yaml(name, data) for name, data in files], args.repeat)),
            ("  1. guard over the text",
             best(lambda: [fast_yaml.passes_guard(text, data, MAX_NODES) for text, data in texts], args.repeat))]
    if values:
        rows += [("  2. yaml_rs.loads",
                  best(lambda: [fast_yaml.yaml_rs.loads(text, parse_datetime=False) for text, _ in texts], args.repeat)),
                 ("  3. check of the value (and node count)",
                  best(lambda: [fast_yaml.read_alike(value, MAX_NODES, MAX_DEPTH) for value in values], args.repeat))]
    print(f"{len(files)} files, {size:.1f} MB; fast path taken for {taken}; same values and findings: {same}")
    for name, (wall, cpu) in rows:
        print(f"{name:60s} wall {wall:6.2f} s   CPU {cpu:6.2f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
