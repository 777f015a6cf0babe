"""Answers for patients, one table of formats: each renders the answer's data
(avn_kb.output.answers.data, the JSON of schema/query-result.schema.json) with the knowledge
base's section order and topic labels. `--format` offers exactly the keys of FORMATS; a batch
writes JSON as one compact line per case and the others as one block per case."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.answers import markdown, text

Renderer = Callable[[dict[str, Any], list[str], Callable[[str], str]], str]


def _json(data: dict[str, Any], sections: list[str], labels: Callable[[str], str]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Renderer] = {"text": text.render, "json": _json, "markdown": markdown.render}


def render(kb: KnowledgeBase, data: dict[str, Any], fmt: str) -> str:
    """One answer in format `fmt` (a key of FORMATS)."""
    vocabulary = kb.vocabulary
    sections = vocabulary.sections() if vocabulary else []
    labels: Callable[[str], str] = vocabulary.topic_label if vocabulary else str
    return FORMATS[fmt](data, sections, labels)


def batch_entry(kb: KnowledgeBase, data: dict[str, Any], fmt: str) -> str:
    """One case of a batch: JSON Lines for json (one compact object a line); for the others the
    answer under a heading naming the input line and the case's id."""
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False) + "\n"
    heading = f"line {data['line']}" + (f", case {data['id']}" if data.get("id") else "")
    mark = {"text": f"=== {heading} ===", "markdown": f"<!-- {heading} -->"}[fmt]
    return f"{mark}\n{render(kb, data, fmt)}\n"
