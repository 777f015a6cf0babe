"""The safe event-based YAML reader behind avn_kb.load.safe_yaml: the limits, and a walker over
PyYAML's events that builds plain values itself (nothing is ever constructed from a tag), refuses
duplicate keys, bounds aliases, depth and nodes, and reports every problem as a Finding at its
line and column."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import yaml

from avn_kb.load.fast_yaml import YAML11_BOOLEANS
from avn_kb.model.codes import CODES
from avn_kb.model.findings import Finding

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000
# About 900 recommendations per file; bounds the work a small file of tiny nodes (`[0,0,0,...]`) can cause.
MAX_NODES = 60_000

Pointer = tuple[Any, ...]

_STD = "tag:yaml.org,2002:"
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_YAML11_BOOLS = YAML11_BOOLEANS
_NON_FINITE = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
               ".nan", ".NaN", ".NAN"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+(\.[0-9]*)?\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+)([eE][-+]?[0-9]+)?\Z")
CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})(?: |$)", re.MULTILINE)
# The search above starts at every character; these substrings, looked for at C speed, rule it out.
CONFLICT_RUNS = ("<" * 7, "=" * 7, ">" * 7, "|" * 7)
TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)
_DROP = object()  # key of a duplicate entry: its value is read and discarded


class FatalYamlError(Exception):
    """Stops the walk of one file; carries the finding that says why."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class ScalarKeyError(FatalYamlError):
    """A scalar key that is not a string (null, a number). Refused like the others, but the loader
    checks it against a second parser: libyaml may have split the text wrongly (an anchor named
    `a:` leaves a null key that is not there)."""



def finding_at(code: str, path: str, line: int, column: int, message: str) -> Finding:
    return Finding(code, CODES[code].severity, path, line, column, message)



class _Frame:
    __slots__ = ("container", "pointer", "key", "key_mark", "anchor", "tag", "mark", "nodes")

    def __init__(self, container: Any, pointer: Pointer, anchor: str | None, tag: str | None,
                 mark: tuple[int, int]) -> None:
        self.container = container
        self.pointer = pointer
        self.key: Any = None
        self.key_mark: tuple[int, int] | None = None
        self.anchor = anchor
        self.tag = tag
        self.mark = mark
        self.nodes = 1


class EventWalker:
    """Builds values from events. With `marks` given it records the line of every node instead."""

    def __init__(self, path: str, text: str, marks: dict[Pointer, tuple[int, int]] | None,
                 key_marks: dict[Pointer, tuple[int, int]] | None) -> None:
        self.path = path
        self.text = text
        self.marks = marks
        self.key_marks = key_marks
        self.findings: list[Finding] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.expanded = 0
        self.stack: list[_Frame] = []
        self.documents = 0
        self.node_count = 0
        self.root: Any = None

    def run(self) -> Any:
        for event in self._events():
            self._on(event)
        if self.documents == 0:
            raise FatalYamlError(finding_at("AVN110", self.path, 1, 1,
                                            "file holds no YAML document (empty, or only comments): "
                                            "add the content or delete the file"))
        return self.root

    def _events(self) -> Iterator[yaml.Event]:
        loader = _Loader(self.text)
        try:
            while loader.check_event():
                yield loader.get_event()
        finally:
            loader.dispose()

    def _fatal(self, code: str, mark: tuple[int, int], message: str) -> FatalYamlError:
        return FatalYamlError(finding_at(code, self.path, mark[0], mark[1], message))

    def _warn(self, code: str, mark: tuple[int, int], message: str) -> None:
        if self.marks is None:
            self.findings.append(finding_at(code, self.path, mark[0], mark[1], message))

    def _on(self, event: yaml.Event) -> None:
        mark = (event.start_mark.line + 1, event.start_mark.column + 1)
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent, yaml.AliasEvent)):
            self.node_count += 1
        if self.node_count > MAX_NODES:
            raise self._fatal("AVN101", mark, f"more than {MAX_NODES:,} YAML nodes in one file: split it into "
                              "smaller files")
        if isinstance(event, yaml.ScalarEvent):
            self._add(self._scalar(event, mark), mark, event.anchor, 1)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self._open(event, mark)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self._close()
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event, mark)
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self._fatal("AVN110", mark, "more than one YAML document ('---') in the file: keep one per file")

    def _open(self, event: Any, mark: tuple[int, int]) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise self._fatal("AVN107", mark, f"nesting deeper than {MAX_DEPTH} levels: flatten the structure")
        tag = event.tag
        std = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
        if tag not in (None, "!", _STD + std):
            self._tag_refused(tag, mark)
        if self.stack and self._expecting_key():
            raise self._fatal("AVN115", mark, "a mapping or list used as a key; keys must be plain strings")
        pointer = self._child_pointer() if self.marks is not None else ()
        container: Any = {} if std == "map" else []
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(container, pointer, event.anchor, tag, mark))

    def _close(self) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
        value = frame.container if frame.tag in (None, "!", _STD + "map", _STD + "seq") else None
        self._add(value, frame.mark, frame.anchor, frame.nodes, pointer_known=frame.pointer)

    def _alias(self, event: yaml.AliasEvent, mark: tuple[int, int]) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise self._fatal("AVN106", mark,
                              f"alias *{name} refers to the node that contains it (a recursive alias): remove it")
        if name not in self.anchors:
            raise self._fatal("AVN106", mark, f"alias *{name} has no anchor &{name} before it")
        value, size = self.anchors[name]
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES:
            raise self._fatal("AVN106", mark,
                              f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?): "
                              "write the content out")
        if self.stack and self._expecting_key():
            raise self._fatal("AVN115", mark, "an alias used as a key; keys must be plain strings")
        self._add(value, mark, None, size)

    def _expecting_key(self) -> bool:
        top = self.stack[-1]
        return isinstance(top.container, dict) and top.key_mark is None

    def _child_pointer(self) -> Pointer:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.container, dict):
            return top.pointer + (top.key,)
        return top.pointer + (len(top.container),)

    def _add(self, value: Any, mark: tuple[int, int], anchor: str | None, nodes: int,
             pointer_known: Pointer | None = None) -> None:
        if anchor:
            self.anchors[anchor] = (value, nodes)
        if not self.stack:
            self.root = value
            if self.marks is not None:
                self.marks[()] = mark
            return
        top = self.stack[-1]
        top.nodes += nodes
        if isinstance(top.container, list):
            if self.marks is not None:
                self.marks[pointer_known if pointer_known is not None else top.pointer + (len(top.container),)] = mark
            top.container.append(value)
            return
        if top.key_mark is None:
            self._set_key(top, value, mark)
            return
        if top.key is not _DROP:
            if self.marks is not None:
                self.marks[pointer_known if pointer_known is not None else top.pointer + (top.key,)] = mark
            top.container[top.key] = value
        top.key, top.key_mark = None, None

    def _set_key(self, top: _Frame, key: Any, mark: tuple[int, int]) -> None:
        if not isinstance(key, str):
            raise ScalarKeyError(finding_at("AVN115", self.path, mark[0], mark[1],
                                            f"key {key!r} is not a string; quote it"))
        if key in top.container:
            self._warn("AVN105", mark, f"duplicate key {key!r} (it already appears above in this mapping): "
                       "keep one of them; the first one is used")
            top.key, top.key_mark = _DROP, mark
            return
        if self.key_marks is not None:
            self.key_marks[top.pointer + (key,)] = mark
        top.key, top.key_mark = key, mark
        # Reserve the key so a later duplicate is caught even if its value is still being built.
        top.container[key] = None

    def _scalar(self, event: yaml.ScalarEvent, mark: tuple[int, int]) -> Any:
        tag, text = event.tag, event.value
        plain = not event.style
        if tag in (None, "!"):
            return self._resolve_plain(text, mark) if plain and tag is None else text
        kind = tag[len(_STD):] if tag.startswith(_STD) else None
        if kind == "str":
            return text
        fitting: dict[str, type | tuple[type, ...]] = {"int": int, "float": (int, float), "bool": bool,
                                                       "null": type(None)}
        expected = fitting.get(kind or "")
        if expected is None:
            self._tag_refused(tag, mark)
            return None
        resolved = self._resolve_plain(text, mark, warn=False)
        if isinstance(resolved, bool) and kind != "bool" or not isinstance(resolved, expected):
            self._warn("AVN104", mark, f"value {text!r} does not fit its tag !!{kind}: remove the tag or fix the value")
            return None
        if kind == "float" and isinstance(resolved, (int, float)):  # always a number here: checked above
            return float(resolved)
        return resolved

    def _tag_refused(self, tag: str, mark: tuple[int, int]) -> None:
        shown = "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag
        self._warn("AVN104", mark, f"tag {shown} is not allowed and was not applied (nothing is constructed "
                   "from tags): remove it and write plain YAML")

    def _resolve_plain(self, text: str, mark: tuple[int, int], warn: bool = True) -> Any:
        if text in _NULLS:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if text in _YAML11_BOOLS:
            if warn:
                self._warn("AVN108", mark, f"plain {text!r} is read here as the string {text!r}, but YAML 1.1 "
                           "tools read it as a boolean: quote it (or write true/false)")
            return text
        if _INT.match(text):
            return int(text)
        if _HEX.match(text):
            return int(text, 16)
        if _OCT.match(text):
            return int(text[2:], 8)
        if _LEADING_ZERO.match(text):
            if warn:
                self._warn("AVN108", mark, f"plain {text!r} is read here as a string, but YAML 1.1 tools read "
                           "it as an octal or sexagesimal number: quote it")
            return text
        if _FLOAT.match(text):
            value = float(text)
            if math.isfinite(value):
                return value
        elif text not in _NON_FINITE:
            return text
        if warn:
            self._warn("AVN109", mark, f"{text} is not a finite number: give a finite number")
        return text
