"""`avn-kb query`, `avn-kb test` and `avn-kb coverage`: the commands that answer for patients."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import click

from avn_kb.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, date_option, emit, stdout_failed, usage
from avn_kb.cli.common import allow_incomplete_option, kb_location, load_for_use
from avn_kb.load.cases import CaseError, case_from_bytes, case_from_json_line, case_from_options
from avn_kb.load.safe_yaml import MAX_FILE_BYTES
from avn_kb.output import answers
from avn_kb.output.answers import FORMATS as ANSWER_FORMATS
from avn_kb.output.answers.data import as_data
from avn_kb.output.coverage import FORMATS as COVERAGE_FORMATS
from avn_kb.output.coverage import CoverageView
from avn_kb.output.golden import FORMATS as GOLDEN_FORMATS
from avn_kb.output.golden import GoldenReport
from avn_kb.output.notices import notices
from avn_kb.resolve.resolver import Index, resolve
from avn_kb.validate.readiness import Readiness

STATUSES = ("draft", "submitted", "under-review", "approved", "retired")
NO_FACTS = ("no facts given: give the case with --set fact=value (repeatable), a case file (YAML or JSON; "
            "'-' reads it from standard input) or --batch FILE of JSON lines; avn-kb query --help lists the options")


def _fail_case(errors: list[CaseError]) -> None:
    for error in errors:
        click.echo(f"avn-kb query: {error}", err=True)
    sys.exit(EXIT_USAGE)


@click.command(epilog="""\b
Examples:
  avn-kb query --set site=femoral-head --set arco_stage=II --set phase=chronic
  avn-kb query case.yaml --format json --explain
  avn-kb query --batch cases.jsonl -o answers.jsonl
""")
@click.argument("case_file", required=False, metavar="[CASE_FILE | -]")
@click.option("--kb", "kb_dir", default="knowledge", show_default=True, help="Knowledge directory.")
@click.option("--set", "settings", multiple=True, metavar="FACT=VALUE",
              help="A fact of the case (repeatable, each fact once; sets as comma-separated values); "
                   "adds to the facts of CASE_FILE, never changes them.")
@click.option("--format", "fmt", type=click.Choice(list(ANSWER_FORMATS)), default=None,
              help="Answer format (default: text; json, one compact line per case, with --batch).")
@click.option("--explain", is_flag=True, help="Show each condition test with the case's value, and citations.")
@click.option("--all", "show_all", is_flag=True, help="Also list recommendations that do not apply.")
@click.option("--audience", type=click.Choice(["clinician", "patient"]), default="clinician", show_default=True)
@click.option("--include-status", "statuses", multiple=True, type=click.Choice(STATUSES),
              help="Consider recommendations with this status too (default: approved only).")
@click.option("--as-of", "as_of", metavar="DATE", help="Resolve as of this day (default today).")
@click.option("--batch", "batch", metavar="FILE", help="JSON Lines of cases ('-' for stdin): one JSON answer per line.")
@click.option("-o", "--output", metavar="FILE", help="Write the answer to FILE (atomically).")
@allow_incomplete_option
def query(case_file: str | None, kb_dir: str, settings: tuple[str, ...], fmt: str, explain: bool, show_all: bool,
          audience: str, statuses: tuple[str, ...], as_of: str | None, batch: str | None, output: str | None,
          allow_incomplete: bool) -> None:
    """Which recommendations apply to a patient case, which do not, which are undecided, and why."""
    day = date_option("query", as_of)
    fmt = fmt or ("json" if batch is not None else "text")
    if not settings and case_file is None and batch is None:
        # An empty case would answer "undecided" for nearly everything: a mistake, not a question.
        usage("query", NO_FACTS)
    ready = load_for_use("query", kb_dir, allow_incomplete)
    kb = ready.kb
    assert kb.vocabulary is not None
    wanted = tuple(dict.fromkeys(("approved", *statuses)))
    if batch is not None:
        sys.exit(_run_batch(ready, batch, day, wanted, audience, explain, output, fmt, show_all))
    base: dict[str, Any] | None = None
    where = "<stdin>" if case_file == "-" else str(case_file)
    if case_file is not None:
        data = _read_case_bytes(case_file)
        base, errors = case_from_bytes(kb.vocabulary, data, where)
        if errors:
            _fail_case(errors)
    facts, errors = case_from_options(kb.vocabulary, settings, base, where)
    if errors or facts is None:
        _fail_case(errors)
        return
    resolution = resolve(kb, facts, as_of=day, statuses=wanted, explain=explain)
    emit(answers.render(kb, as_data(kb, resolution, audience, explain, show_all, ready.problems), fmt), output)
    sys.exit(EXIT_OK)


def _read_case_bytes(case_file: str) -> bytes:
    # Read at most one byte past the limit: the loader then refuses the case as too large, and a
    # stream without end (/dev/zero) is never read whole.
    try:
        if case_file == "-":
            return sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        with open(case_file, "rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        usage("query", f"cannot read {case_file}: {err.strerror or err}")


def _lines(batch: str) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of a JSONL batch; text is None for a line that is not UTF-8 (reported,
    never silently replaced). A byte-order mark at the start is dropped. A batch that cannot be
    read (a directory, no permission, an I/O error) is exit 2 naming it."""
    try:
        stream = sys.stdin.buffer if batch == "-" else open(batch, "rb")
    except OSError as err:
        usage("query", f"cannot read {batch}: {err.strerror or err}")
    try:
        for number, raw in enumerate(_read_or_exit(stream, batch), start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _read_or_exit(stream: Any, batch: str) -> Iterator[bytes]:
    """The lines of `stream`; a failure to read them midway is exit 2 (the answers so far stand)."""
    while True:
        try:
            raw = stream.readline()
        except OSError as err:
            usage("query", f"cannot read {'standard input' if batch == '-' else batch}: {err.strerror or err}")
        if not raw:
            return
        yield raw


def _run_batch(ready: Readiness, batch: str, day: dt.date | None, statuses: tuple[str, ...], audience: str,
               explain: bool, output: str | None, fmt: str, show_all: bool) -> int:
    """Stream one answer per input line (JSON Lines, or a block per case in the other formats); a
    bad line is reported on stderr and skipped."""
    kb = ready.kb
    assert kb.vocabulary is not None
    if batch != "-" and not os.path.lexists(batch):
        usage("query", f"--batch {batch}: no such file")
    index, bad, written = Index(kb), 0, []
    out = sys.stdout if output is None else None
    progress = sys.stderr.isatty() and batch != "-"
    total = sum(1 for _ in _lines(batch)) if progress else 0
    with click.progressbar(length=total, label="cases", file=sys.stderr) if progress else _nullbar() as bar:
        for number, line in _lines(batch):
            bar.update(1)
            if line is None:
                bad += 1
                click.echo(f"avn-kb query: {batch}:{number}: not UTF-8 text: save the batch as UTF-8", err=True)
                continue
            if not line.strip():
                continue
            facts, errors = case_from_json_line(kb.vocabulary, line, f"{batch}:{number}")
            if errors or facts is None:
                bad += 1
                for error in errors:
                    click.echo(f"avn-kb query: {error}", err=True)
                continue
            data = as_data(kb, resolve(kb, facts, as_of=day, statuses=statuses, index=index, explain=explain),
                           audience, explain, show_all, ready.problems)
            data["line"] = number
            case_id = _case_id(line) if len(line) < 100_000 else None
            if case_id:
                data["id"] = case_id
            text = answers.batch_entry(kb, data, fmt)
            if out is not None:
                try:
                    out.write(text)
                except OSError as err:
                    stdout_failed(err)
            else:
                written.append(text)
    if output is not None:
        emit("".join(written), output)
    elif out is not None:
        try:
            out.flush()
        except OSError as err:
            stdout_failed(err)
    return EXIT_USAGE if bad else EXIT_OK


def _case_id(line: str) -> str | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else None


class _nullbar:
    def __enter__(self) -> _nullbar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, _: int) -> None:
        return None


@click.command(name="test", epilog="""\b
Examples:
  avn-kb test knowledge
  avn-kb test --kb knowledge --format junit -o golden-cases.xml
""")
@kb_location
@click.option("--as-of", "as_of", metavar="DATE", help="Default date for cases without as_of (default today).")
@click.option("--format", "fmt", type=click.Choice(list(GOLDEN_FORMATS)), default="text", show_default=True,
              help="text for people, json for tools, junit for CI test reports.")
@click.option("-o", "--output", metavar="FILE", help="Write the results to FILE (atomically).")
@allow_incomplete_option
def run_tests(kb_dir: str, as_of: str | None, fmt: str, output: str | None, allow_incomplete: bool) -> None:
    """Run the golden cases in KB_DIR/cases: a line per case, the differences on failure."""
    from avn_kb.resolve.golden import run_all, unexercised

    day = date_option("test", as_of)
    ready = load_for_use("test", kb_dir, allow_incomplete)
    kb = ready.kb
    runs = run_all(kb, day)
    report = GoldenReport(kb_dir, tuple(runs), tuple(unexercised(kb, runs)), notices(kb, ready.problems))
    emit(GOLDEN_FORMATS[fmt](report), output)
    sys.exit(EXIT_FINDINGS if report.failed else EXIT_OK)


@click.command(epilog="""\b
Examples:
  avn-kb coverage knowledge
  avn-kb coverage --kb knowledge --columns ficat_stage --format json
""")
@kb_location
@click.option("--rows", default="site", show_default=True, help="Enum fact for the rows.")
@click.option("--columns", default="arco_stage", show_default=True, help="Enum fact for the columns.")
@click.option("--format", "fmt", type=click.Choice(list(COVERAGE_FORMATS)), default="text",
              show_default=True)
@click.option("--as-of", "as_of", metavar="DATE")
@allow_incomplete_option
def coverage(kb_dir: str, rows: str, columns: str, fmt: str, as_of: str | None, allow_incomplete: bool) -> None:
    """Which topics approved recommendations cover, site by stage."""
    from avn_kb.resolve import coverage as cov

    day = date_option("coverage", as_of)
    ready = load_for_use("coverage", kb_dir, allow_incomplete)
    kb = ready.kb
    try:
        matrix = cov.coverage(kb, rows, columns, day)
    except ValueError as err:
        usage("coverage", str(err))
    labels = {t: kb.vocabulary.topic_label(t) for t in kb.vocabulary.topics} if kb.vocabulary else {}
    view = CoverageView(matrix, labels, notices(kb, ready.problems), ready.incomplete)
    click.echo(COVERAGE_FORMATS[fmt](view), nl=False)
