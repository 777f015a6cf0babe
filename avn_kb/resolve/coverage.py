"""The coverage matrix: for each site and stage, which topics have an approved recommendation
that applies (or may apply, once more facts are known). A cell whose two facts make no case (a
stage given where it is not `defined_for`) is marked refused and not resolved."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from avn_kb.lang.case_checks import case_problems
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.resolve.resolver import Index, resolve


@dataclass(frozen=True)
class Cell:
    applies: tuple[str, ...]   # topics with a recommendation that applies
    possible: tuple[str, ...]  # topics with only undecided recommendations (more facts needed)
    ids: tuple[str, ...]       # the applying recommendations
    refused: bool = False      # the two facts make no case (see avn_kb.lang.case_checks): nothing to resolve


@dataclass(frozen=True)
class Matrix:
    row_fact: str
    column_fact: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    topics: tuple[str, ...]
    cells: dict[tuple[str, str], Cell]

    def letters(self) -> dict[str, str]:
        """One mark per topic: its initial, or its number when two initials would be the same."""
        letters = {topic: topic[0].upper() for topic in self.topics}
        if len(set(letters.values())) < len(letters):
            letters = {topic: str(i + 1) for i, topic in enumerate(self.topics)}
        return letters


def coverage(kb: KnowledgeBase, row_fact: str = "site", column_fact: str = "arco_stage",
             as_of: dt.date | None = None) -> Matrix:
    vocabulary = kb.vocabulary
    if vocabulary is None:
        raise ValueError("the knowledge base has no usable vocabulary")
    for fact in (row_fact, column_fact):
        if vocabulary.fact_type(fact) != "enum":
            raise ValueError(f"{fact!r} is not an enum fact of the vocabulary")
    index = Index(kb)
    topics = tuple(vocabulary.sections())
    cells: dict[tuple[str, str], Cell] = {}
    rows, columns = vocabulary.fact_values(row_fact), vocabulary.fact_values(column_fact)
    for row in rows:
        for column in columns:
            case: dict[str, Any] = {row_fact: row, column_fact: column}
            if case_problems(vocabulary, case):
                cells[(row, column)] = Cell((), (), (), refused=True)
                continue
            resolution = resolve(kb, case, as_of=as_of, index=index)
            applying = resolution.by_outcome("applies")
            undecided = resolution.by_outcome("undecided")
            covered = {o.rec.topic for o in applying}
            maybe = {o.rec.topic for o in undecided} - covered
            cells[(row, column)] = Cell(tuple(t for t in topics if t in covered),
                                        tuple(t for t in topics if t in maybe),
                                        tuple(o.rec.id for o in applying))
    return Matrix(row_fact, column_fact, tuple(rows), tuple(columns), topics, cells)
