"""Text helpers every output shares: one way to make knowledge text literal inside Markdown."""

from __future__ import annotations

import re

# Every character that can start markup in CommonMark or GitHub Markdown inside a line: code,
# emphasis, links, HTML, tables, headings, strike-through, and the escape character itself.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&|#~])")
# HTML's three as entities, so a renderer that passes raw HTML through still shows them as text.
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group(1)
    return _ENTITIES.get(char, "\\" + char)


def markdown_escape(text: str) -> str:
    """Knowledge text made literal inside one Markdown line: markup characters escaped (no link,
    HTML, heading or emphasis can be injected) and white space, line breaks included, folded to
    single spaces, so one value stays on one line or list item."""
    return _MARKDOWN_SPECIAL.sub(_escaped, " ".join(text.split()))
