"""The clinician page's GET query read into a case and the page's options. The values are typed by
the same code as the CLI's `--set fact=value` (avn_kb.load.cases.case_from_options), so a fact
means the same on the page as on the command line.

A form cannot tell "left blank" from "none": an unticked checkbox sends nothing. So an empty set
is asked for explicitly (the `NONE_CHOSEN` box), and a fact the form leaves blank stays missing,
never empty or false: what is not known must leave the recommendations that read it undecided
(the fail-safe rule). Every problem names its fact, so the page shows it beside that field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from avn_kb.editorial.versions import STATUS_RANK
from avn_kb.load.cases import CaseError, case_from_options
from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import KnowledgeBase, Vocabulary

# The value of a set's "none of these" box. Not a term (terms have no underscore), so it can never
# be one of a set's declared values.
NONE_CHOSEN = "_none"
# The page's own parameters. Not fact names (fact names have no dash), so they never hide a fact.
AS_OF = "as-of"
INCLUDE_STATUS = "include-status"
OPTIONS = (AS_OF, INCLUDE_STATUS)
STATUSES = tuple(STATUS_RANK)
NOTHING_GIVEN = "nothing was filled in: give at least one fact (what is not known can stay \"not known\")"

Query = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class PageOptions:
    """How the page answers and what it was asked: `query` is the GET query as sent (the form is
    filled in again from it and links add to it), `loading_problems` the loading errors of an
    incomplete knowledge base that is answered from anyway."""

    query: tuple[tuple[str, str], ...] = ()
    as_of: dt.date | None = None
    statuses: tuple[str, ...] = ("approved",)
    loading_problems: tuple[Finding, ...] = ()


def form_facts(kb: KnowledgeBase, query: Query) -> tuple[dict[str, Any] | None, list[CaseError]]:
    """The case the form's query gives, typed as `--set` types it: (facts, []) when it can be
    answered, (None, problems) when not, and (None, []) for a query that asks nothing (the empty
    form). Set facts come as repeated `name=value` pairs (or one `name=_none`); a blank value is a
    fact not known. A problem's `fact` names the field it belongs to."""
    vocabulary = kb.vocabulary
    assert vocabulary is not None, "a knowledge base that is answered from has a vocabulary"
    given: dict[str, list[str]] = {}
    for name, value in query:
        if name not in OPTIONS:
            given.setdefault(name, []).append(value.strip())
    settings: list[str] = []
    problems: list[CaseError] = []
    for name, values in given.items():
        setting, problem = _setting(vocabulary, name, [v for v in values if v])
        settings += setting
        problems += problem
    if not settings and not problems:
        return None, [CaseError("the form", NOTHING_GIVEN)] if given else []
    facts, errors = case_from_options(vocabulary, tuple(settings))
    problems += errors  # all of them at once, so that one round of corrections is enough
    return (None, problems) if problems else (facts, [])


def _setting(vocabulary: Vocabulary, name: str, values: list[str]) -> tuple[list[str], list[CaseError]]:
    """The `--set` settings of one field (none for a field left blank)."""
    if vocabulary.fact_type(name) != "set":
        return [f"{name}={value}" for value in values], []  # twice: refused by case_from_options
    if NONE_CHOSEN not in values:
        return ([f"{name}={','.join(values)}"] if values else []), []
    others = [v for v in values if v != NONE_CHOSEN]
    if others:
        label = vocabulary.facts[name].label
        return [], [CaseError(name, f"{label}: \"none\" is ticked together with {', '.join(others)}: "
                                    "untick \"none\" or the others", name)]
    return [f"{name}="], []


def page_options(query: Query, loading_problems: Sequence[Finding] = ()) -> tuple[PageOptions, list[CaseError]]:
    """The page's options from its query (`as-of=YYYY-MM-DD`, `include-status=draft` repeatable;
    approved recommendations are always considered), with the problems of bad ones."""
    problems: list[CaseError] = []
    day: dt.date | None = None
    days = [value.strip() for name, value in query if name == AS_OF and value.strip()]
    if len(days) > 1:
        problems.append(CaseError(AS_OF, f"the date is given {len(days)} times ({', '.join(days)}): give it once",
                                  AS_OF))
    elif days:
        try:
            day = dt.date.fromisoformat(days[0])
        except ValueError:
            problems.append(CaseError(AS_OF, f"{days[0]!r} is not a date: write it as YYYY-MM-DD", AS_OF))
    wanted = [value for name, value in query if name == INCLUDE_STATUS and value]
    unknown = [value for value in wanted if value not in STATUSES]
    if unknown:
        problems.append(CaseError(INCLUDE_STATUS, f"{', '.join(map(repr, unknown))} is not a status; "
                                                  f"statuses: {', '.join(STATUSES)}", INCLUDE_STATUS))
    statuses = tuple(dict.fromkeys(("approved", *(s for s in STATUSES if s in wanted))))
    return PageOptions(tuple(query), day, statuses, tuple(loading_problems)), problems
