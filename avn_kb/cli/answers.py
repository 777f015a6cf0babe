"""`avn-kb query`, `avn-kb test` and `avn-kb coverage`: the commands that answer for patients."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from avn_kb.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, date_option, emit, usage
from avn_kb.cli.batch import BatchOutput, Defaults, run_batch
from avn_kb.cli.common import allow_incomplete_option, kb_location, load_for_use
from avn_kb.load.batch import AUDIENCES
from avn_kb.load.cases import CaseError, case_from_bytes, case_from_options
from avn_kb.load.safe_yaml import MAX_FILE_BYTES
from avn_kb.output import answers
from avn_kb.output.answers import FORMATS as ANSWER_FORMATS
from avn_kb.output.answers.data import as_data
from avn_kb.output.coverage import FORMATS as COVERAGE_FORMATS
from avn_kb.output.coverage import CoverageView
from avn_kb.output.golden import FORMATS as GOLDEN_FORMATS
from avn_kb.output.golden import GoldenReport
from avn_kb.output.notices import notices
from avn_kb.resolve.resolver import resolve

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
  avn-kb query --batch cases.jsonl --compact --jobs 0 -o answers.jsonl
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
@click.option("--audience", type=click.Choice(AUDIENCES), default="clinician", show_default=True,
              help="Whose wording (with --batch, the default for lines that give no audience).")
@click.option("--include-status", "statuses", multiple=True, type=click.Choice(STATUSES),
              help="Consider recommendations with this status too (default: approved only).")
@click.option("--as-of", "as_of", metavar="DATE",
              help="Resolve as of this day (default today; with --batch, for lines that give no as_of).")
@click.option("--batch", "batch", metavar="FILE",
              help="JSON Lines of cases ('-' for stdin; docs/format.md, schema/batch-line.schema.json): "
                   "one answer per line.")
@click.option("--compact", is_flag=True,
              help="With --batch and JSON: the knowledge base and its references once, on the first line, "
                   "then each answer without them (schema/query-result-compact.schema.json).")
@click.option("--jobs", type=click.IntRange(min=0), default=1, show_default=True, metavar="N",
              help="With --batch: answer with N processes (0: one per core); the output is the same, in the "
                   "same order.")
@click.option("-o", "--output", metavar="FILE", help="Write the answer to FILE (atomically).")
@allow_incomplete_option
def query(case_file: str | None, kb_dir: str, settings: tuple[str, ...], fmt: str, explain: bool, show_all: bool,
          audience: str, statuses: tuple[str, ...], as_of: str | None, batch: str | None, compact: bool,
          jobs: int, output: str | None, allow_incomplete: bool) -> None:
    """Which recommendations apply to a patient case, which do not, which are undecided, and why."""
    day = date_option("query", as_of)
    fmt = fmt or ("json" if batch is not None else "text")
    if compact and (batch is None or fmt != "json"):
        usage("query", "--compact is for --batch answers in JSON Lines (--format json, the default with --batch)")
    if jobs != 1 and batch is None:
        usage("query", "--jobs is for --batch: one case is answered by one process")
    if not settings and case_file is None and batch is None:
        # An empty case would answer "undecided" for nearly everything: a mistake, not a question.
        usage("query", NO_FACTS)
    ready = load_for_use("query", kb_dir, allow_incomplete)
    kb = ready.kb
    assert kb.vocabulary is not None
    wanted = tuple(dict.fromkeys(("approved", *statuses)))
    if batch is not None:
        sys.exit(run_batch(ready, batch, Defaults(day, wanted, audience, explain, show_all),
                           BatchOutput(fmt, compact, output), jobs or os.cpu_count() or 1))
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
