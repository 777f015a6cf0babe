"""Every finding code, its default severity and a one-line summary. Codes are stable: a retired
code is never reused. docs/checks.md documents each one; a test keeps the two in step."""

from __future__ import annotations

import re
from dataclasses import dataclass

from avn_kb.model.types import Severity

CODE_PATTERN = re.compile(r"^AVN[1-4][0-9]{2}$")


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    summary: str


_TABLE: list[tuple[str, Severity, str]] = [
    # AVN1xx: loading, syntax and schema
    ("AVN101", "error", "file cannot be read (missing, unreadable, a directory, a link leaving the knowledge "
                        "directory, too large, a name that is not UTF-8)"),
    ("AVN102", "error", "YAML syntax error"),
    ("AVN103", "error", "text encoding problem (invalid UTF-8, UTF-16/32, NUL byte)"),
    ("AVN104", "error", "tag not allowed (e.g. !!python/object): nothing is ever constructed from tags"),
    ("AVN105", "error", "duplicate key in a mapping"),
    ("AVN106", "error", "anchor or alias refused (recursive, undefined, or expanding beyond the limit)"),
    ("AVN107", "error", "nesting deeper than the limit"),
    ("AVN108", "warning", "plain value that YAML 1.1 tools read differently (yes/no/on/off, leading-zero numbers)"),
    ("AVN109", "error", "number that is not finite (.nan, .inf)"),
    ("AVN110", "error", "file holds no YAML document, or more than one"),
    ("AVN111", "error", "schema violation"),
    ("AVN112", "error", "merge-conflict marker left in the file"),
    ("AVN113", "error", "required knowledge file missing"),
    ("AVN114", "warning", "UTF-8 byte-order mark"),
    ("AVN115", "error", "key is not a plain string"),
    ("AVN116", "error", "unknown check code in the manifest's severity overrides"),
    ("AVN120", "error", "identifier defined more than once"),
    ("AVN121", "error", "unknown fact"),
    ("AVN122", "error", "value outside the fact's domain"),
    ("AVN123", "error", "undeclared vocabulary term (intervention, level, exercise, dose parameter, topic, population, "
                        "reviewer)"),
    ("AVN124", "error", "range whose minimum exceeds its maximum"),
    ("AVN125", "error", "test that does not fit the fact's type"),
    ("AVN126", "error", "golden case (or case file) gives a fact outside the cases the fact is defined for"),
    ("AVN127", "error", "golden case expects a recommendation that does not exist"),
    ("AVN128", "error", "terminology code in the vocabulary malformed for its system, or of an unknown system"),
    # AVN2xx: references and evidence
    ("AVN201", "error", "citation to a reference that does not exist"),
    ("AVN202", "warning", "reference nobody cites"),
    ("AVN203", "error", "two references with the same DOI, PMID or PMCID"),
    ("AVN204", "error", "malformed DOI, PMID or PMCID"),
    ("AVN205", "error", "off-topic citation: the reference's topics share nothing with the recommendation's"),
    ("AVN206", "error", "indirect evidence not declared: every cited reference studied another population"),
    ("AVN207", "warning", "certainty above what the evidence allows"),
    ("AVN208", "error", "citation without the locator the policy requires"),
    ("AVN209", "warning", "retired reference still cited"),
    ("AVN210", "error", "citation for an intervention the reference does not cover"),
    # AVN3xx: logic, conflicts and graphs
    ("AVN301", "error", "conflicting recommendations: both apply to some case and their actions contradict"),
    ("AVN302", "error", "condition that can never hold"),
    ("AVN303", "warning", "redundant recommendation: a wider one gives the same action"),
    ("AVN304", "warning", "gap: cases with no recommendation for an intervention that always needs one"),
    ("AVN305", "error", "strength direction disagrees with the action"),
    ("AVN306", "warning", "logic question too large to decide within the search limit"),
    ("AVN307", "error", "two doses for one case: recommendations that can both apply give one dose parameter "
                        "different, overlapping ranges"),
    ("AVN308", "error", "statement or plain-language text gives a dose that disagrees with the structured dose"),
    ("AVN309", "error", "approved recommendation prescribes an exercise loading the affected part in a case it admits"),
    ("AVN310", "error", "cycle in overrides, supersedes, derived-fact definitions or defined_for conditions"),
    ("AVN311", "error", "overrides or supersedes a recommendation that does not exist"),
    ("AVN312", "error", "approved recommendation superseded by another approved one"),
    # AVN4xx: lifecycle and versions
    ("AVN401", "error", "approved without an approval date or enough distinct reviewers"),
    ("AVN402", "error", "reviewer who is not a member of the editorial board"),
    ("AVN403", "warning", "review overdue"),
    ("AVN404", "warning", "override or supersession linking a retired recommendation"),
    ("AVN405", "error", "effective period that ends before it starts"),
    ("AVN406", "error", "accepted finding with an unknown code"),
    ("AVN410", "error", "recommendation changed without a version bump"),
    ("AVN411", "error", "version bump too small for the change (or going backwards)"),
    ("AVN412", "error", "recommendation removed instead of retired"),
    ("AVN413", "error", "recommendation id reused for different content"),
    ("AVN414", "error", "illegal status change"),
    ("AVN415", "error", "knowledge changed but the manifest version was not bumped"),
]

CODES: dict[str, Code] = {code: Code(code, severity, summary) for code, severity, summary in _TABLE}
