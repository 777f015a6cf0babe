"""Render the knowledge base as a document people read: a static HTML page or one Markdown file.

`build` turns the knowledge base into an Article once (sections, citation numbers, reference list,
coverage matrix, graph layout); each format is a pure function of that Article, looked up by name
in FORMATS (the CLI's --format choices come from here)."""

from __future__ import annotations

from collections.abc import Callable

from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.site import html, markdown
from avn_kb.output.site.article import Article, build

FORMATS: dict[str, Callable[[Article], dict[str, str]]] = {
    "html": html.render,
    "markdown": markdown.render,
}


def render(kb: KnowledgeBase, fmt: str, notes: tuple[str, ...] = ()) -> dict[str, str]:
    """{file name: content} of the rendered guidance in format `fmt` (a key of FORMATS), with
    `notes` (avn_kb.output.notices) above everything."""
    return FORMATS[fmt](build(kb, notes))
