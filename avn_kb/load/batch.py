"""One line of `avn-kb query --batch FILE` (schema/batch-line.schema.json). A line is a JSON object
in one of two forms:

- bare facts, `{"site": "knee", "ficat_stage": "II"}`, where the keys `id`, `as_of` and `audience`
  are the line's options and every other key is a fact;
- an envelope, `{"id": "p1", "as_of": "2027-01-01", "audience": "patient", "facts": {...}}`, with
  nothing else beside `facts`.

A line that could be read two ways is refused, never guessed: a vocabulary that declares a fact
named like an option (`id`, `as_of`, `audience`, `facts`), or facts beside `facts`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from avn_kb.load.cases import CaseError, check_case, json_line
from avn_kb.model.knowledge import Vocabulary
from avn_kb.util.memo import remembered

AUDIENCES = ("clinician", "patient")
OPTIONS = ("id", "as_of", "audience")
ENVELOPE = "facts"
BESIDE_FACTS = frozenset((*OPTIONS, ENVELOPE))
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class BatchLine:
    """A usable batch line: the facts and what the line itself says (None: the command's default)."""

    facts: dict[str, Any]
    id: str | None = None
    as_of: dt.date | None = None
    audience: str | None = None


def batch_line(vocabulary: Vocabulary, line: str, where: str) -> tuple[BatchLine | None, list[CaseError]]:
    """The line at `where` (file:line), or every reason it cannot be used."""
    found, errors = read_line(vocabulary, line, where)
    if errors or found is None:
        return None, errors
    errors = check_case(vocabulary, found.facts, where)
    return (None, errors) if errors else (found, [])


def read_line(vocabulary: Vocabulary, line: str, where: str) -> tuple[BatchLine | None, list[CaseError]]:
    """The line read as JSON, its form and its options checked, but its facts not yet checked
    against the vocabulary (`check_case`, which batch_line adds): a batch remembers the answers of
    facts it has checked before. A line refused here is refused with every reason, those of its
    facts included."""
    value, errors = json_line(line, where)
    if errors:
        return None, errors
    if not isinstance(value, dict):
        # The case schema's words ("this is a list, expected a mapping"), then the two forms.
        forms = 'a batch line is bare facts ({"site": ...}) or {"id": ..., "facts": {...}}'
        return None, [CaseError(e.where, f"{e.message}: {forms}") for e in check_case(vocabulary, value, where)]
    clashing = remembered(vocabulary, "_batch_option_facts", lambda: frozenset(
        name for name in (*OPTIONS, ENVELOPE) if vocabulary.fact_type(name) is not None))
    clash = [name for name in (*OPTIONS, ENVELOPE) if name in value and name in clashing] if clashing else []
    if clash:
        return None, [CaseError(where, f"ambiguous: {name!r} is a fact of the vocabulary and a batch-line option; "
                                       "write the line as {\"facts\": {...}} with the options beside it")
                      for name in clash]
    if ENVELOPE in value:
        return _envelope(vocabulary, value, where)
    options = {name: value[name] for name in OPTIONS if name in value}
    facts = {name: given for name, given in value.items() if name not in OPTIONS}
    return _with_options(vocabulary, facts, options, where)


def _envelope(vocabulary: Vocabulary, value: dict[str, Any], where: str) -> tuple[BatchLine | None, list[CaseError]]:
    beside = [name for name in value if name not in BESIDE_FACTS]
    if beside:
        return None, [CaseError(where, f"ambiguous: {', '.join(beside)} beside \"facts\": put every fact inside "
                                       "\"facts\" (only id, as_of and audience go beside it)")]
    facts = value[ENVELOPE]
    if not isinstance(facts, dict):
        return None, [CaseError(where, "\"facts\" must be an object of fact names to values")]
    return _with_options(vocabulary, facts, {name: value[name] for name in OPTIONS if name in value}, where)


def _with_options(vocabulary: Vocabulary, facts: dict[str, Any], options: dict[str, Any],
             where: str) -> tuple[BatchLine | None, list[CaseError]]:
    errors = _option_errors(options, where)
    if errors:
        return None, errors + check_case(vocabulary, facts, where)
    as_of = options.get("as_of")
    return BatchLine(facts, options.get("id"), dt.date.fromisoformat(as_of) if as_of else None,
                     options.get("audience")), []


def _option_errors(options: dict[str, Any], where: str) -> list[CaseError]:
    errors = []
    if "id" in options and not (isinstance(options["id"], str) and options["id"]):
        errors.append(CaseError(where, "id must be a non-empty string"))
    if "as_of" in options and not _is_date(options["as_of"]):
        errors.append(CaseError(where, f"as_of {options['as_of']!r} is not a date in the form YYYY-MM-DD"))
    if "audience" in options and options["audience"] not in AUDIENCES:
        errors.append(CaseError(where, f"audience {options['audience']!r} is not one of {', '.join(AUDIENCES)}"))
    return errors


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True
