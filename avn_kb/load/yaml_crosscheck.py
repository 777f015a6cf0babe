"""The second reading behind the event-based path of avn_kb.load.safe_yaml: yaml-rs, a YAML 1.2
parser that reads the official yaml-test-suite far more faithfully than libyaml (docs/reliability.md,
"YAML test suite"), decides what a document is; libyaml's events, which alone give line and column,
duplicate-key and tag findings and bounded aliases, build the value only where the two agree.

What it catches (each an AVN102 finding at the place concerned, the file refused):
- a text libyaml accepts but YAML 1.2 does not: `key: "value"# comment`, `[-]`, a tab as
  indentation of a continuation line (yaml-test-suite SU5Z, YJV2, DK95/01);
- a value libyaml reads differently: `{ ?foo: bar }` is the key `?foo`, `&an:chor value` is an
  anchor named `an:chor` (652Z, Y2GN);
- valid YAML 1.2 that libyaml cannot read: said so, instead of a bare syntax error (the text
  must be written more plainly, since nothing else gives its lines);
- a key libyaml takes for null where YAML 1.2 has none (`&a: key: value`, 2SXE).

Passing: `dose: 12` (both read 12). Failing: `note: "text"# why` (no space before `#`).

Where the event-based path reads a scalar differently on purpose, and says so in a warning or
follows the YAML 1.2 core schema more closely than yaml-rs, the two are taken to agree: a string
that yaml-rs reads as the number its digits spell (`0777` and `1_000`, which stay strings here),
and an empty block scalar that yaml-rs reads as a lone line break (unless some block scalar in
the file keeps its final line breaks, `|+`). Without yaml-rs installed nothing is cross-checked.
A text the event-based path did not read to its end is given to yaml-rs only within the fast
path's parse limits (`fast_yaml.within_parse_limits`): deep block nesting crashes yaml-rs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from avn_kb.load.fast_yaml import within_parse_limits

try:
    import yaml_rs
except ImportError:  # pragma: no cover - a broken install still loads, without the second reading
    yaml_rs = None  # type: ignore[assignment]

_WHERE = re.compile(r"at line (\d+), column (\d+)")
_KEEP_CHOMPING = re.compile(r"[|>][1-9]?\+")
_ANCHOR_WITH_COLON = re.compile(r"(?<![^\s\[{,])[&*][^\s\[\]{},]*:")
PLAINER = ("write it in a plainer form (quote the value, or use block style) so that both parsers "
           "read it alike")

Pointer = tuple[Any, ...]


@dataclass(frozen=True)
class Reading:
    """yaml-rs's reading of a text: its value, or where and why it refused the text."""

    accepted: bool
    value: Any = None
    line: int = 1
    column: int = 1
    problem: str = ""


def reference_reading(text: str, max_nodes: int, checked: bool = False) -> Reading | None:
    """The YAML 1.2 reading of the text by yaml-rs, or None when yaml-rs is not installed or the
    text is beyond what it may be given (`within_parse_limits`). `checked`: the event-based path
    has read the whole text within its own limits, which are narrower."""
    if yaml_rs is None or not checked and not within_parse_limits(text.encode("utf-8"), max_nodes):
        return None
    try:
        return Reading(True, yaml_rs.loads(text, parse_datetime=False))
    except Exception as err:  # noqa: BLE001 - any refusal: the message says where and why
        message = str(err)
        where = _WHERE.search(message)
        line, column = (int(where[1]), int(where[2])) if where else (1, 1)
        problem = message.strip().splitlines()[-1].strip() if message.strip() else type(err).__name__
        return Reading(False, None, line, column, problem)


@dataclass(frozen=True)
class Difference:
    """Where the two readings first differ: a pointer into the event-based value, and the node
    each reading has there."""

    pointer: Pointer
    ours: Any
    theirs: Any


def first_difference(ours: Any, reference: Any, text: str) -> Difference | None:
    """Where the event-based value first differs from yaml-rs's, or None when they agree,
    allowing for the deliberate differences of the module docstring."""
    if type(ours) is dict and type(reference) is dict:
        return _mapping_difference(ours, reference, text)
    if type(ours) is list and type(reference) is list:
        if len(ours) != len(reference):
            return Difference((), ours, reference)
        for index, (mine, theirs) in enumerate(zip(ours, reference)):
            inner = first_difference(mine, theirs, text)
            if inner is not None:
                return Difference((index, *inner.pointer), inner.ours, inner.theirs)
        return None
    return None if _same_scalar(ours, reference, text) else Difference((), ours, reference)


def _mapping_difference(ours: dict[str, Any], reference: dict[Any, Any], text: str) -> Difference | None:
    if len(ours) != len(reference):
        return Difference((), ours, reference)
    for key, value in ours.items():
        theirs = key if key in reference else next(
            (other for other in reference if type(other) is not str and _same_scalar(key, other, text)), None)
        if theirs is None:
            return Difference((), ours, reference)
        inner = first_difference(value, reference[theirs], text)
        if inner is not None:
            return Difference((key, *inner.pointer), inner.ours, inner.theirs)
    return None


def shown(value: Any, limit: int = 60) -> str:
    """A value as a finding quotes it: Python's repr, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _same_scalar(ours: Any, theirs: Any, text: str) -> bool:
    if type(ours) is type(theirs) and ours == theirs:
        return True
    if type(ours) is not str:
        return False
    if type(theirs) in (int, float):
        return _spells_number(ours, theirs)
    return ours == "" and theirs == "\n" and not _KEEP_CHOMPING.search(text)


def _spells_number(text: str, number: float) -> bool:
    """Whether the string is the number yaml-rs read, once its underscores are dropped (`0777`,
    `1_000`, `0b101`): digits that YAML 1.2's core schema leaves a string, or warned about."""
    digits = text.replace("_", "")
    for parse in (lambda t: int(t, 0), lambda t: int(t, 10), float):
        try:
            if parse(digits) == number:
                return True
        except ValueError:
            continue
    return False


def has_non_string_key(value: Any) -> bool:
    """Whether any mapping in the value has a key that is not a string."""
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            if any(type(key) is not str for key in node):
                return True
            stack.extend(node.values())
        elif type(node) is list:
            stack.extend(node)
    return False


def colon_in_anchor_hint(text: str) -> str:
    """A hint when an anchor or alias name ends in or holds a `:` (`&a:`), which YAML 1.2 allows
    and libyaml reads as a name followed by a key indicator."""
    return (" (an anchor or alias name holds ':', e.g. '&a:'; YAML 1.2 allows it, libyaml does not:"
            " rename it)") if _ANCHOR_WITH_COLON.search(text) else ""
