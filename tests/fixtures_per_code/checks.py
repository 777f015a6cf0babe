"""Fixtures for the bibliography, evidence, logic, graph and lifecycle codes (AVN201-AVN406). Most
pairs are rows of the tables that test each family in detail (tests/test_checks_semantic.py,
test_checks_doses.py, test_exercise_loads.py), borrowed by name so that one fixture is written
once; the rest are written here."""

from __future__ import annotations

from typing import Any

from avn_kb.lang.domains import SearchBudget
from tests.fixtures_per_code.rows import Fixture, SearchHeavy, borrowed
from tests.test_checks_doses import ROWS as DOSE_ROWS
from tests.test_checks_semantic import OF, REFS, RT, Expect, append, cited, replace
from tests.test_checks_semantic import ROWS as SEMANTIC_ROWS
from tests.test_exercise_loads import ROWS as EXERCISE_ROWS

# (table, code, positive row, negative row): each negative is the positive's nearest passing variant.
PAIRS: list[tuple[list[Any], str, str, str]] = [
    (SEMANTIC_ROWS, "AVN205", "reference-on-another-topic", "topic-among-several"),
    (SEMANTIC_ROWS, "AVN206", "indirect-not-declared", "same-population-direct"),
    (SEMANTIC_ROWS, "AVN207", "high-on-indirect", "moderate-on-indirect"),
    (SEMANTIC_ROWS, "AVN208", "locator-missing", "every-citation-located"),
    (SEMANTIC_ROWS, "AVN209", "retired-reference", "active-reference"),
    (SEMANTIC_ROWS, "AVN210", "not-covered", "covered-among-several"),
    (SEMANTIC_ROWS, "AVN301", "precaution-against-rt001", "precaution-overrides-rt001"),
    (SEMANTIC_ROWS, "AVN302", "knee-in-upper-limb", "knee-in-lower-limb"),
    (SEMANTIC_ROWS, "AVN303", "narrower-added", "overlapping-added"),
    (SEMANTIC_ROWS, "AVN304", "scope-widened", "scope-widened-and-covered"),
    (SEMANTIC_ROWS, "AVN305", "avoid-for", "avoid-against"),
    (DOSE_ROWS, "AVN307", "intensity-overlaps", "same-range"),
    (DOSE_ROWS, "AVN308", "dose-changed", "text-and-dose-agree"),
    (EXERCISE_ROWS, "AVN309", "loads-the-cases-it-is-prescribed-for", "loads-other-cases"),
    (SEMANTIC_ROWS, "AVN310", "derived-cycle", "derived-chain"),
    (SEMANTIC_ROWS, "AVN311", "overrides-nothing", "overrides-existing"),
    (SEMANTIC_ROWS, "AVN312", "both-approved", "old-one-retired"),
    (SEMANTIC_ROWS, "AVN401", "one-reviewer", "one-reviewer-is-the-policy"),
    (SEMANTIC_ROWS, "AVN402", "stranger-among-reviewers", "stranger-joins-the-board"),
    (SEMANTIC_ROWS, "AVN403", "due-yesterday", "due-today"),
    (SEMANTIC_ROWS, "AVN404", "overrides-a-retired-one", "supersedes-a-retired-one"),
    (SEMANTIC_ROWS, "AVN405", "ends-before-it-starts", "one-day"),
    (SEMANTIC_ROWS, "AVN406", "unknown-code", "known-code"),
]

UNUSED = ("  - id: unused-2020\n    type: article-journal\n    title: Never cited\n    population: avn\n"
          "    topics: [offloading]\n")
MONT = "- ref: mont-1996\n"
WILLIAMS_PMID = '    PMID: "17638929"\n'
WILLIAMS_DOI = "DOI: 10.1161/CIRCULATIONAHA.107.185214"
NOT_CITED = "reference {0} is not cited by any recommendation: cite it or remove it"
AVOID = "recommendations/avoid-training.yaml"
# The second question finds the budget of a run over the three recommendations spent.
BUDGET = SearchBudget.for_size(3).total


WRITTEN = [
    Fixture("AVN201", "citation-misspelt", (replace(OF, MONT, "- ref: mont-1969\n"),),
            (cited("OF-001", "mont-1969", OF, "AVN201", "error", "OF-001 cites 'mont-1969', which is not in "
                   "references.yaml: add the reference or correct the id"),
             Expect("AVN202", "warning", REFS, "- id: mont-1996", "mont-1996", NOT_CITED.format("mont-1996"),
                    ("mont-1996",)))),
    Fixture("AVN201", "reference-renamed-too", (replace(OF, MONT, "- ref: mont-1969\n"),
                                                replace(REFS, "- id: mont-1996", "- id: mont-1969")), ()),
    Fixture("AVN202", "reference-nobody-cites", (append(REFS, UNUSED),),
            (Expect("AVN202", "warning", REFS, "- id: unused-2020", "unused-2020", NOT_CITED.format("unused-2020"),
                    ("unused-2020",)),)),
    Fixture("AVN202", "reference-cited", (append(REFS, UNUSED), replace(OF, MONT, MONT + "      - ref: unused-2020\n")),
            ()),
    Fixture("AVN203", "pmid-of-another-reference", (replace(REFS, WILLIAMS_PMID, '    PMID: "8595753"\n'),),
            (Expect("AVN203", "error", REFS, 'PMID: "8595753"', '"', "williams-2007-aha has the same PMID 8595753 as "
                    "mont-1996: merge the two entries", ("williams-2007-aha", "mont-1996"), occurrence=1),)),
    Fixture("AVN203", "pmid-left-out", (replace(REFS, WILLIAMS_PMID, ""),), ()),
    Fixture("AVN204", "doi-as-a-link", (replace(REFS, WILLIAMS_DOI, "DOI: https://doi.org/10.1161/CIRCULATIONAHA.107.185214"),),
            (Expect("AVN204", "error", REFS, "DOI: https://", "https", "williams-2007-aha: DOI "
                    "'https://doi.org/10.1161/CIRCULATIONAHA.107.185214' is malformed; write a bare DOI such as "
                    "10.1097/00003086-199603000-00020 (no https://doi.org/ prefix)", ("williams-2007-aha",)),)),
    # DOIs are case-insensitive: the same DOI in lower case is well-formed.
    Fixture("AVN204", "doi-in-lower-case", (replace(REFS, WILLIAMS_DOI, WILLIAMS_DOI.lower().replace("doi:", "DOI:")),),
            ()),
    Fixture("AVN306", "question-too-large", (SearchHeavy(18),),
            (Expect("AVN306", "warning", AVOID, "when: {all:", "{", "could not decide whether RT-002 can apply: more "
                    "than 30,000 partial cases; simplify the conditions", ("RT-002",)),
             Expect("AVN306", "warning", RT, "when: {any:", "{", "could not decide whether RT-002 and RT-001 can both "
                    f"apply: the search budget of this validation ({BUDGET:,} partial cases in all, for this number "
                    "of recommendations) is spent; simplify the conditions", ("RT-001", "RT-002")))),
    # The same shape with fewer flags is decided: RT-002's condition is empty.
    Fixture("AVN306", "question-small-enough", (SearchHeavy(12),),
            (Expect("AVN302", "error", AVOID, "when: {all:", "{",
                    "RT-002 can never apply: no case satisfies its condition; fix the condition", ("RT-002",)),)),
]

ROWS: list[Fixture] = [
    *(borrowed(table, code, name) for table, code, positive, negative in PAIRS for name in (positive, negative)),
    *WRITTEN,
]
