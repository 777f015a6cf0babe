"""What the commands share: where the knowledge base is (`--kb`, or the positional KB_DIR the
checking commands also take), loading it for answers (refusing knowledge that did not load), and
the option to answer anyway."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from avn_kb.cli import knowledge_dir, usage

if TYPE_CHECKING:
    from avn_kb.validate.readiness import Readiness


def load_for_use(command: str, kb_dir: str, allow_incomplete: bool = False,
                 load: Callable[[Path, str], Readiness] | None = None) -> Readiness:
    """The knowledge base, or exit 2 when it did not load whole: knowledge that did not load is not
    answered from. Each loading error is listed as validate lists it. With `allow_incomplete` the
    command goes on, and its output says it is incomplete. `load` is load_for_answers (None) or a
    wrapper of it (the service's, which also keeps a digest of the files it read)."""
    # Imported here: `validate` shares this module, and a cached validation loads nothing.
    from avn_kb.validate.readiness import load_for_answers

    try:
        root = knowledge_dir(kb_dir)
    except click.BadParameter as err:
        usage(command, err.message)
    ready = (load or load_for_answers)(root, kb_dir.rstrip("/") or kb_dir)
    for finding in ready.problems:
        click.echo(finding.describe(), err=True)
    if ready.kb.vocabulary is None or ready.kb.manifest is None:
        usage(command, f"the knowledge base in {kb_dir} cannot be used: its manifest or vocabulary did not load; "
                       f"run avn-kb validate {kb_dir}")
    if ready.problems and not allow_incomplete:
        # Offered only by the commands that have the option (the service never answers incomplete).
        ctx = click.get_current_context(silent=True)
        offered = ctx is not None and any(p.name == "allow_incomplete" for p in ctx.command.params)
        usage(command, f"refusing to answer from {kb_dir}: {len(ready.problems)} loading error(s) in "
                       f"{', '.join(ready.files)} (above) leave recommendations out or misread; fix them (avn-kb "
                       f"validate {kb_dir})" + (" or pass --allow-incomplete to answer anyway, marked incomplete"
                                                if offered else ""))
    if ready.problems:
        click.echo(f"avn-kb {command}: warning: answering from an incomplete knowledge base, as asked "
                   "(--allow-incomplete); every output says so", err=True)
    return ready


allow_incomplete_option = click.option(
    "--allow-incomplete", is_flag=True,
    help="Answer even when knowledge files failed to load; every output is then marked incomplete.")



def kb_location(function: Callable[..., Any]) -> Callable[..., Any]:
    """The knowledge directory as the positional KB_DIR (as `validate`, `test` and `coverage` have
    always taken it) or as `--kb` (as every command takes it); giving both, differently, is an
    error. The command receives `kb_dir`."""
    def resolved(*args: Any, kb_arg: str | None, kb_opt: str | None, **kwargs: Any) -> Any:
        if kb_arg and kb_opt and kb_arg != kb_opt:
            usage(click.get_current_context().info_name or "avn-kb",
                  f"the knowledge directory is given twice ({kb_arg} and --kb {kb_opt}): give it once")
        return function(*args, kb_dir=kb_opt or kb_arg or "knowledge", **kwargs)

    functools.update_wrapper(resolved, function)  # keeps the options click attached below
    with_option = click.option("--kb", "kb_opt", default=None, metavar="DIR",
                               help="Knowledge directory (default: knowledge); or give it as KB_DIR.")(resolved)
    return click.argument("kb_arg", required=False, metavar="[KB_DIR]")(with_option)
