"""The coverage matrix (avn_kb/resolve/coverage.py) as people and programs read it: one table of
formats, each a function of a CoverageView (the matrix with the notices and topic labels)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from avn_kb.resolve.coverage import Matrix


@dataclass(frozen=True)
class CoverageView:
    matrix: Matrix
    labels: dict[str, str] = field(default_factory=dict)  # topic -> label
    notices: tuple[str, ...] = ()
    incomplete: bool = False


def matrix_text(matrix: Matrix, labels: dict[str, str]) -> str:
    """The matrix as a fixed-width table, one letter a topic."""
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


def render_text(view: CoverageView) -> str:
    return "".join(note + "\n" for note in view.notices) + matrix_text(view.matrix, view.labels)


def render_json(view: CoverageView) -> str:
    data = {"notices": list(view.notices), "incomplete": view.incomplete, **as_data(view.matrix)}
    return json.dumps(data, indent=2) + "\n"


FORMATS: dict[str, Callable[[CoverageView], str]] = {"text": render_text, "json": render_json}
