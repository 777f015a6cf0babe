"""`avn-kb diff`, `avn-kb export fhir` and `avn-kb graph`: the commands for the editorial workflow
and for other systems. Each parses its options, calls one library function and writes through
`emit` (atomically with -o); bad input is a one-line message and exit 2."""

from __future__ import annotations

import json
import sys

import click

from avn_kb.cli import EXIT_OK, emit, knowledge_dir, usage
from avn_kb.cli.common import allow_incomplete_option, load_for_use
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.changelog import FORMATS as DIFF_FORMATS
from avn_kb.output.changelog import ChangelogView
from avn_kb.output.fhir.bundle import DEFAULT_BASE, VERSIONS
from avn_kb.output.graph import FORMATS as GRAPH_FORMATS
from avn_kb.output.notices import notices


def _load_revision(kb_dir: str, ref: str | None) -> tuple[KnowledgeBase, frozenset[str]]:
    """The knowledge base at a git revision (None: the working tree) and the ids of the
    recommendations that failed to load, or exit 2 saying why."""
    from avn_kb.load.git_source import GitError, GitSource
    from avn_kb.load.knowledge import load_knowledge

    try:
        root = knowledge_dir(kb_dir)
    except click.BadParameter as err:
        usage("diff", err.message)
    shown = kb_dir.rstrip("/") or kb_dir
    label = ref or "the working tree"
    try:
        loaded = load_knowledge(root if ref is None else GitSource(root, ref), shown)
    except GitError as err:
        usage("diff", f"cannot read {kb_dir} at {ref}: {err}")
    if loaded.kb.manifest is None:
        usage("diff", f"{kb_dir} at {label} has no usable kb.yaml; is it a knowledge directory at that revision?")
    errors = sum(1 for f in loaded.findings if f.severity == "error")
    if errors:
        # Entries that fail their schema are not built: they would look removed (or added).
        click.echo(f"avn-kb diff: warning: {errors} loading error(s) in {kb_dir} at {label}; recommendations "
                   "that failed to load are left out: run avn-kb validate", err=True)
    return loaded.kb, frozenset(loaded.unbuilt_ids)


@click.command(epilog="""\b
Examples:
  avn-kb diff origin/main
  avn-kb diff v0.1.0 HEAD --format json -o changes.json
""")
@click.argument("old_ref")
@click.argument("new_ref", required=False)
@click.option("--kb", "kb_dir", default="knowledge", show_default=True, help="Knowledge directory.")
@click.option("--format", "fmt", type=click.Choice(list(DIFF_FORMATS)), default="markdown", show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Write the changelog to FILE (atomically).")
def diff(old_ref: str, new_ref: str | None, kb_dir: str, fmt: str, output: str | None) -> None:
    """What changed in the guidance from git revision OLD_REF to NEW_REF (default: the working tree)."""
    from avn_kb.editorial.changelog import changelog

    old, old_unbuilt = _load_revision(kb_dir, old_ref)
    new, new_unbuilt = _load_revision(kb_dir, new_ref)
    log = changelog(old, new, old_unbuilt | new_unbuilt)
    emit(DIFF_FORMATS[fmt](ChangelogView(log, old_ref, new_ref or "working tree")), output)
    sys.exit(EXIT_OK)


@click.group(epilog="""\b
Examples:
  avn-kb export fhir -o avn-kb.fhir.json
  avn-kb export csl -o references.json
""")
def export() -> None:
    """Export the knowledge base in another system's standard."""


@export.command(epilog="""\b
Examples:
  avn-kb export fhir -o avn-kb.fhir.json
  avn-kb export fhir --version R5 --base-url https://example.org/fhir
""")
@click.option("--kb", "kb_dir", default="knowledge", show_default=True, help="Knowledge directory.")
@click.option("--version", "fhir_version", type=click.Choice(VERSIONS), default="R4", show_default=True,
              help="FHIR release.")
@click.option("--base-url", default=DEFAULT_BASE, show_default=True, metavar="URL",
              help="Base of the canonical URLs of the exported resources.")
@click.option("-o", "--output", metavar="FILE", help="Write the Bundle to FILE (atomically).")
@allow_incomplete_option
def fhir(kb_dir: str, fhir_version: str, base_url: str, output: str | None, allow_incomplete: bool) -> None:
    """A FHIR Bundle: a PlanDefinition and an ActivityDefinition per recommendation (docs/interop.md)."""
    from avn_kb.output.fhir.bundle import bundle

    if not base_url.startswith(("https://", "http://", "urn:")):
        usage("export fhir", f"--base-url {base_url!r} is not an absolute URL (https://..., http://... or urn:...)")
    ready = load_for_use("export fhir", kb_dir, allow_incomplete)
    data = bundle(ready.kb, fhir_version, base_url, notices(ready.kb, ready.problems))
    emit(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
    sys.exit(EXIT_OK)


@export.command(epilog="""\b
Examples:
  avn-kb export csl -o references.json
  pandoc --citeproc --bibliography references.json paper.md -o paper.html
""")
@click.option("--kb", "kb_dir", default="knowledge", show_default=True, help="Knowledge directory.")
@click.option("-o", "--output", metavar="FILE", help="Write the bibliography to FILE (atomically).")
@allow_incomplete_option
def csl(kb_dir: str, output: str | None, allow_incomplete: bool) -> None:
    """The bibliography (references.yaml) as CSL-JSON, for reference managers and citeproc (docs/interop.md)."""
    from avn_kb.output.csl import render

    ready = load_for_use("export csl", kb_dir, allow_incomplete)
    emit(render(ready.kb), output)
    sys.exit(EXIT_OK)


@click.command(epilog="""\b
Examples:
  avn-kb graph --format mermaid
  avn-kb graph --kb knowledge --format dot -o kb.dot
""")
@click.option("--kb", "kb_dir", default="knowledge", show_default=True, help="Knowledge directory.")
@click.option("--format", "fmt", type=click.Choice(list(GRAPH_FORMATS)), required=True,
              help="Graphviz DOT or a Mermaid flowchart.")
@click.option("-o", "--output", metavar="FILE", help="Write the graph to FILE (atomically).")
@allow_incomplete_option
def graph(kb_dir: str, fmt: str, output: str | None, allow_incomplete: bool) -> None:
    """The overrides, supersedes and citation graph of the knowledge base."""
    from avn_kb.output.graph import graph_of

    ready = load_for_use("graph", kb_dir, allow_incomplete)
    emit(GRAPH_FORMATS[fmt](graph_of(ready.kb, notices(ready.kb, ready.problems))), output)
    sys.exit(EXIT_OK)

