"""The avn-kb command: the console script (pyproject.toml) and `python -m avn_kb`.

pre-commit runs `avn-kb validate` on every commit. That plain form (`validate`, at most one KB_DIR,
`--no-cache`) is run here without importing click, which is about a fifth of a run whose report is
cached (docs/performance.md, e.): the same library calls as the click command (avn_kb/cli/validate.py),
the same bytes on stdout and stderr and the same exit code (tests/test_entry.py). Everything else goes
to the click group, avn_kb.cli.main; so does the plain form whenever this path could answer differently:
a directory the command would refuse, an output click would write otherwise, or an error (the click
command runs it again and reports it as it always has).
"""

from __future__ import annotations

import codecs
import gc
import io
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from avn_kb.util.gcpause import collector_paused
from avn_kb.util.lifetime import ends_after_run

if TYPE_CHECKING:
    from collections.abc import Mapping


def main() -> None:
    if sys.argv[1:2] == ["validate"]:
        # One validation and the process exits: what it loads is left to the operating system.
        # (Not `serve`, which loads and checks the knowledge again on every reload and must free
        # what it replaced.)
        ends_after_run()
    plain = plain_validate(sys.argv[1:], os.environ)
    if plain is not None:
        _validate(*plain)  # exits when it answered
    from avn_kb.cli import main as cli

    cli()


def plain_validate(args: list[str], environ: Mapping[str, str]) -> tuple[str, bool] | None:
    """(KB_DIR, --no-cache) when `args` are the plain form, as click would read them; else None.
    Not on Windows (click expands wildcards there and writes to the console its own way), nor when
    a shell asks click for completions (`_AVN_KB_COMPLETE`)."""
    if os.name != "posix" or not args or args[0] != "validate":
        return None
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in environ):
        return None
    kb_dir, no_cache = "", False
    for arg in args[1:]:
        if arg == "--no-cache":
            no_cache = True
        elif kb_dir or not arg or arg.startswith("-"):
            return None  # a second KB_DIR, an empty one, another option, `--` or `-`: click's to judge
        else:
            kb_dir = arg
    return kb_dir or "knowledge", no_cache


def usable(root: Path) -> bool:
    """Whether the click command's checks of KB_DIR (cli.knowledge_dir, cli.require_manifest) let
    the run go on: a directory that can be listed, holding kb.yaml (a link counts, as they count it).
    When not, the click command says what is wrong."""
    try:
        if not stat.S_ISDIR(os.stat(root).st_mode):
            return False
        with os.scandir(root) as entries:
            next(entries, None)
        os.lstat(root / "kb.yaml")
    except (OSError, ValueError):
        return False
    return True


def plain_stdout(content: str) -> io.TextIOWrapper | None:
    """sys.stdout when click.echo would write `content` to it unchanged: a text stream that is not
    ASCII (click would wrap it), `content` encodable by it (else click's write fails) and free of
    ANSI escapes (which click strips when stdout is not a terminal)."""
    stream = sys.stdout
    if not isinstance(stream, io.TextIOWrapper) or not stream.encoding or not stream.errors or "\x1b" in content:
        return None
    try:
        if codecs.lookup(stream.encoding).name == "ascii":
            return None
        content.encode(stream.encoding, stream.errors)
    except (LookupError, UnicodeError):
        return None
    return stream


@collector_paused()  # validate() pauses it anyway; the imports before it run 40 collections for nothing
def _validate(kb_dir: str, no_cache: bool) -> None:
    """`avn-kb validate [KB_DIR] [--no-cache]` as avn_kb/cli/validate.py runs it, or return (having
    written nothing) for the click command to run it."""
    root = Path(kb_dir)
    try:
        if not usable(root):
            return
        shown = kb_dir.rstrip("/") or kb_dir
        if no_cache:
            from avn_kb.validate.runner import validate

            report = validate(root, shown, as_of=None, base=None)
        else:
            from avn_kb.validate.cache import cache_location, cached_validation

            report = cached_validation(root, shown, as_of=None, base=None, location=cache_location(root, None))
        from avn_kb.output.findings import formatter

        content = formatter("text")(report, False)
        stream = plain_stdout(content)
        if stream is None:
            return
    except KeyboardInterrupt:
        _interrupted()
    except Exception:  # noqa: BLE001 - nothing is written yet: the click command runs it again and reports it
        return
    try:
        stream.write(content)
        stream.flush()
    except OSError as err:  # as cli.emit handles it
        from avn_kb.cli import stdout_failed

        stdout_failed(err, "validate")
    except KeyboardInterrupt:
        _interrupted()
    except Exception as err:  # noqa: BLE001 - as the click group's one handler reports it
        from avn_kb.cli import internal_error

        internal_error(err)
    # The process ends here: spare the collections at exit the walk over every object (10-20 ms
    # of a cold run). Nothing is left to collect: the report is built and written.
    gc.freeze()
    sys.exit(report.exit_code(False))


def _interrupted() -> NoReturn:
    from avn_kb.cli import interrupted

    interrupted()


if __name__ == "__main__":
    main()
