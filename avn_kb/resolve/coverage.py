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


def render_text(matrix: Matrix, labels: dict[str, str]) -> str:
    letters = matrix.letters()
    width = max(len(c) for c in matrix.columns)
    cell_width = max(width, len(matrix.topics)) + 1
    row_width = max(len(r) for r in matrix.rows) + 2
    refused = any(cell.refused for cell in matrix.cells.values())
    out = [f"{matrix.row_fact} x {matrix.column_fact}: " + ", ".join(
        f"{letters[t]} = {labels.get(t, t)}" for t in matrix.topics) + " (lower case: only once more facts are known"
        + ("; -: no such case" if refused else "") + ")"]
    out.append(" " * row_width + "".join(c.ljust(cell_width) for c in matrix.columns))
    for row in matrix.rows:
        line = row.ljust(row_width)
        for column in matrix.columns:
            cell = matrix.cells[(row, column)]
            text = "-" if cell.refused else "".join(
                letters[t] if t in cell.applies else letters[t].lower() if t in cell.possible else "."
                for t in matrix.topics)
            line += text.ljust(cell_width)
        out.append(line.rstrip())
    return "\n".join(out) + "\n"


def as_data(matrix: Matrix) -> dict[str, Any]:
    return {"rows": {"fact": matrix.row_fact, "values": list(matrix.rows)},
            "columns": {"fact": matrix.column_fact, "values": list(matrix.columns)},
            "topics": list(matrix.topics),
            "cells": [{matrix.row_fact: r, matrix.column_fact: c, "applies": list(cell.applies),
                       "possible": list(cell.possible), "recommendations": list(cell.ids),
                       **({"refused": True} if cell.refused else {})}
                      for (r, c), cell in matrix.cells.items()]}
