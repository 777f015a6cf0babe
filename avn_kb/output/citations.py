"""Citation numbering shared by every output: each reference gets one number, in order of first
citation, and every number resolves to one entry of one reference list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from avn_kb.model.knowledge import Recommendation, Reference
from avn_kb.util.memo import remembered


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


# A name with this literal marks an author list cut short in the record (the source lists more
# authors than the bibliography names); it prints as "et al.".
MORE_AUTHORS = "others"
# Vancouver style names at most this many authors before "et al.".
AUTHORS_SHOWN = 3


def _name(person: Mapping[str, Any]) -> str:
    """`Family Given Suffix` (Vancouver keeps a suffix such as 2nd or Jr after the initials)."""
    literal = person.get("literal")
    if literal:
        return str(literal)
    return " ".join(str(p) for p in (person.get("family"), person.get("given"), person.get("suffix")) if p)


def authors(csl: Mapping[str, Any]) -> str:
    """The author list, ending in "et al" when the record says the list is cut short or it is longer
    than AUTHORS_SHOWN."""
    people = csl.get("author", [])
    names = [_name(person) for person in people if person.get("literal") != MORE_AUTHORS]
    more = len(names) < len(people) or len(names) > AUTHORS_SHOWN
    return ", ".join(names[:AUTHORS_SHOWN] + (["et al"] if more else []))


def issued_year(csl: Mapping[str, Any]) -> str | None:
    parts = csl.get("issued", {}).get("date-parts", [[]])
    return str(parts[0][0]) if parts and parts[0] else None


def year(csl: Mapping[str, Any]) -> str:
    """The year for a short label ("n.d." when the record has none)."""
    return issued_year(csl) or "n.d."


def _sentence(text: str) -> str:
    """The text ending in one full stop (a title that ends in ".", "?" or "!" gets no second one)."""
    return text if text.endswith(("?", "!", ".")) else text + "."


def formatted(ref: Reference) -> str:
    """Vancouver-like: Authors. Title. Journal. Year;volume(issue):pages. A part the record lacks is
    left out, with its punctuation. Formatted once per reference (every answer lists them)."""
    return remembered(ref, "_formatted", lambda: _formatted(ref))


def _formatted(ref: Reference) -> str:
    csl = ref.csl
    parts = (authors(csl), ref.title, csl.get("container-title"))
    text = " ".join(_sentence(str(p)) for p in parts if p)
    detail = issued_year(csl) or ""
    if csl.get("volume"):
        detail += (";" if detail else "") + str(csl["volume"])
        if csl.get("issue"):
            detail += f"({csl['issue']})"
    if csl.get("page"):
        detail += (":" if detail else "") + str(csl["page"])
    return f"{text} {detail}." if detail else text


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
