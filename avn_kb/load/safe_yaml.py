"""Safe YAML: bytes in, plain Python values out, every problem a Finding with line and column.

Nothing is ever constructed from a tag: values are built here from the parser's event stream, so
`!!python/object/apply` is a finding, not a function call. Duplicate keys (which PyYAML silently
keeps the last of) are errors at every depth. Aliases are allowed but their expansion is counted
arithmetically, so a billion-laughs file is refused after reading a few lines. Scalars are resolved
by YAML 1.2 rules; where YAML 1.1 tools would read a value differently (`no`, `on`, `0777`) the
value stays a string and a warning says to quote it.

Line numbers are needed only for the few nodes that findings point at, so they are not recorded
while loading: `YamlDocument.locate` asks the document's `Positions` (avn_kb/load/positions.py),
which walks only the lines around the node in a file the fast path took, and the whole file once
otherwise.

Plain files take a faster path first (`fast_yaml`: yaml-rs behind a guard), only where it gives
exactly the value built here and nothing would be reported; everything else is loaded here, and
cross-checked against yaml-rs's YAML 1.2 reading (`yaml_crosscheck`): a text YAML 1.2 refuses, or
reads differently from libyaml, is refused with a finding at the place concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from avn_kb.load.fast_yaml import fast_value
from avn_kb.load.positions import Positions
from avn_kb.load.yaml_crosscheck import (
    PLAINER,
    colon_in_anchor_hint,
    first_difference,
    has_non_string_key,
    reference_reading,
    shown,
)
from avn_kb.load.yaml_events import (
    CONFLICT_MARKER,
    CONFLICT_RUNS,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    TAB_INDENT,
    EventWalker,
    FatalYamlError,
    Pointer,
    ScalarKeyError,
    finding_at,
)
from avn_kb.model.findings import Finding

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

@dataclass
class YamlDocument:
    """One loaded file. `value` is None when the file could not be loaded at all (`ok` is False)."""

    path: str
    text: str
    value: Any = None
    ok: bool = False
    findings: list[Finding] = field(default_factory=list)
    plain: bool = False  # the fast path gave the value
    _positions: Positions | None = field(default=None, repr=False)

    def positions(self) -> Positions:
        """Where its nodes are: all that locating findings needs once the value is built into the
        model. Made on first use, so a file refused after a walk (`_cross_check`) keeps its marks."""
        if self._positions is None:
            self._positions = Positions(self.path, self.text, self.plain, self.ok)
        return self._positions

    def locate(self, pointer: Pointer, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the node at `pointer`, or of its key when `key` is set;
        falls back to the nearest enclosing node that exists."""
        return self.positions().locate(pointer, key)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def decode(path: str, data: bytes) -> tuple[str | None, list[Finding]]:
    """Bytes to text, refusing what a YAML editor would not show faithfully."""
    findings: list[Finding] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"):
        return None, [finding_at("AVN103", path, 1, 1,
                               "file is encoded as UTF-16 or UTF-32; save it as UTF-8 without a byte-order mark")]
    if data.startswith(b"\xef\xbb\xbf"):
        findings.append(finding_at("AVN114", path, 1, 1,
                                 "file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"))
        data = data[3:]
    nul = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        prefix = data[: err.start].decode("utf-8", errors="replace")
        line, col = _line_col(prefix, len(prefix))
        return None, findings + [finding_at(
            "AVN103", path, line, col,
            f"invalid UTF-8 (byte 0x{data[err.start]:02x}); the file may be binary or in another "
            "encoding: save it as UTF-8")]
    if nul >= 0:
        line, col = _line_col(text, text.find("\x00"))
        return None, findings + [finding_at("AVN103", path, line, col,
                                          "NUL byte in the file; it looks binary: restore the YAML text")]
    return text, findings


def load_yaml(path: str, data: bytes, fast: bool = True) -> YamlDocument:
    """Load one file's bytes. Never raises for bad input: problems are in `findings`. Plain files
    take yaml-rs (`fast_yaml`), which gives the same value; `fast=False` forces the event-based path."""
    if len(data) > MAX_FILE_BYTES:
        doc = YamlDocument(path, "")
        doc.findings.append(finding_at(
            "AVN101", path, 1, 1,
            f"file is {len(data):,} bytes, over the {MAX_FILE_BYTES:,}-byte limit; split it into smaller files"))
        return doc
    text, findings = decode(path, data)
    doc = YamlDocument(path, text or "", findings=findings)
    if text is None:
        return doc
    marker = CONFLICT_MARKER.search(text) if any(run in text for run in CONFLICT_RUNS) else None
    if marker:
        line, col = _line_col(text, marker.start())
        doc.findings.append(finding_at("AVN112", path, line, col,
                                     "merge-conflict marker: resolve the conflict and remove the marker lines"))
        return doc
    value = fast_value(text, data, MAX_NODES, MAX_DEPTH) if fast and not findings else None
    if value is not None:
        doc.value, doc.ok, doc.plain = value, True, True
        return doc
    try:
        walker = EventWalker(path, text, None, None)
        doc.value = walker.run()
        doc.findings.extend(walker.findings)
        doc.ok = True
    except ScalarKeyError as fatal:
        doc.findings.append(_explained_key_error(path, text, fatal.finding))
    except FatalYamlError as fatal:
        doc.findings.append(fatal.finding)
    except yaml.MarkedYAMLError as err:
        doc.findings.append(_syntax_finding(path, text, err))
    except yaml.YAMLError as err:
        doc.findings.append(_reader_finding(path, text, err))
    if doc.ok and not any(finding.severity == "error" for finding in doc.findings):
        _cross_check(doc)
    return doc


def _cross_check(doc: YamlDocument) -> None:
    """Refuse the document where YAML 1.2 (yaml-rs) refuses the text or reads another value."""
    reading = reference_reading(doc.text, MAX_NODES, checked=True)
    if reading is None:
        return
    if not reading.accepted:
        doc.findings.append(finding_at(
            "AVN102", doc.path, reading.line, reading.column,
            f"YAML syntax error: {reading.problem} (not valid YAML 1.2, though some YAML 1.1 tools "
            "accept it); fix the syntax here"))
    else:
        difference = first_difference(doc.value, reading.value, doc.text)
        if difference is None:
            return
        line, column = doc.locate(difference.pointer)
        doc.findings.append(finding_at(
            "AVN102", doc.path, line, column,
            f"YAML read differently: libyaml (which gives the locations) reads {shown(difference.ours)} here, "
            f"yaml-rs (YAML 1.2) reads {shown(difference.theirs)}{colon_in_anchor_hint(doc.text)}; {PLAINER}"))
    doc.value, doc.ok = None, False


def _explained_key_error(path: str, text: str, finding: Finding) -> Finding:
    """The walker's finding, unless it blames a non-string key that YAML 1.2 does not see (libyaml
    misread the text, e.g. an anchor named `a:`): then say that instead, at the same place."""
    reading = reference_reading(text, MAX_NODES)
    if reading is None or not reading.accepted or has_non_string_key(reading.value):
        return finding
    return finding_at("AVN102", path, finding.line, finding.column,
                      "YAML read differently by libyaml (which sees a key that is not a string here) and by "
                      f"YAML 1.2 (which does not){colon_in_anchor_hint(text)}; {PLAINER}")


def _syntax_finding(path: str, text: str, err: yaml.MarkedYAMLError) -> Finding:
    mark = err.problem_mark or err.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reading = reference_reading(text, MAX_NODES)
    valid = reading is not None and reading.accepted  # libyaml's limit, not a mistake in the text
    tab = TAB_INDENT.search(text)
    if tab:
        tline, tcol = _line_col(text, tab.end() - 1)
        return finding_at("AVN102", path, tline, tcol, (
            "tab character at the start of a line, which YAML 1.2 allows here but libyaml, the parser that "
            "gives the locations, cannot read: replace the tab with spaces") if valid else
            "tab character in indentation; YAML indents with spaces only: replace the tab")
    problem = err.problem or "cannot parse"
    if "nesting depth" in problem:
        return finding_at("AVN107", path, line, col, "nesting too deep for the parser: flatten the structure")
    context, advice = _syntax_context(err)
    if valid:
        return finding_at("AVN102", path, line, col,
                          f"valid YAML 1.2 that libyaml, the parser that gives the locations, cannot read "
                          f"({problem}{context}); {PLAINER}")
    hint = ""
    if mark and mark.line >= text.count("\n") and not text.endswith("\n\n"):
        hint = "; the file may be truncated"
    return finding_at("AVN102", path, line, col, f"YAML syntax error: {problem}{context}{hint}; {advice}")


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
    return finding_at("AVN103", path, line, col,
                    f"character not allowed in YAML ({getattr(err, 'reason', err)}): remove it")


