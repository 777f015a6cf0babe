"""The formatted reference (avn_kb.output.citations.formatted), used by the rendered page, the
answers and the FHIR export: Vancouver-like, and a part the record lacks is left out with its
punctuation, never printed as a placeholder."""

from __future__ import annotations

from typing import Any

import pytest

from avn_kb.model.knowledge import Reference, Source
from avn_kb.output.citations import formatted, year


def reference(title: str, csl: dict[str, Any]) -> Reference:
    return Reference(id="x-2000", title=title, population="p", topics=("t",), covers=None, doi=None, pmid=None,
                     pmcid=None, design=None, status="active", where=Source("references.yaml"),
                     csl={"title": title, **csl})


ONE = [{"family": "Neumann", "given": "DA"}]
JOURNAL = {"container-title": "Arthritis Care Res", "issued": {"date-parts": [[1989]]}}

# (title, CSL fields, formatted)
CASES = [
    ("A plain title", {"author": ONE, **JOURNAL}, "Neumann DA. A plain title. Arthritis Care Res. 1989."),
    ("A title ending in a full stop.", {"author": ONE, **JOURNAL},
     "Neumann DA. A title ending in a full stop. Arthritis Care Res. 1989."),
    ("Who should have surgery?", {"author": ONE, **JOURNAL},
     "Neumann DA. Who should have surgery? Arthritis Care Res. 1989."),
    # No journal and no year: the title ends the entry, with one full stop and no "n.d.".
    ("Selected principles of hip joint protection.", {"author": ONE},
     "Neumann DA. Selected principles of hip joint protection."),
    ("No year", {"author": ONE, "container-title": "J Bone Joint Surg Br", "volume": "67", "issue": "1",
                 "page": "3-9"}, "Neumann DA. No year. J Bone Joint Surg Br. 67(1):3-9."),
    ("Pages only", {"author": ONE, "page": "3-9"}, "Neumann DA. Pages only. 3-9."),
    ("Full", {"author": ONE, **JOURNAL, "volume": "2", "issue": "4", "page": "146-155"},
     "Neumann DA. Full. Arthritis Care Res. 1989;2(4):146-155."),
    # The record cuts the list short: "et al." after the names it gives.
    ("Cut short", {"author": [{"family": "Kuroda", "given": "Y"}, {"literal": "others"}], **JOURNAL},
     "Kuroda Y, et al. Cut short. Arthritis Care Res. 1989."),
    ("Three and more", {"author": [{"family": "Ando", "given": "W"}, {"family": "Sakai", "given": "T"},
                                   {"family": "Fukushima", "given": "W"}, {"literal": "others"}], **JOURNAL},
     "Ando W, Sakai T, Fukushima W, et al. Three and more. Arthritis Care Res. 1989."),
    ("Exactly three", {"author": [{"family": "Mont", "given": "MA"}, {"family": "Carbone", "given": "JJ"},
                                  {"family": "Fairbank", "given": "AC"}], **JOURNAL},
     "Mont MA, Carbone JJ, Fairbank AC. Exactly three. Arthritis Care Res. 1989."),
    ("Five named", {"author": [{"family": n, "given": "A"} for n in ("Hines", "Jo", "Cui", "Mont", "Koo")],
                    **JOURNAL}, "Hines A, Jo A, Cui A, et al. Five named. Arthritis Care Res. 1989."),
    # A suffix stays after the initials.
    ("Suffix", {"author": [{"family": "Lichtman", "given": "DM"},
                           {"family": "Pientka", "given": "WF", "suffix": "2nd"}], **JOURNAL},
     "Lichtman DM, Pientka WF 2nd. Suffix. Arthritis Care Res. 1989."),
    ("An organisation", {"author": [{"literal": "World Health Organization"}], **JOURNAL},
     "World Health Organization. An organisation. Arthritis Care Res. 1989."),
    ("No author", JOURNAL, "No author. Arthritis Care Res. 1989."),
]


@pytest.mark.parametrize(("title", "csl", "expected"), CASES, ids=[c[0] for c in CASES])
def test_formatted(title: str, csl: dict[str, Any], expected: str) -> None:
    assert formatted(reference(title, csl)) == expected


def test_a_short_label_still_says_when_the_year_is_missing() -> None:
    assert (year({}), year(JOURNAL)) == ("n.d.", "1989")
