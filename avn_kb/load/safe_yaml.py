"""Safe YAML: bytes in, plain Python values out, every problem a Finding with line and column.

Nothing is ever constructed from a tag: values are built here from the parser's event stream, so
`!!python/object/apply` is a finding, not a function call. Duplicate keys (which PyYAML silently
keeps the last of) are errors at every depth. Aliases are allowed but their expansion is counted
arithmetically, so a billion-laughs file is refused after reading a few lines. Scalars are resolved
by YAML 1.2 rules; where YAML 1.1 tools would read a value differently (`no`, `on`, `0777`) the
value stays a string and a warning says to quote it.

Line numbers are needed only for the few nodes that findings point at, so they are not recorded
while loading: `YamlDocument.locate` re-walks the events once, on first use.

Plain files take a faster path first (`fast_yaml`: yaml-rs behind a guard), only where it gives
exactly the value built here and nothing would be reported; everything else is loaded here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from avn_kb.model.findings import Finding
from avn_kb.model.codes import CODES
from avn_kb.load.fast_yaml import YAML11_BOOLEANS, fast_value

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
_CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})(?: |$)", re.MULTILINE)
# The search above starts at every character; these substrings, looked for at C speed, rule it out.
_CONFLICT_RUNS = ("<" * 7, "=" * 7, ">" * 7, "|" * 7)
_TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)
_DROP = object()  # key of a duplicate entry: its value is read and discarded


class _Fatal(Exception):
    """Stops the walk of one file; carries the finding that says why."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


@dataclass
class YamlDocument:
    """One loaded file. `value` is None when the file could not be loaded at all (`ok` is False)."""

    path: str
    text: str
    value: Any = None
    ok: bool = False
    findings: list[Finding] = field(default_factory=list)
    _marks: dict[Pointer, tuple[int, int]] | None = field(default=None, repr=False)
    _key_marks: dict[Pointer, tuple[int, int]] | None = field(default=None, repr=False)

    def locate(self, pointer: Pointer, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the node at `pointer`, or of its key when `key` is set;
        falls back to the nearest enclosing node that exists."""
        if self._marks is None:
            self._marks, self._key_marks = {}, {}
            if self.ok:
                _Walker(self.path, self.text, self._marks, self._key_marks).run()
        assert self._key_marks is not None
        if key and pointer in self._key_marks:
            return self._key_marks[pointer]
        probe = tuple(pointer)
        while probe:
            if probe in self._marks:
                return self._marks[probe]
            probe = probe[:-1]
        return self._marks.get((), (1, 1))


def _finding(code: str, path: str, line: int, column: int, message: str) -> Finding:
    return Finding(code, CODES[code].severity, path, line, column, message)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def decode(path: str, data: bytes) -> tuple[str | None, list[Finding]]:
    """Bytes to text, refusing what a YAML editor would not show faithfully."""
    findings: list[Finding] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"):
        return None, [_finding("AVN103", path, 1, 1,
                               "file is encoded as UTF-16 or UTF-32; save it as UTF-8 without a byte-order mark")]
    if data.startswith(b"\xef\xbb\xbf"):
        findings.append(_finding("AVN114", path, 1, 1,
                                 "file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"))
        data = data[3:]
    nul = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        prefix = data[: err.start].decode("utf-8", errors="replace")
        line, col = _line_col(prefix, len(prefix))
        return None, findings + [_finding(
            "AVN103", path, line, col,
            f"invalid UTF-8 (byte 0x{data[err.start]:02x}); the file may be binary or in another "
            "encoding: save it as UTF-8")]
    if nul >= 0:
        line, col = _line_col(text, text.find("\x00"))
        return None, findings + [_finding("AVN103", path, line, col,
                                          "NUL byte in the file; it looks binary: restore the YAML text")]
    return text, findings


def load_yaml(path: str, data: bytes, fast: bool = True) -> YamlDocument:
    """Load one file's bytes. Never raises for bad input: problems are in `findings`. Plain files
    take yaml-rs (`fast_yaml`), which gives the same value; `fast=False` forces the event-based path."""
    if len(data) > MAX_FILE_BYTES:
        doc = YamlDocument(path, "")
        doc.findings.append(_finding(
            "AVN101", path, 1, 1,
            f"file is {len(data):,} bytes, over the {MAX_FILE_BYTES:,}-byte limit; split it into smaller files"))
        return doc
    text, findings = decode(path, data)
    doc = YamlDocument(path, text or "", findings=findings)
    if text is None:
        return doc
    marker = _CONFLICT_MARKER.search(text) if any(run in text for run in _CONFLICT_RUNS) else None
    if marker:
        line, col = _line_col(text, marker.start())
        doc.findings.append(_finding("AVN112", path, line, col,
                                     "merge-conflict marker: resolve the conflict and remove the marker lines"))
        return doc
    value = fast_value(text, data, MAX_NODES, MAX_DEPTH) if fast and not findings else None
    if value is not None:
        doc.value, doc.ok = value, True
        return doc
    try:
        walker = _Walker(path, text, None, None)
        doc.value = walker.run()
        doc.findings.extend(walker.findings)
        doc.ok = True
    except _Fatal as fatal:
        doc.findings.append(fatal.finding)
    except yaml.MarkedYAMLError as err:
        doc.findings.append(_syntax_finding(path, text, err))
    except yaml.YAMLError as err:
        doc.findings.append(_reader_finding(path, text, err))
    return doc


def _syntax_finding(path: str, text: str, err: yaml.MarkedYAMLError) -> Finding:
    mark = err.problem_mark or err.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    tab = _TAB_INDENT.search(text)
    if tab:
        tline, tcol = _line_col(text, tab.end() - 1)
        return _finding("AVN102", path, tline, tcol,
                        "tab character in indentation; YAML indents with spaces only: replace the tab")
    problem = err.problem or "cannot parse"
    if "nesting depth" in problem:
        return _finding("AVN107", path, line, col, "nesting too deep for the parser: flatten the structure")
    context, advice = _syntax_context(err)
    hint = ""
    if mark and mark.line >= text.count("\n") and not text.endswith("\n\n"):
        hint = "; the file may be truncated"
    return _finding("AVN102", path, line, col, f"YAML syntax error: {problem}{context}{hint}; {advice}")


def _syntax_context(err: yaml.MarkedYAMLError) -> tuple[str, str]:
    """What the parser was inside when it failed and where that began, and what to do. The finding
    stays where the parser stopped (a missing comma in a long list is there), but an unclosed `[`
    is only noticed on a later line: its opening is the other place the editor must look."""
    advice = "fix the syntax here"
    if not err.context:
        return "", advice
    opened, failed = err.context_mark, err.problem_mark
    if opened is None or (failed is not None and (opened.line, opened.column) == (failed.line, failed.column)):
        return f" {err.context}", advice
    where = f"line {opened.line + 1}, column {opened.column + 1}"
    for collection, closer in (("flow sequence", "]"), ("flow mapping", "}")):
        if err.context.endswith(collection):
            return f" {err.context} opened at {where}", f"close it with '{closer}' or {advice}"
    return f" {err.context} started at {where}", advice


def _reader_finding(path: str, text: str, err: yaml.YAMLError) -> Finding:
    position = getattr(err, "position", None)
    line, col = _line_col(text, position) if isinstance(position, int) and position <= len(text) else (1, 1)
    return _finding("AVN103", path, line, col,
                    f"character not allowed in YAML ({getattr(err, 'reason', err)}): remove it")


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


class _Walker:
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
            raise _Fatal(_finding("AVN110", self.path, 1, 1,
                                  "file holds no YAML document (empty, or only comments): add the content or delete the file"))
        return self.root

    def _events(self) -> Iterator[yaml.Event]:
        loader = _Loader(self.text)
        try:
            while loader.check_event():
                yield loader.get_event()
        finally:
            loader.dispose()

    def _fatal(self, code: str, mark: tuple[int, int], message: str) -> _Fatal:
        return _Fatal(_finding(code, self.path, mark[0], mark[1], message))

    def _warn(self, code: str, mark: tuple[int, int], message: str) -> None:
        if self.marks is None:
            self.findings.append(_finding(code, self.path, mark[0], mark[1], message))

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
            raise self._fatal("AVN106", mark, f"alias *{name} refers to the node that contains it (a recursive alias): remove it")
        if name not in self.anchors:
            raise self._fatal("AVN106", mark, f"alias *{name} has no anchor &{name} before it")
        value, size = self.anchors[name]
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES:
            raise self._fatal("AVN106", mark,
                              f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?): write the content out")
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
            raise self._fatal("AVN115", mark, f"key {key!r} is not a string; quote it")
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
        expected = {"int": int, "float": (int, float), "bool": bool, "null": type(None)}.get(kind or "")
        if expected is None:
            self._tag_refused(tag, mark)
            return None
        resolved = self._resolve_plain(text, mark, warn=False)
        if isinstance(resolved, bool) and kind != "bool" or not isinstance(resolved, expected):
            self._warn("AVN104", mark, f"value {text!r} does not fit its tag !!{kind}: remove the tag or fix the value")
            return None
        return float(resolved) if kind == "float" else resolved

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
