"""Patient cases from the outside world: a YAML or JSON file, standard input, `--set fact=value`
options, or one line of a JSONL batch. Everything is checked against schema/case.schema.json and
the vocabulary; a problem names the fact (and the line, for files) and what is allowed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from avn_kb.casefacts import case_problems
from avn_kb.loader.safe_yaml import load_yaml
from avn_kb.model import Vocabulary
from avn_kb.schemas import schema_findings


@dataclass(frozen=True)
class CaseError:
    """Why a case cannot be used: where (`source:line:column`) and what to do."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_case(vocabulary: Vocabulary, facts: Any, where: str, locate: Any = None) -> list[CaseError]:
    """Schema and vocabulary problems of one case; `locate(pointer)` gives (line, column)."""
    def at(pointer: tuple[Any, ...]) -> str:
        if locate is None:
            return where
        line, column = locate(pointer)
        return f"{where}:{line}:{column}"

    problems = [CaseError(at(f.pointer), f.message) for f in schema_findings("case", where, facts)]
    if problems or not isinstance(facts, dict):
        return problems or [CaseError(where, "a case is a mapping of fact names to values")]
    return [CaseError(at((p.fact,)), p.message) for p in case_problems(vocabulary, facts)]


def case_from_bytes(vocabulary: Vocabulary, data: bytes, where: str) -> tuple[dict[str, Any] | None, list[CaseError]]:
    """A case file's facts (YAML or JSON: JSON is YAML), loaded by the same safe loader as knowledge.
    A golden-case style file (`facts:` inside) is accepted too."""
    document = load_yaml(where, data)
    errors = [CaseError(f"{f.path}:{f.line}:{f.column}", f.message) for f in document.findings if f.severity == "error"]
    if errors or not document.ok:
        return None, errors or [CaseError(where, "cannot read the case")]
    facts, pointer = document.value, ()
    if isinstance(facts, dict) and isinstance(facts.get("facts"), dict):
        facts, pointer = facts["facts"], ("facts",)
    errors = check_case(vocabulary, facts, where, lambda p: document.locate(pointer + p))
    return (None, errors) if errors else (facts, [])


def case_from_json_line(vocabulary: Vocabulary, line: str, where: str) -> tuple[dict[str, Any] | None, list[CaseError]]:
    """One line of a JSONL batch: strict JSON, one case object (or {"id": ..., "facts": {...}})."""
    try:
        # Without its own newline: json counts an error at the end of the line as on its line 2,
        # column 1, while the batch line is what the editor has to fix.
        facts = json.loads(line.rstrip("\r\n"), parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except (json.JSONDecodeError, ValueError) as err:
        column = getattr(err, "colno", 1)
        return None, [CaseError(f"{where}:{column}", f"not valid JSON ({getattr(err, 'msg', err)})")]
    except RecursionError:
        return None, [CaseError(where, "nested too deeply to be a case: a case is a flat mapping of facts")]
    if isinstance(facts, dict) and isinstance(facts.get("facts"), dict):
        facts = facts["facts"]
    errors = check_case(vocabulary, facts, where)
    return (None, errors) if errors else (facts, [])


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"{key!r} is given twice: keep one value")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def case_from_options(vocabulary: Vocabulary, settings: tuple[str, ...],
                      base: Mapping[str, Any] | None = None) -> tuple[dict[str, Any] | None, list[CaseError]]:
    """`--set fact=value` options (sets as comma-separated values), typed by the vocabulary,
    on top of `base` (a case file's facts)."""
    facts: dict[str, Any] = dict(base or {})
    errors: list[CaseError] = []
    for setting in settings:
        name, sep, text = setting.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name:
            errors.append(CaseError(f"--set {setting}", "write --set fact=value"))
            continue
        facts[name] = _typed(vocabulary, name, text)
    errors += check_case(vocabulary, facts, "--set")
    return (None, errors) if errors else (facts, [])


def _typed(vocabulary: Vocabulary, name: str, text: str) -> Any:
    kind = vocabulary.fact_type(name)
    if kind == "set":
        return [item.strip() for item in text.split(",") if item.strip()]
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text else number
    return text
