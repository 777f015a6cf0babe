"""The SARIF rule of every finding code, written from its entry in docs/checks.md: the entry's
heading gives the rule's friendly name, its first paragraph the full description, the whole entry
the help (markdown, and as plain text), and the link goes to the entry's anchor in the repository.

docs/checks.md ships inside the package (avn_kb.docs) so that an installed avn-kb writes the same
help as a checkout; the codes' one-line summaries (avn_kb/model/codes.py) are the short
descriptions, and stand in for an entry with no text of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avn_kb import REPOSITORY_URL
from avn_kb.model.codes import CODES

CHECKS_DOC = "docs/checks.md"  # in the repository, and as avn_kb/docs/checks.md in a wheel
LEVEL = {"error": "error", "warning": "warning", "info": "note"}

_ENTRY = re.compile(r"^### (AVN[0-9]{3}) (.+)$")


@dataclass(frozen=True)
class Entry:
    """One code's section of docs/checks.md: its heading (without the code) and its markdown body."""

    title: str
    body: str


def checks_doc_text() -> str:
    """docs/checks.md: from the copy inside an installed package, else from the checkout beside it."""
    package = Path(__file__).resolve().parents[2]  # avn_kb/, above avn_kb/output/findings/
    # Inside first: beside an installed package is site-packages, where any project's docs/ may be.
    for candidate in (package / CHECKS_DOC, package.parent / CHECKS_DOC):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    from importlib import resources  # a package that is not plain files, such as a zip

    return resources.files("avn_kb.docs").joinpath("checks.md").read_text(encoding="utf-8")


def entries(text: str) -> dict[str, Entry]:
    """Each code's entry: from its `### AVNnnn title` heading to the next heading."""
    found: dict[str, Entry] = {}
    code, title = "", ""
    body: list[str] = []
    for line in [*text.splitlines(), "## end"]:
        if line.startswith(("## ", "### ")):
            if code:
                found[code] = Entry(title, "\n".join(body).strip())
            match = _ENTRY.match(line)
            code, title, body = (match.group(1), match.group(2).strip(), []) if match else ("", "", [])
        elif code:
            body.append(line)
    return found


def anchor(heading: str) -> str:
    """The fragment GitHub gives a markdown heading: lower case, punctuation dropped (hyphens and
    underscores kept), spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def friendly_name(title: str) -> str:
    """The rule's name as SARIF advises: one PascalCase identifier ("FileCannotBeRead"), with no
    two capitals in a row (acronyms as words, "a" left out)."""
    words = re.findall(r"[A-Za-z0-9]+", title.replace("'", ""))
    return "".join(word.capitalize() for word in words if word.lower() != "a")


def plain(markdown: str) -> str:
    """Markdown as plain text: code spans and emphasis unmarked, fences dropped."""
    lines = [line for line in markdown.splitlines() if not line.startswith("```")]
    return re.sub(r"[`*]", "", "\n".join(lines))


def _sentence(text: str, capital: bool = True) -> str:
    """`text` as a sentence: a capital (not where it opens with code, whose case matters) and a stop."""
    text = text.strip()
    text = text[:1].upper() + text[1:] if capital else text
    return text if text.endswith((".", "?", "!")) else text + "."


def rules() -> list[dict[str, Any]]:
    """A reportingDescriptor for every code, in code order (results point at them by index)."""
    documented = entries(checks_doc_text())
    made = []
    for code, known in CODES.items():
        entry = documented.get(code, Entry(known.summary, ""))
        summary = _sentence(known.summary)
        first = entry.body.split("\n\n")[0] if entry.body else ""
        full = summary if not first or first.startswith("```") else \
            _sentence(" ".join(plain(first).split()), capital=not first.startswith("`"))
        uri = f"{REPOSITORY_URL}/blob/main/{CHECKS_DOC}#{anchor(f'{code} {entry.title}')}"
        markdown = f"**{code} {entry.title}**\n\n{entry.body or summary}\n\n[{CHECKS_DOC}]({uri})"
        made.append({
            "id": code,
            "name": friendly_name(entry.title),
            "shortDescription": {"text": summary},
            "fullDescription": {"text": full},
            "help": {"text": f"{code} {entry.title}\n\n{plain(entry.body) or summary}\n\nSee {uri}",
                     "markdown": markdown},
            "helpUri": uri,
            "defaultConfiguration": {"level": LEVEL[known.severity]},
            "properties": {"tags": [f"AVN{code[3]}xx"]},
        })
    return made
