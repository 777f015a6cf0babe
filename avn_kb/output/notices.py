"""What every answer, page and export says before anything else: the manifest's notice (what this
content is and is not, e.g. demonstration content not reviewed by a clinical board), and that it
was made from a knowledge base that did not load whole (the files and findings are listed by the
command). Each output format shows these lines at its top in its own way (a banner, a JSON field,
a comment, a FHIR meta tag)."""

from __future__ import annotations

from collections.abc import Sequence

from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import KnowledgeBase


def incomplete_banner(problems: Sequence[Finding]) -> str:
    files = ", ".join(dict.fromkeys(f.path for f in problems))
    count = len(problems)
    return (f"INCOMPLETE: {count} loading error{'' if count == 1 else 's'} in {files}; recommendations from "
            "there may be missing or misread, so this answer may be wrong: run avn-kb validate and fix them")


def notices(kb: KnowledgeBase, problems: Sequence[Finding] = ()) -> tuple[str, ...]:
    """The lines to show at the top of an output made from `kb`."""
    lines: list[str] = []
    if kb.manifest is not None and kb.manifest.notice:
        lines.append(" ".join(kb.manifest.notice.split()))
    if problems:
        lines.append(incomplete_banner(problems))
    return tuple(lines)
