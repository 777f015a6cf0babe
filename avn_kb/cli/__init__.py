"""The avn-kb command line: parse options, call one library function, map the result to an exit
code (avn_kb/exitcodes.py: 0 clean, 1 findings at error level or warnings with --strict, 2 usage,
unreadable input or unwritable output, 3 an internal error, a bug: please report it)."""

from __future__ import annotations

import datetime as dt
import errno
import os
import stat
import sys
from importlib import import_module
from pathlib import Path
from typing import Any, NoReturn

import click

from avn_kb import __version__
from avn_kb.util.exitcodes import ExitCode

# The codes live in avn_kb/exitcodes.py; these names stay for the modules that import them from here.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG = ExitCode.OK, ExitCode.FINDINGS, ExitCode.USAGE, ExitCode.BUG


# Errors of a write to standard output (or stderr) that no command catches itself.
_OUTPUT_ERRNOS = frozenset({errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})

# Commands living in other modules, imported only when used: start-up time matters in pre-commit.
LAZY_COMMANDS = {
    "validate": "avn_kb.cli.validate:validate",
    "query": "avn_kb.cli.answers:query",
    "test": "avn_kb.cli.answers:run_tests",
    "coverage": "avn_kb.cli.answers:coverage",
    "render": "avn_kb.cli.site:render",
    "diff": "avn_kb.cli.editorial:diff",
    "export": "avn_kb.cli.editorial:export",
    "graph": "avn_kb.cli.editorial:graph",
    "serve": "avn_kb.cli.serve:serve",
}


class _Group(click.Group):
    """Loads the commands of LAZY_COMMANDS on demand, and turns an unexpected exception into one
    line and exit 3, unless --debug asks for the trace (a file that cannot be used is exit 2)."""

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
            interrupted()
        except Exception as err:  # noqa: BLE001 - the one handler: unusable files exit 2, the rest is a bug
            # The commands catch the read and write failures they expect; this is the net under
            # them: a file the run was pointed at that cannot be used, or an output that cannot
            # take more, is unusable input or output (exit 2), not a bug.
            if isinstance(err, OSError) and err.filename is not None:
                usage(ctx.invoked_subcommand or "", f"cannot read {err.filename}: {err.strerror or err}")
            if isinstance(err, OSError) and err.errno in _OUTPUT_ERRNOS:
                stdout_failed(err, ctx.invoked_subcommand or "")
            if ctx.obj and ctx.obj.get("debug"):
                raise
            internal_error(err)


# Also called by the plain `validate` that avn_kb/__main__.py runs without the group.
def interrupted() -> NoReturn:
    click.echo("avn-kb: interrupted", err=True)
    sys.exit(ExitCode.INTERRUPTED)


def internal_error(err: Exception) -> NoReturn:
    click.echo(f"avn-kb: internal error ({type(err).__name__}: {err}); this is a bug, please "
               "report it; run with --debug for details", err=True)
    sys.exit(ExitCode.BUG)


def parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


def knowledge_dir(value: str) -> Path:
    """The knowledge directory named on the command line, or BadParameter saying why it cannot be
    used: missing, not a directory, or not readable (a listing or its files denied)."""
    path = Path(value)
    wanted = "give the knowledge directory (the one holding kb.yaml)"
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise click.BadParameter(f"{value!r} does not exist; {wanted}") from None
    except OSError as err:
        raise click.BadParameter(f"cannot read {value}: {err.strerror or err}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise click.BadParameter(f"{value!r} is not a directory; {wanted}")
    try:
        # Both rights a run needs: listing the directory (r) and reaching its files (x).
        with os.scandir(path) as entries:
            next(entries, None)
        os.lstat(path / "kb.yaml")
    except FileNotFoundError:
        pass
    except OSError as err:
        raise click.BadParameter(f"cannot read {value}: {err.strerror or err}") from None
    return path


def require_manifest(command: str, root: Path, kb_dir: str) -> None:
    """Exit 2 when `root` has no kb.yaml at all: it is not a knowledge directory, and a report of
    every required file missing would only hide the mistake (a kb.yaml that is there but broken,
    or a knowledge directory missing another file, is a finding)."""
    if not os.path.lexists(root / "kb.yaml"):
        usage(command, f"{kb_dir} has no kb.yaml, so it is not a knowledge directory: give the folder that "
                       "holds kb.yaml, vocabulary.yaml and references.yaml (default: knowledge)")


def date_option(command: str, value: str | None) -> dt.date | None:
    """--as-of, or exit 2 naming the problem."""
    try:
        return parse_date(value)
    except click.BadParameter as err:
        usage(command, err.message)


def usage(command: str, message: str) -> NoReturn:
    """One line on stderr, `avn-kb <command>: <message>`, and exit 2."""
    click.echo(f"avn-kb {command}: {message}" if command else f"avn-kb: {message}", err=True)
    sys.exit(ExitCode.USAGE)


def command_name() -> str:
    """The running command as typed after `avn-kb` ("export fhir"), for messages."""
    ctx = click.get_current_context(silent=True)
    names = []
    while ctx is not None and not isinstance(ctx.command, _Group):  # the group is "avn-kb" itself
        names.append(ctx.info_name or ctx.command.name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def emit(content: str, output: str | None) -> None:
    """A command's result on stdout, or written atomically to the file `output` (a regular file or
    a new name in an existing folder: avn_kb/fileio.py); a failed write is one line and exit 2."""
    if output is None:
        try:
            click.echo(content, nl=False)
        except OSError as err:
            stdout_failed(err)
        return
    from avn_kb.cli.fileio import write_atomic

    try:
        write_atomic(Path(output), content)
    except OSError as err:
        usage(command_name(), f"cannot write {output}: {err.strerror or err}")


def stdout_failed(err: OSError, command: str | None = None) -> NoReturn:
    """Exit 2 for a standard output that cannot be written (a full disk, a closed pipe)."""
    try:
        # The interpreter flushes stdout again on the way out; aimed at /dev/null that flush
        # cannot fail too and turn this exit 2 into Python's 120.
        descriptor = sys.stdout.fileno()
        os.dup2(os.open(os.devnull, os.O_WRONLY), descriptor)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file descriptor (a test runner's buffer): nothing will flush it
    usage(command_name() if command is None else command, f"cannot write to standard output: {err.strerror or err}")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog="""\b
Examples:
  avn-kb validate knowledge
  avn-kb test knowledge
  avn-kb query --set site=knee --set ficat_stage=II --set phase=chronic
Each command's --help ends with its own examples.
""")
@click.version_option(__version__, prog_name="avn-kb")
@click.option("--debug", is_flag=True, help="Show the full trace of an internal error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Clinical guidance on avascular necrosis kept as data: validate it, test it, query it."""
    ctx.obj = {"debug": debug}
