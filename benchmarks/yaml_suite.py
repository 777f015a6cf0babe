"""The official YAML test suite (tests/data/yaml-test-suite/), run through YAML parsers.

    python -m benchmarks.yaml_suite [--parsers NAME,...] [--repeat 3] [--show OUTCOME] [--files F...]

Each of the suite's 402 cases is a YAML text, either invalid (`fail`) or valid with, for most,
the JSON of its documents as the YAML 1.2 reference reads them (`json`). A parser's outcome on a
case is one of OUTCOMES: a valid case read to the reference value, read to another value, or
refused; an invalid one refused or accepted; a valid case without reference JSON read or refused.
For each parser installed, the counts and the time to run the whole suite (best of --repeat),
and with --files the time to read those files (real knowledge files: the speed that matters);
docs/performance.md ("Parser choice") and docs/reliability.md ("YAML test suite") record a run.
tests/test_yaml_suite.py uses the same reading of the suite for the project's loader.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `avn_kb` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SUITE = Path(__file__).resolve().parent.parent / "tests" / "data" / "yaml-test-suite" / "cases.json"

RIGHT, WRONG, REFUSED = "valid, right value", "valid, WRONG value", "valid, refused"
NO_JSON_READ, NO_JSON_REFUSED = "valid without JSON, read", "valid without JSON, refused"
INVALID_REFUSED, INVALID_ACCEPTED = "invalid, refused", "invalid, ACCEPTED"
OUTCOMES = (RIGHT, WRONG, REFUSED, NO_JSON_READ, NO_JSON_REFUSED, INVALID_REFUSED, INVALID_ACCEPTED)
_COLUMNS = ("right", "WRONG", "refused", "noJSON:read", "noJSON:ref.", "inv.:refused", "inv.:ACCEPT")


@dataclass(frozen=True)
class Case:
    """One case of the suite: `documents` is the reference reading (one value per document), or
    None where the suite gives no JSON (an invalid case, or one JSON cannot represent)."""

    id: str
    name: str
    yaml: str
    fail: bool
    documents: list[Any] | None


def load_suite(path: Path = SUITE) -> list[Case]:
    """The vendored cases, in the suite's order."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [Case(row["id"], row["name"], row["yaml"], row["fail"],
                 None if row["fail"] or row.get("json") is None else _json_documents(row["json"]))
            for row in rows]


def _json_documents(text: str) -> list[Any]:
    """The suite's in.json holds one JSON value per document, one after the other."""
    decoder, at = json.JSONDecoder(), 0
    values: list[Any] = []
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return values
        value, at = decoder.raw_decode(text, at)
        values.append(value)


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (1 == 1.0 == True is not enough); key order does not matter,
    as in JSON; an integer-valued float matches the reference's integer only if it is a float
    there too (JSON keeps `1.0` and `1` apart)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)


Reader = Callable[[str], list[Any]]
"""A parser under test: the documents of a text, or an exception when it refuses the text."""


def outcome(case: Case, read: Reader) -> tuple[str, list[Any] | None]:
    """What `read` makes of the case, and the documents it gave (None if it refused)."""
    try:
        documents = read(case.yaml)
    except Exception:  # noqa: BLE001 - any refusal by the parser under test
        documents = None
    if case.fail:
        return (INVALID_REFUSED if documents is None else INVALID_ACCEPTED), documents
    if case.documents is None:
        return (NO_JSON_REFUSED if documents is None else NO_JSON_READ), documents
    if documents is None:
        return REFUSED, None
    return (RIGHT if _matches(documents, case.documents) else WRONG), documents


def _matches(documents: list[Any], reference: list[Any]) -> bool:
    if len(documents) == len(reference) and all(map(same, documents, reference)):
        return True
    # several_documents: a one-call API that returns one list for a stream of several documents
    several = len(reference) > 1 and len(documents) == 1 and isinstance(documents[0], list)
    return several and len(documents[0]) == len(reference) and all(map(same, documents[0], reference))


def _readers() -> dict[str, Reader]:
    """Every parser measured that is installed here, by name."""
    from benchmarks.yaml_readers import READERS
    return {name: reader for name, make in READERS.items() if (reader := make()) is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parsers", help="comma-separated names (default: all installed)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--show", choices=OUTCOMES, help="list the cases with this outcome")
    parser.add_argument("--files", nargs="*", type=Path, default=[], help="also time reading these files")
    args = parser.parse_args(argv)
    cases = load_suite()
    files = [Case(str(path), path.name, path.read_text(encoding="utf-8"), False, None) for path in args.files]
    readers = _readers()
    chosen = args.parsers.split(",") if args.parsers else list(readers)
    print(f"{len(cases)} cases; counts per outcome and seconds for the whole suite (best of {args.repeat})")
    print("parser".ljust(28) + "".join(column.rjust(13) for column in _COLUMNS)
          + "seconds".rjust(9) + ("   files: seconds, read" if files else ""))
    for name in chosen:
        read = readers[name]
        results = [(case, *outcome(case, read)) for case in cases]
        counts = Counter(result for _, result, _ in results)
        seconds = min(_timed(read, cases) for _ in range(args.repeat))
        on_files = ""
        if files:
            read_all = all(outcome(file, read)[0] == NO_JSON_READ for file in files)
            file_seconds = min(_timed(read, files) for _ in range(args.repeat))
            on_files = f"   {file_seconds:7.2f}  {'all' if read_all else 'NOT ALL'}"
        print(name.ljust(28) + "".join(str(counts[o]).rjust(13) for o in OUTCOMES) + f"{seconds:9.3f}" + on_files)
        if args.show:
            for case, result, documents in results:
                if result == args.show:
                    print(f"    {case.id:9s} {case.yaml!r:60.60s} -> {documents!r:.60s}")
    return 0


def _timed(read: Reader, cases: list[Case]) -> float:
    start = time.perf_counter()
    for case in cases:
        try:
            read(case.yaml)
        except Exception:  # noqa: BLE001, S112 - refusals cost time too: they are part of the run
            continue
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
