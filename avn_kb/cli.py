"""The avn-kb command line: parse options, call one library function, map the result to an exit
code. Exit codes: 0 clean, 1 findings at error level (or warnings with --strict), 2 usage or
unreadable input, 3 an internal error (a bug: please report it)."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from avn_kb import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


# Commands living in other modules, imported only when used: start-up time matters in pre-commit.
LAZY_COMMANDS = {
    "query": "avn_kb.cli_query:query",
    "test": "avn_kb.cli_query:run_tests",
    "coverage": "avn_kb.cli_query:coverage",
    "render": "avn_kb.cli_render:render",
    "diff": "avn_kb.cli_editorial:diff",
    "export": "avn_kb.cli_editorial:export",
    "graph": "avn_kb.cli_editorial:graph",
}


class _Group(click.Group):
    """Loads the commands of LAZY_COMMANDS on demand, and turns an unexpected exception into one
    line and exit 3, unless --debug asks for the trace."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            module, _, attribute = LAZY_COMMANDS[name].partition(":")
            self.add_command(getattr(import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("avn-kb: interrupted", err=True)
            sys.exit(130)
        except Exception as err:  # noqa: BLE001 - anything reaching here is a bug, not bad input
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"avn-kb: internal error ({type(err).__name__}: {err}); this is a bug, please "
                       "report it; run with --debug for details", err=True)
            sys.exit(EXIT_BUG)


def parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


def knowledge_dir(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise click.BadParameter(f"{value!r} does not exist; give the knowledge directory (the one holding kb.yaml)")
    if not path.is_dir():
        raise click.BadParameter(f"{value!r} is not a directory; give the knowledge directory (the one holding kb.yaml)")
    return path


def date_option(command: str, value: str | None) -> dt.date | None:
    """--as-of, or exit 2 naming the problem."""
    try:
        return parse_date(value)
    except click.BadParameter as err:
        usage(command, err.message)


def usage(command: str, message: str) -> NoReturn:
    click.echo(f"avn-kb {command}: {message}", err=True)
    sys.exit(EXIT_USAGE)


def emit(content: str, output: str | None) -> None:
    if output is None:
        click.echo(content, nl=False)
        return
    from avn_kb.fileio import write_atomic

    try:
        write_atomic(Path(output), content)
    except OSError as err:
        raise click.ClickException(f"cannot write {output}: {err.strerror or err}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="avn-kb")
@click.option("--debug", is_flag=True, help="Show the full trace of an internal error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Clinical guidance on avascular necrosis kept as data: validate it, test it, query it."""
    ctx.obj = {"debug": debug}


def _format_choices() -> list[str]:
    from avn_kb.report import FORMAT_NAMES

    return list(FORMAT_NAMES)


@main.command()
@click.argument("kb_dir", default="knowledge", metavar="[KB_DIR]")
@click.option("--format", "fmt", type=click.Choice(_format_choices()), default="text", show_default=True,
              help="Report format.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--as-of", "as_of", metavar="DATE", help="Judge review dates as of this day (default today).")
@click.option("--base", metavar="GIT_REF", help="Also check versions against the knowledge base at this git "
              "revision (e.g. origin/main): bumps, removals, status changes.")
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE (atomically) instead of stdout.")
def validate(kb_dir: str, fmt: str, strict: bool, as_of: str | None, base: str | None, output: str | None) -> None:
    """Check the knowledge base in KB_DIR (default: knowledge)."""
    from avn_kb.engine import validate as run_validation
    from avn_kb.loader import GitError
    from avn_kb.report import formatter

    try:
        root = knowledge_dir(kb_dir)
        day = parse_date(as_of)
        report = run_validation(root, kb_dir.rstrip("/") or kb_dir, as_of=day, base=base)
    except click.BadParameter as err:
        usage("validate", err.message)
    except GitError as err:
        usage("validate", f"cannot read --base {base}: {err}")
    emit(formatter(fmt)(report, strict), output)
    sys.exit(report.exit_code(strict))

