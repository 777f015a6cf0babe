"""The fast path of the safe loader: plain, unsurprising YAML parsed by yaml-rs (Rust), several
times faster than building values from libyaml's events in Python (docs/performance.md, "Parser
choice").

It is taken only where it gives exactly the value of the event-based path and that path would
report nothing. Whatever could carry a finding, or be read differently by libyaml (YAML 1.1) and
yaml-rs (YAML 1.2), sends the file to the event-based path, which says precisely what is wrong.
Three gates, each erring on the side of the event-based path:

1. Searches over the bytes, at C speed (a translate, a few regexes with a literal first byte):
   tags, anchors, aliases, `?` keys, merge keys `<<`; directives and document markers (but one
   leading `---`); any backslash (escapes); tabs, CR, control characters, Unicode spaces and
   line separators, a BOM; `:` followed by anything but whitespace (`{a:b}` is a key in YAML 1.1
   flow context, one scalar in YAML 1.2; `1:30`, URLs); a flow collection or quoted scalar that
   does not close on its line (libyaml refuses some continuation lines yaml-rs takes); a file
   not ending in a line break, a block scalar as the whole document, `|+`, `>2` (block scalars
   the two end or indent differently); lines starting with 1,000 spaces or `- ` (yaml-rs recurses
   on block nesting and crashes at some 20,000 levels); a file that could hold over 4 times the
   node limit (yaml-rs would build it all before the limit is checked); and
   every plain scalar that starts like a number (`0777`, `1_000`, `0x1F`, `0b1`, `1e3`, `+1`, `.5`,
   `2026-11-24T10:00`) unless it has a shape both read alike: `12`, `-3.5`, or a `YYYY-MM-DD` date,
   which yaml-rs is told to keep a string (parse_datetime=False).
2. yaml-rs must accept the text: it refuses duplicate keys, bad syntax and deep flow nesting.
3. One pass over the value it returns, needed anyway to count nodes: every key a string; no
   string that YAML 1.1 reads as a boolean (`no`, `on`, `y`: quoted ones too), that is a lone
   line break (yaml-rs's empty `|`, libyaml's ''), or that starts with `|` or `>` (yaml-rs's
   plain `[>x]`, which libyaml refuses); no NaN or infinity (`.nan`, `.inf`, `1e999`); at most
   `max_nodes` nodes and `max_depth` levels, counted as the event-based path counts them.

Measured to agree otherwise (tests/test_fast_yaml.py): `true`/`True`/`TRUE`, `false`, `null`, `~`
and empty values, every other plain, quoted or block string, and the 1,024-character limit of
implicit keys. yaml-rs is a declared dependency, but the loader works without it: then every
file takes the event-based path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

try:
    import yaml_rs
except ImportError:  # pragma: no cover - a broken install still loads, only slower
    yaml_rs = None  # type: ignore[assignment]

YAML11_BOOLEANS = frozenset({"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
                             "on", "On", "ON", "off", "Off", "OFF"})
# Strings that may have been read differently: YAML 1.1 booleans, and a lone line break, which
# yaml-rs makes of an empty `|` or `>` block scalar (libyaml: an empty string).
_SUSPECT_STRINGS = YAML11_BOOLEANS | {"\n"}
# What a string yaml-rs read may start with where libyaml saw a block scalar header or refused the
# text (`[>x]`, `{a: |}`: no plain scalar starts with an indicator in YAML 1.1 flow context).
_BLOCK_INDICATORS = ("|", ">")

# What libyaml and yaml-rs both read as the same printable character: no tab, CR, C0/C1 control,
# DEL, NEL, BOM, Unicode space, line or paragraph separator, zero-width or bidi formatting mark.
_UNSAFE_CHAR = re.compile(
    "[^\n\x20-\x7e\xa1-\u167f\u1681-\u180d\u180f-\u1fff\u2010-\u2027\u2030-\u205e\u2070-\u2fff"
    "\u3001-\ud7ff\ue000-\ufefe\uff00-\ufff8\U00010000-\U0010fffd]")
# Printable ASCII but for the indicators looked at below: deleting these bytes leaves (usually
# nothing but) control characters, those indicators and the bytes of non-ASCII characters.
_RARE = b"!&*?\\<"
_PLAIN_BYTES = bytes(c for c in (10, *range(0x20, 0x7F)) if c not in _RARE)
_RARE_AND_NON_ASCII = _RARE + bytes(range(0x80, 0x100))
_RARE_CHECKS = {
    ord("!"): re.compile(rb"!(?<!\w!)"),   # tag (an indicator never follows a word character)
    ord("&"): re.compile(rb"&(?<!\w&)"),   # anchor
    ord("*"): re.compile(rb"\*(?<!\w\*)"),  # alias
    ord("?"): re.compile(rb"\?(?<![^\s\[{,:\-]\?)"),  # `?` key (or a scalar starting with `?`)
    ord("\\"): re.compile(rb"\\"),        # escapes: any backslash at all
    ord("<"): re.compile(rb"<<"),         # merge key
}
_COLON_NOT_SPACE = re.compile(rb":[^\s]")  # `a:b`: a key in YAML 1.1 flow context, a scalar in YAML 1.2

# Directives, document markers (after the first line), and lines that start with 1,000 spaces or
# `- ` indicators (yaml-rs recurses on block nesting and crashes past ten thousand levels or so).
_UNSAFE_LINE_START = re.compile(rb"\n(?:%|---|\.\.\.|[ \-]{1000})")
_DEEP_LINE_START = re.compile(rb"\n[ \-]{1000}")

# yaml-rs builds the whole value before the node limit can be checked: a file that may hold many
# more nodes than the limit allows (`[0,0,0,...]`) goes to the event-based path, which stops early.
_PARSED_NODES_AT_MOST = 4

# A plain scalar that is a whole node starts after the indentation and `- ` indicators of a line,
# after `: ` or after a flow indicator; it ends before spaces and then the end of the line, a
# comment or a value or flow indicator. So that one search with a literal first byte (which the
# regex engine skips to at C speed) finds them all, it runs over a copy in which `:`, `[`, `{`
# and `,` are line breaks. A scalar that starts like a number is unsafe unless it has one of the
# shapes both parsers read the same (a date stays a string: parse_datetime=False).
_STARTS_AS_LINES = bytes.maketrans(b":[{,", b"\n\n\n\n")
_END = rb"(?=[ ]*+(?:[\n\]}#]|\Z))"
_SAME_NUMBER = rb"(?:-?(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,15})?|[0-9]{4}-[0-9]{2}-[0-9]{2})"
_UNSAFE_SCALAR = re.compile(
    rb"\n[ ]*+(?:-[ ]++)*+(?:"
    rb"[|>](?:[+0-9]|-[0-9])"  # a block scalar with keep chomping or an indentation indicator
    rb"|(?=[-+._0-9])(?!" + _SAME_NUMBER + _END + rb")[-+._]*+[0-9][^\s\]}#]*+" + _END + rb")")
# Flow collections and quoted scalars must close on the line they open on: libyaml refuses some
# continuation lines that yaml-rs takes (less indented than the enclosing block). Each `[` and `{`
# must start a flow collection, nested at most four deep, that closes on its line; each quote at
# the start of a token must close on its line. (An apostrophe in a flow scalar, `[it's]`, counts
# as an unclosed quote.)
_QUOTED = rb"""(?:"[^"\n]*+"|'(?:[^'\n]|'')*+')"""
_PLAIN_RUN = rb"""[^\[\]{}"'\n]*+"""
_IN_FLOW = _PLAIN_RUN + rb"(?:" + _QUOTED + _PLAIN_RUN + rb")*+"
for _ in range(3):
    _NESTED = rb"\[" + _IN_FLOW + rb"\]|\{" + _IN_FLOW + rb"\}"
    _IN_FLOW = _PLAIN_RUN + rb"(?:(?:" + _QUOTED + rb"|" + _NESTED + rb")" + _PLAIN_RUN + rb")*+"
_OPEN_AT_LINE_END = [re.compile(pattern) for pattern in (
    rb"\[(?!" + _IN_FLOW + rb"\])", rb"\{(?!" + _IN_FLOW + rb"\})",
    rb"""\"(?<=[\s\[{,:]")(?![^"\n]*+")""", rb"""'(?<=[\s\[{,:]')(?!(?:[^'\n]|'')*+')""")]
# A block scalar as the whole document (after comments and a `---` line).
_ROOT_BLOCK_SCALAR = re.compile(rb"(?:[ ]*+(?:#[^\n]*+)?\n|---\n)*+[ ]*+[|>]")


def fast_value(text: str, data: bytes, max_nodes: int, max_depth: int) -> Any:
    """The value of `text` (whose UTF-8 bytes are `data`) when the fast path may give it, else
    None: then the event-based path must load the file (a document whose whole value is null
    goes there too)."""
    if yaml_rs is None or not passes_guard(text, data, max_nodes):
        return None
    try:
        value = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # noqa: BLE001 - any refusal or failure of yaml-rs: the event-based path decides
        return None
    if value is None or not read_alike(value, max_nodes, max_depth):
        return None
    return value


def passes_guard(text: str, data: bytes, max_nodes: int) -> bool:
    """Whether the text (`data` in UTF-8) is free of everything the guard looks for before parsing
    (module docstring), and cannot hold much more than `max_nodes` nodes."""
    if not text.isascii() and _UNSAFE_CHAR.search(text):
        return False
    rest = data.translate(None, _PLAIN_BYTES)
    if rest.translate(None, _RARE_AND_NON_ASCII):
        return False  # a control character, tab or CR
    if any(code in rest and check.search(data) for code, check in _RARE_CHECKS.items()):
        return False
    # The two parsers end a block scalar at the end of the file differently.
    if not data.endswith(b"\n") or _ROOT_BLOCK_SCALAR.match(data) or _COLON_NOT_SPACE.search(data):
        return False
    lines = b"\n" + data
    starts = lines.translate(_STARTS_AS_LINES)
    if _node_bound(starts, data) > _PARSED_NODES_AT_MOST * max_nodes:
        return False
    skip = 4 if data.startswith(b"---\n") else 0  # one leading `---` line is harmless
    if _UNSAFE_LINE_START.search(lines, skip) or _UNSAFE_SCALAR.search(starts, skip):
        return False
    return not any(pattern.search(lines) for pattern in _OPEN_AT_LINE_END)


def within_parse_limits(data: bytes, max_nodes: int) -> bool:
    """Whether yaml-rs may be given the text (`data` in UTF-8) at all, whatever else it holds: no
    line nested deep enough to crash it, and no more nodes than it may build before the limit
    can be checked (those two tests of `passes_guard`)."""
    lines = b"\n" + data
    if _DEEP_LINE_START.search(lines):
        return False
    return _node_bound(lines.translate(_STARTS_AS_LINES), data) <= _PARSED_NODES_AT_MOST * max_nodes


def _node_bound(starts: bytes, data: bytes) -> int:
    """An upper bound of the number of nodes: two per block mapping entry (each has a `:`) and per
    flow entry (each ends at a `,` or a closing bracket: at most one per comma or opening
    bracket), one per block sequence item (each has a `-`). `starts` has a line break for each
    line break, `:`, `[`, `{` and `,` of `data`."""
    return 1 + 2 * starts.count(b"\n") + data.count(b"-")


def read_alike(value: Any, max_nodes: int, max_depth: int) -> bool:
    """Whether the parsed value holds nothing the event-based path would read differently or
    report (module docstring), and keeps within the node and depth limits."""
    if type(value) is not dict and type(value) is not list:
        return not _suspect(value)
    nodes = 1
    stack = [(value, 1)]
    while stack:
        container, level = stack.pop()
        if level > max_depth:
            return False
        children: Iterable[Any]
        if type(container) is dict:
            nodes += 2 * len(container)
            if not _SUSPECT_STRINGS.isdisjoint(container):
                return False
            for key in container:  # a loop, not any(): this runs for every mapping of every file
                if type(key) is not str or key.startswith(_BLOCK_INDICATORS):
                    return False
            children = container.values()
        else:
            nodes += len(container)
            children = container
        if nodes > max_nodes:
            return False
        for child in children:
            kind = type(child)
            if kind is str:  # inline _suspect: most nodes are strings
                if child.startswith(_BLOCK_INDICATORS) or len(child) < 4 and child in _SUSPECT_STRINGS:
                    return False
            elif kind is dict or kind is list:
                stack.append((child, level + 1))
            elif kind is float and not math.isfinite(child):
                return False
    return True


def _suspect(scalar: Any) -> bool:
    if type(scalar) is str:
        return scalar.startswith(_BLOCK_INDICATORS) or scalar in _SUSPECT_STRINGS
    return type(scalar) is float and not math.isfinite(scalar)
