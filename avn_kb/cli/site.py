"""`avn-kb render`: the guidance as a static site (or one Markdown file) for people to read."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from avn_kb.cli import EXIT_OK, knowledge_dir, usage
from avn_kb.cli.common import allow_incomplete_option, load_for_use
from avn_kb.cli.fileio import write_atomic
from avn_kb.output.notices import notices
from avn_kb.output.site import FORMATS
from avn_kb.output.site import render as render_files


def _output_dir(out: str, kb_dir: str) -> Path:
    """The output directory, or exit 2 when it would put files inside the knowledge directory."""
    try:
        knowledge = knowledge_dir(kb_dir).resolve()
    except click.BadParameter as err:
        usage("render", err.message)
    target = Path(out)
    if target.resolve().is_relative_to(knowledge):
        usage("render", f"--out {out} is inside the knowledge directory {kb_dir}; the knowledge directory "
                        "holds only the guidance itself: choose a directory outside it (e.g. site/)")
    if target.exists() and not target.is_dir():
        usage("render", f"--out {out} exists and is not a directory")
    return target


@click.command(epilog="""\b
Examples:
  avn-kb render --out site
  avn-kb render --kb knowledge --out site --format markdown
""")
@click.option("--kb", "kb_dir", default="knowledge", show_default=True, help="Knowledge directory.")
@click.option("--out", "out", required=True, metavar="DIR",
              help="Directory to write to (created if needed; must be outside the knowledge directory).")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="html", show_default=True,
              help="html: index.html with inline styles, script and pictures; markdown: index.md.")
@allow_incomplete_option
def render(kb_dir: str, out: str, fmt: str, allow_incomplete: bool) -> None:
    """Write the guidance as a readable article: sections by topic, status, strength, certainty and
    numbered citations for every recommendation, the coverage matrix and the overrides graph."""
    target = _output_dir(out, kb_dir)
    ready = load_for_use("render", kb_dir, allow_incomplete)
    files = render_files(ready.kb, fmt, notices(ready.kb, ready.problems))
    try:
        # The output directory is render's own: made here if needed (unlike -o's folder). The
        # files in it obey -o's rules: a link or a device at index.html is refused, not replaced.
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        usage("render", f"cannot write {out}: {err.strerror or err}")
    written = []
    for name, content in files.items():
        try:
            write_atomic(target / name, content)
        except OSError as err:
            usage("render", f"cannot write {target / name}: {err.strerror or err}")
        written.append(str(target / name))
    click.echo("\n".join(f"wrote {path}" for path in written))
    sys.exit(EXIT_OK)
