"""`avn-kb validate`: check a knowledge base. Imported only when used, like every command: this
is the pre-commit path, so what it imports is what a clean validation needs (tests/test_startup.py)."""

from __future__ import annotations

import sys

import click

from avn_kb.cli import emit, knowledge_dir, parse_date, require_manifest, usage
from avn_kb.cli.common import kb_location

EXAMPLE = """\b
Examples:
  avn-kb validate knowledge
  avn-kb validate --kb knowledge --base origin/main --format github
  avn-kb validate knowledge --format sarif -o avn-kb.sarif
"""


def _format_choices() -> list[str]:
    from avn_kb.output.findings import FORMAT_NAMES

    return list(FORMAT_NAMES)


@click.command(epilog=EXAMPLE)
@kb_location
@click.option("--format", "fmt", type=click.Choice(_format_choices()), default="text", show_default=True,
              help="Report format.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--as-of", "as_of", metavar="DATE", help="Judge review dates as of this day (default today).")
@click.option("--base", metavar="GIT_REF", help="Also check versions against the knowledge base at this git "
              "revision (e.g. origin/main): bumps, removals, status changes.")
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE (atomically) instead of stdout.")
@click.option("--no-cache", "no_cache", is_flag=True, help="Validate from scratch, reading and writing no cache.")
@click.option("--cache-dir", "cache_dir", metavar="DIR", help="Keep the cache in DIR (default: $AVN_KB_CACHE_DIR, "
              "else $XDG_CACHE_HOME/avn-kb, else .avn-kb-cache beside the knowledge directory).")
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", help="Processes to use: 1 never forks; 2 "
              "shares the searching checks with a second process, the same report (default: 2 where there are "
              "two cores, 2,000 to 30,000 recommendations and no kept results to reuse).")
def validate(kb_dir: str, fmt: str, strict: bool, as_of: str | None, base: str | None, output: str | None,
             no_cache: bool, cache_dir: str | None, jobs: int | None) -> None:
    """Check the knowledge base in KB_DIR (default: knowledge): loading, schemas, vocabulary,
    references and evidence, logic, lifecycle, and with --base the versions of a pull request.
    A run with nothing changed prints the stored report (see --no-cache)."""
    from avn_kb.load import GitError
    from avn_kb.output.findings import formatter

    try:
        root = knowledge_dir(kb_dir)
        day = parse_date(as_of)
        require_manifest("validate", root, kb_dir)
        shown = kb_dir.rstrip("/") or kb_dir
        if no_cache:
            from avn_kb.validate.runner import validate as run_validation

            report = run_validation(root, shown, as_of=day, base=base, jobs=jobs)
        else:
            from avn_kb.validate.cache import cache_location, cached_validation

            report = cached_validation(root, shown, as_of=day, base=base,
                                       location=cache_location(root, cache_dir), jobs=jobs)
    except click.BadParameter as err:
        usage("validate", err.message)
    except GitError as err:
        usage("validate", f"cannot read --base {base}: {err}")
    emit(formatter(fmt)(report, strict), output)
    sys.exit(report.exit_code(strict))

