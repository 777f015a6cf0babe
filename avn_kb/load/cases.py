"""Patient cases from the outside world: a YAML or JSON file, standard input, `--set fact=value`
options, or one line of a JSONL batch (read as JSON here, its shape in avn_kb.load.batch).
Everything is checked against schema/case.schema.json and the vocabulary; a problem names the
fact (and the line, for files) and what is allowed.

A fact given twice is refused wherever it happens, with the same words: twice in `--set`, twice
in a case file or a batch line, or in a case file and again in `--set` (the user gave two values
and only they know which one is meant: "site is given twice (knee, talus): give it once")."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from avn_kb.lang.case_checks import case_problems
from avn_kb.lang.readings import Reading
from avn_kb.load.safe_yaml import YamlDocument, load_yaml
from avn_kb.load.schemas import schema_findings
from avn_kb.model.knowledge import Vocabulary


@dataclass(frozen=True)
class CaseError:
    """Why a case cannot be used: where (`source:line:column`) and what to do."""

    where: str
    message: str
    fact: str | None = None  # the fact the problem is about, when it is about one (for the service)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_case(vocabulary: Vocabulary, facts: Any, where: str, locate: Any = None,
               reading: Reading | None = None) -> list[CaseError]:
    """Schema and vocabulary problems of one case; `locate(pointer)` gives (line, column);
    `reading`: the case as read by a `Readings` of this vocabulary, when the caller has it."""
    def at(pointer: tuple[Any, ...]) -> str:
        if locate is None:
            return where
        line, column = locate(pointer)
        return f"{where}:{line}:{column}"

    problems = [CaseError(at(f.pointer), f.message, str(f.pointer[0]) if f.pointer else None)
                for f in schema_findings("case", where, facts)]
    if problems or not isinstance(facts, dict):
        return problems or [CaseError(where, "a case is a mapping of fact names to values")]
    return [CaseError(at((p.fact,)), p.message, p.fact) for p in case_problems(vocabulary, facts, reading)]


def case_from_bytes(vocabulary: Vocabulary, data: bytes, where: str) -> tuple[dict[str, Any] | None, list[CaseError]]:
    """A case file's facts (YAML or JSON: JSON is YAML), loaded by the same safe loader as knowledge.
    A golden-case style file (`facts:` inside) is accepted too."""
    document = load_yaml(where, data)
    errors = _load_errors(document)
    if errors or not document.ok:
        return None, errors or [CaseError(where, "cannot read the case")]
    facts, pointer = document.value, cast(tuple[Any, ...], ())
    if isinstance(facts, dict) and isinstance(facts.get("facts"), dict):
        facts, pointer = facts["facts"], ("facts",)
    errors = check_case(vocabulary, facts, where, lambda p: document.locate(pointer + p))
    return (None, errors) if errors else (facts, [])


def given_twice(name: str, values: list[str]) -> str:
    """The one wording of a fact given more than once, with the values as given."""
    times = "twice" if len(values) == 2 else f"{len(values)} times"
    return f"{name} is given {times} ({', '.join(values)}): give it once"


def shown_value(value: Any) -> str:
    """A value as the user wrote it, near enough: plain text, lists in brackets."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(shown_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{...}"
    return str(value)


def _load_errors(document: YamlDocument) -> list[CaseError]:
    """The loader's errors for a case file, a repeated key worded as a fact given twice."""
    repeated = _repeated_keys(document) if any(f.code == "AVN105" for f in document.findings) else {}
    errors = []
    for finding in document.findings:
        if finding.severity != "error":
            continue
        message = (repeated.get((finding.line, finding.column), finding.message) if finding.code == "AVN105"
                   else finding.message)
        if message:  # None: a third occurrence, already counted in the message of the second
            errors.append(CaseError(f"{finding.path}:{finding.line}:{finding.column}", message))
    return errors


def _repeated_keys(document: YamlDocument) -> dict[tuple[int, int], str | None]:
    """(line, column) of each repeated key in a loaded case file -> the message for its second
    occurrence (None for later ones). Only asked for a file the safe loader accepted, so its size,
    depth and aliases are within limits; composing builds nodes and never constructs a value."""
    import yaml

    if not document.ok:
        return {}
    try:
        root = yaml.compose(document.text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return {}
    messages: dict[tuple[int, int], str | None] = {}
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue  # an alias: the same node again
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        if not isinstance(node, yaml.MappingNode):
            continue
        groups: dict[str, list[tuple[yaml.Node, yaml.Node]]] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                groups.setdefault(key.value, []).append((key, value))
            stack.append(value)
        for name, pairs in groups.items():
            for number, (key, _) in enumerate(pairs[1:]):
                mark = (key.start_mark.line + 1, key.start_mark.column + 1)
                messages[mark] = given_twice(name, [_node_text(v) for _, v in pairs]) if number == 0 else None
    return messages


def _node_text(node: Any) -> str:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    if isinstance(node, yaml.SequenceNode):
        return "[" + ", ".join(str(n.value) if isinstance(n, yaml.ScalarNode) else "..." for n in node.value) + "]"
    return "{...}"


def json_line(line: str, where: str) -> tuple[Any, list[CaseError]]:
    """One line of a JSONL batch as strict JSON (no NaN, no key given twice), or why it is not.
    Read once by a decoder made once, which stops at the first problem; a line with a problem is
    read again to say what every problem is."""
    # Without its own newline: json counts an error at the end of the line as on its line 2,
    # column 1, while the batch line is what the editor has to fix.
    text = line.rstrip("\r\n")
    if not text.startswith("\ufeff"):  # json.loads refuses a byte-order mark: its words, below
        try:
            value = _STRICT.decode(text)
        except (ValueError, RecursionError, _Repeated):
            pass
        else:
            return value, _unpaired_surrogates(text, value, where)
    repeated: list[str] = []
    try:
        value = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys(repeated))
    except (json.JSONDecodeError, ValueError) as err:
        column = getattr(err, "colno", 1)
        return None, [CaseError(f"{where}:{column}", f"not valid JSON ({getattr(err, 'msg', err)})")]
    except RecursionError:
        return None, [CaseError(where, "nested too deeply to be a case: a case is a flat mapping of facts")]
    if repeated:
        return None, [CaseError(where, message) for message in repeated]
    return value, _unpaired_surrogates(text, value, where)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _unpaired_surrogates(text: str, value: Any, where: str) -> list[CaseError]:
    """A \\u escape of half a surrogate pair, alone, reads as no character: a string holding one
    cannot be written as UTF-8 (an answer echoing it would fail), so the line is refused."""
    problem = unpaired_surrogates(text, value)
    return [CaseError(where, problem)] if problem else []


def unpaired_surrogates(text: str, value: Any) -> str | None:
    """What is wrong with JSON `text`, read as `value`, when a \\u escape in it gives half of a
    surrogate pair alone (no character, and no UTF-8 can write it); else None. Only an escape can
    give one in text decoded from UTF-8, so only text with one is looked at."""
    if "\\u" not in text:
        return None
    found = _SURROGATE.findall(json.dumps(value, ensure_ascii=False))
    if not found:
        return None
    shown = ", ".join(dict.fromkeys(f"\\u{ord(char):04x}" for char in found))
    return (f"not valid text: {shown} is half of a surrogate pair alone, which is no character; "
            "give the character itself or both halves of its pair")


def _unique_keys(repeated: list[str]) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """A JSON object hook that keeps the first value of a key and adds a message for each key
    given more than once to `repeated` (so that every repeated key of the line is reported)."""
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        unique = dict(pairs)
        if len(unique) == len(pairs):
            return unique  # no key given twice (almost every object): nothing to report, one pass in C
        values: dict[str, list[Any]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        repeated.extend(given_twice(key, [shown_value(v) for v in given])
                        for key, given in values.items() if len(given) > 1)
        return {key: given[0] for key, given in values.items()}
    return hook


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


class _Repeated(Exception):
    """A key given twice in a line read by _STRICT."""


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    unique = dict(pairs)
    if len(unique) != len(pairs):
        raise _Repeated
    return unique


# json.loads with these options, as json_line reads a line, made once instead of for every line.
_STRICT = json.JSONDecoder(parse_constant=_refuse_constant, object_pairs_hook=_no_repeats)


def case_from_options(vocabulary: Vocabulary, settings: tuple[str, ...], base: Mapping[str, Any] | None = None,
                      base_where: str = "the case file") -> tuple[dict[str, Any] | None, list[CaseError]]:
    """`--set fact=value` options (sets as comma-separated values), typed by the vocabulary, with
    `base` (the facts of the case file `base_where`). A fact given twice, in `--set` or in the
    file and `--set`, is an error: `--set` adds facts to a case file, it does not change them."""
    facts: dict[str, Any] = dict(base or {})
    errors: list[CaseError] = []
    given: dict[str, list[str]] = {}
    for setting in settings:
        name, sep, text = setting.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name:
            errors.append(CaseError(f"--set {setting}", "write --set fact=value"))
            continue
        given.setdefault(name, []).append(text)
    for name, texts in given.items():
        values = [_typed(vocabulary, name, text) for text in texts]
        if base is not None and name in base:
            shown = [f"{shown_value(base[name])} in {base_where}",
                     *(f"{shown_value(value)} in --set" for value in values)]
            errors.append(CaseError("--set", given_twice(name, shown), name))
        elif len(values) > 1:
            errors.append(CaseError("--set", given_twice(name, [shown_value(value) for value in values]), name))
        else:
            facts[name] = values[0]
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
