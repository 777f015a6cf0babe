"""Citation numbering shared by every output: each reference gets one number, in order of first
citation, and every number resolves to one entry of one reference list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from avn_kb.model.knowledge import Recommendation, Reference


class Numbering:
    def __init__(self, references: Iterable[Reference]) -> None:
        self.references = {ref.id: ref for ref in references}
        self.numbers: dict[str, int] = {}

    def cite(self, rec: Recommendation) -> list[tuple[int, str, str | None]]:
        """(number, reference id, locator) for each citation of the recommendation."""
        cited = []
        for citation in rec.citations:
            number = self.numbers.setdefault(citation.ref, len(self.numbers) + 1)
            cited.append((number, citation.ref, citation.locator))
        return cited

    def listing(self) -> list[tuple[int, str, Reference | None]]:
        return [(n, ref_id, self.references.get(ref_id)) for ref_id, n in self.numbers.items()]


def authors(csl: Mapping[str, Any]) -> str:
    names = []
    for person in csl.get("author", []):
        names.append(person.get("literal") or " ".join(p for p in (person.get("family"), person.get("given")) if p))
    if len(names) > 3:
        names = names[:3] + ["et al"]
    return ", ".join(names)


def year(csl: Mapping[str, Any]) -> str:
    parts = csl.get("issued", {}).get("date-parts", [[]])
    return str(parts[0][0]) if parts and parts[0] else "n.d."


def formatted(ref: Reference) -> str:
    """Vancouver-like: authors. Title. Journal. Year;volume(issue):pages."""
    csl = ref.csl
    title = ref.title if ref.title.endswith(("?", "!", ".")) else ref.title + "."
    text = " ".join(p for p in (authors(csl) + "." if csl.get("author") else "", title, csl.get("container-title"))
                    if p)
    detail = year(csl)
    if csl.get("volume"):
        detail += f";{csl['volume']}"
        if csl.get("issue"):
            detail += f"({csl['issue']})"
    if csl.get("page"):
        detail += f":{csl['page']}"
    return f"{text}. {detail}."


def links(ref: Reference) -> list[tuple[str, str]]:
    """(label, URL) for the identifiers the reference has."""
    found = []
    if ref.doi:
        found.append((f"doi:{ref.doi}", f"https://doi.org/{ref.doi}"))
    if ref.pmid:
        found.append((f"PMID {ref.pmid}", f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"))
    if ref.pmcid:
        found.append((ref.pmcid, f"https://www.ncbi.nlm.nih.gov/pmc/articles/{ref.pmcid}/"))
    return found
