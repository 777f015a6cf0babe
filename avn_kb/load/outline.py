"""The entries of plain YAML read from its lines alone, so that a finding is located by walking a
few lines around it instead of the whole file (avn_kb/load/positions.py).

Only for text the fast path took (avn_kb/load/fast_yaml.py), which libyaml reads without a problem
and which has no tab, no anchor, alias, tag or `?` key, no document marker but a leading `---`, and
no flow collection or quoted scalar that goes on past its line. In such text a block collection's
entries are exactly its lines at the collection's column (a mapping's key lines, a sequence's `- `
lines, the first one perhaps after a `- ` on the line above: `- id: x`), and every other line of an
entry is indented further (its value, a block scalar, a wrapped plain scalar) or is blank or a
comment, or, at a mapping's column, a `- ` of the key's indentless sequence.

So the first lines of the entries that lead to a node (`recommendations:`, `  - id: x`) and the
lines of the innermost entry holding it, with the lines between them left out, are YAML whose
tokens at those places are the file's: libyaml gives the node the line and column it gives it in
the whole file (the other entries only change where the leading ones are counted from), and each
token ends where it ends there (the text stops where the next entry would start, so a block
scalar still ends at that line). An entry whose value is not such a collection (a scalar, a flow
collection, anything not plainly a key) is kept whole; tests/test_positions.py compares every node
and every token with a walk of the whole file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

# What cannot start a plain key (flow and other indicators; quotes are read apart).
_NOT_PLAIN = frozenset("[]{},#&*!|>%@`")
_PLAIN_KEY_END = re.compile(r":[ \n]")
_INF = float("inf")


@cache
def _lines_at(column: int) -> re.Pattern[str]:
    """The line breaks followed by exactly `column` spaces and then content."""
    return re.compile("\n" + " " * column + "(?=[^ \n])")


@dataclass(frozen=True)
class Block:
    """A block collection: where each entry's lines start (`starts`, a compact first entry's from
    the line holding it), their line numbers, the names of a mapping's entries, where it ends."""

    sequence: bool
    column: int
    compact: bool  # the first entry is written after a `- ` on the line it starts: `- id: x`
    starts: list[int]
    lines: list[int]
    names: dict[str, int]
    end: int

    def region(self, index: int) -> tuple[int, int]:
        return self.starts[index], self.starts[index + 1] if index + 1 < len(self.starts) else self.end

    def entry_of(self, component: object) -> int | None:
        """Which entry a pointer component names, as a lookup in the parsed value would find it
        (a list index may be any number equal to an int, as in a tuple's comparison)."""
        if not self.sequence:
            return self.names.get(component) if isinstance(component, str) else None
        if not isinstance(component, (int, float)) or component != component or component in (_INF, -_INF):
            return None
        index = int(component)
        return index if index == component and 0 <= index < len(self.starts) else None


def key_at(text: str, at: int) -> tuple[str, int] | None:
    """The key of a mapping entry written at `at` and where its `:` is, or None when the line
    is not plainly `key: ...` (then the entry is kept whole: never a guess)."""
    first = text[at]
    eol = text.find("\n", at)
    if first in "\"'":
        close = at
        while True:
            close = text.find(first, close + 1, eol)
            if close < 0:
                return None
            if first == "'" and text.startswith("''", close):
                close += 1
                continue
            break
        name = text[at + 1:close]
        name, colon = (name.replace("''", "'") if first == "'" else name), close + 1
        if not text.startswith(":", colon) or text[colon + 1] not in " \n":
            return None
        return name, colon
    if first in _NOT_PLAIN or first == " " or first == "\n":
        return None
    found = _PLAIN_KEY_END.search(text, at, eol + 1)
    if found is None:
        return None
    name = text[at:found.start()].rstrip(" ")
    if not name or " #" in name or (name[0] in "-?:" and name[1:2] in ("", " ")):
        return None
    return name, found.start()


def _is_dash(text: str, at: int) -> bool:
    return text[at] == "-" and text[at + 1] in " \n"


def _after_spaces(text: str, at: int) -> int:
    while text[at] == " ":
        at += 1
    return at


def _content_line(text: str, start: int, end: int) -> int | None:
    """The first line in [start, end) (a line start) that is neither blank nor a comment."""
    while start < end:
        first = _after_spaces(text, start)
        if text[first] not in "#\n":
            return start
        start = text.find("\n", first) + 1
    return None


def split(text: str, start: int, line: int, end: int, column: int, sequence: bool, compact: bool) -> Block | None:
    """The block collection at `column` whose lines are [start, end) (`start` on line `line`), or
    None if a line there does not read plainly as one of its entries."""
    starts: list[int] = []
    lines: list[int] = []
    names: dict[str, int] = {}
    search = start
    if compact or start == 0:  # the first entry, with no line break before it to search for
        entry = _entry(text, start + column, sequence)
        if entry is None:
            return None
        starts.append(start)
        lines.append(line)
        if not sequence:
            names[entry] = 0
        search = text.find("\n", start)
    else:
        search = start - 1
    counted, counted_line = start, line
    for found in _lines_at(column).finditer(text, search, end):
        at = found.end()
        if text[at] == "#" or not sequence and _is_dash(text, at):
            continue  # a comment, or the indentless sequence of the key above
        entry = _entry(text, at, sequence)
        if entry is None:
            return None
        if not sequence:
            if entry in names:
                return None
            names[entry] = len(starts)
        counted_line += text.count("\n", counted, found.start() + 1)
        counted = found.start() + 1
        starts.append(counted)
        lines.append(counted_line)
    if not starts:
        return None
    return Block(sequence, column, compact, starts, lines, names, end)


def _entry(text: str, at: int, sequence: bool) -> str | None:
    """`-` for a sequence entry at `at`, the key of a mapping entry, or None."""
    if sequence:
        return "-" if _is_dash(text, at) else None
    found = key_at(text, at)
    return found[0] if found is not None else None


def value_block(text: str, block: Block, index: int) -> Block | None:
    """The block collection that is the value of entry `index` of `block`, or None (a scalar, a
    flow collection, nothing plainly a collection)."""
    start, end = block.region(index)
    line, column = block.lines[index], block.column
    at = start + column
    if block.sequence:
        after = _after_spaces(text, at + 1)
    else:
        found = key_at(text, at)
        if found is None:
            return None
        after = _after_spaces(text, found[1] + 1)
    if text[after] not in "#\n":
        if not block.sequence:
            return None
        inner = after - start
        if _is_dash(text, after):
            return split(text, start, line, end, inner, True, True)
        if key_at(text, after) is not None:
            return split(text, start, line, end, inner, False, True)
        return None
    first_end = text.find("\n", after) + 1
    below = _content_line(text, first_end, end)
    if below is None:
        return None
    below_line = line + text.count("\n", start, below)
    inner = _after_spaces(text, below) - below
    dash = _is_dash(text, below + inner)
    if inner < column + (1 if block.sequence or not dash else 0):
        return None
    return split(text, below, below_line, end, inner, dash, False)


def root_block(text: str) -> Block | None:
    """The document's block collection, or None when the root is something else."""
    start = 4 if text.startswith("---\n") else 0
    first = _content_line(text, start, len(text))
    if first is None:
        return None
    line = 1 + text.count("\n", 0, first)
    column = _after_spaces(text, first) - first
    return split(text, first, line, len(text), column, _is_dash(text, first + column), False)


def entry_on(block: Block, line: int) -> int | None:
    """The entry whose lines hold line `line`, or None when it is above the first one."""
    index = bisect_right(block.lines, line) - 1
    return index if index >= 0 else None
