"""Where the nodes of one loaded file are, for locating findings: the line and column of the node
at a pointer or of its key (`locate`) and where the token at a place ends (`end`), exactly as a
walk of the file's YAML events and a scan of its tokens give them, without the file's value.

A file the fast path took is not walked whole: its lines tell where each block entry is
(avn_kb/load/outline.py), and only the lines that lead to the entry holding the node are walked
or scanned, a few dozen events for a finding in a file of a thousand recommendations. Any other
file is walked once, on the first finding that needs it, and scanned as far as its findings go.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from typing import Any

import yaml

from avn_kb.load.outline import Block, entry_on, root_block, value_block
from avn_kb.load.token_ends import Position, TokenEnds
from avn_kb.load.yaml_events import EventWalker, FatalYamlError, Pointer

Marks = dict[Pointer, tuple[int, int]]
_NOT_READ = object()

# A file's text is most of what a loaded knowledge base keeps (issue 17), and it is read only to
# locate findings, a file at a time: kept compressed, a few expanded at once, the most recent.
_PACKED_FROM = 64 * 1024  # a smaller text is kept as it is: compressing it saves little
_EXPANDED_AT_ONCE = 4
_expanded: OrderedDict[Positions, str] = OrderedDict()
_expanded_lock = threading.Lock()


def lookup(marks: Marks, key_marks: Marks, pointer: Pointer, key: bool) -> Position:
    """The mark of the node at `pointer` (of its key when `key`), or of the nearest enclosing
    node that exists."""
    if key and pointer in key_marks:
        return key_marks[pointer]
    probe = tuple(pointer)
    while probe:
        if probe in marks:
            return marks[probe]
        probe = probe[:-1]
    return marks.get((), (1, 1))


class _Excerpt:
    """Some whole lines of the text, each run of them kept with its first line's number there."""

    def __init__(self, text: str, runs: list[tuple[int, int, int]]) -> None:
        self.text = "".join(text[start:end] for start, end, _ in runs)
        self._firsts: list[tuple[int, int]] = []  # (line in the excerpt, line in the file)
        line = 1
        for start, end, first in runs:
            self._firsts.append((line, first))
            line += text.count("\n", start, end)

    def to_file(self, position: Position) -> Position:
        line, column = position
        run = max((i for i, (first, _) in enumerate(self._firsts) if first <= line), default=0)
        here, there = self._firsts[run]
        return line - here + there, column

    def to_excerpt(self, position: Position) -> Position:
        line, column = position
        run = max((i for i, (_, first) in enumerate(self._firsts) if first <= line), default=0)
        here, there = self._firsts[run]
        return line - there + here, column


class Positions:
    """The positions of one file's nodes and tokens. `plain`: the fast path took the text;
    `readable`: it was loaded (otherwise every node is at 1:1, as nothing could be walked)."""

    def __init__(self, path: str, text: str, plain: bool, readable: bool, packed: bool = True) -> None:
        self.path = path
        self._text: str | None = text if len(text) < _PACKED_FROM or not packed else None
        self._packed = b"" if self._text is not None else zlib.compress(text.encode("utf-8", "surrogatepass"), 1)
        self.plain = plain
        self.readable = readable
        self._root: Any = _NOT_READ
        self._values: dict[tuple[int, int, int], Block | None] = {}  # the entries' values read so far
        self._whole: tuple[Marks, Marks] | None = None
        self._tokens: TokenEnds | None = None
        self._walked: tuple[tuple[tuple[int, int, int], ...], Marks, Marks, _Excerpt] | None = None
        self._scanned: tuple[tuple[tuple[int, int, int], ...], TokenEnds, _Excerpt] | None = None

    @property
    def text(self) -> str:
        """The file's text (expanded again if it is not among the few kept expanded)."""
        if self._text is not None:
            return self._text
        with _expanded_lock:
            found = _expanded.get(self)
            if found is not None:
                _expanded.move_to_end(self)
                return found
        found = zlib.decompress(self._packed).decode("utf-8", "surrogatepass")
        with _expanded_lock:
            _expanded[self] = found
            while len(_expanded) > _EXPANDED_AT_ONCE:
                _expanded.popitem(last=False)
        return found

    def __getstate__(self) -> tuple[str, str, bool, bool]:
        return self.path, self.text, self.plain, self.readable

    def __setstate__(self, state: tuple[str, str, bool, bool]) -> None:
        # Read back from the cache the text is kept as it is: a warm run that compressed every
        # file's text again took a second longer at 100,000 recommendations (only a cold run's
        # memory has a bound to meet, issue 17).
        self.__init__(*state, packed=False)  # type: ignore[misc]

    def locate(self, pointer: Pointer, key: bool = False) -> Position:
        """Line and column (1-based) of the node at `pointer`, or of its key when `key` is set;
        falls back to the nearest enclosing node that exists."""
        root = self._outline()
        if root is None:
            return lookup(*self._walk_whole(), pointer, key)
        runs, inside = self._runs_to(root, pointer)
        walked = self._walked  # the last excerpt walked, kept: findings often share one
        if walked is None or walked[0] != runs:
            excerpt = _Excerpt(self.text, list(runs))
            marks: Marks = {}
            key_marks: Marks = {}
            try:
                EventWalker(self.path, excerpt.text, marks, key_marks).run()
            except (yaml.YAMLError, FatalYamlError):  # never expected (tests/test_positions.py): walk it all
                self._root = None
                return self.locate(pointer, key)
            walked = self._walked = runs, marks, key_marks, excerpt
        _, marks, key_marks, excerpt = walked
        return excerpt.to_file(lookup(marks, key_marks, inside, key))

    def end(self, line: int, column: int) -> Position:
        """Line and column just past the key or value that starts at (line, column)
        (avn_kb/load/token_ends.py)."""
        root = self._outline()
        if root is None:
            if self._tokens is None:
                self._tokens = TokenEnds(self.text)
            return self._tokens.end(line, column)
        runs = self._runs_around(root, line)
        scanned = self._scanned
        if scanned is None or scanned[0] != runs:
            excerpt = _Excerpt(self.text, list(runs))
            scanned = self._scanned = runs, TokenEnds(excerpt.text), excerpt
        _, tokens, excerpt = scanned
        return excerpt.to_file(tokens.end(*excerpt.to_excerpt((line, column))))

    def _walk_whole(self) -> tuple[Marks, Marks]:
        if self._whole is None:
            self._whole = {}, {}
            if self.readable:
                EventWalker(self.path, self.text, *self._whole).run()
        return self._whole

    def _outline(self) -> Block | None:
        if self._root is _NOT_READ:
            self._root = root_block(self.text) if self.plain and self.readable else None
        root: Block | None = self._root
        return root

    def _value(self, block: Block, index: int) -> Block | None:
        """The value of an entry, read once (a root entry's may be a thousand recommendations, and
        a finding's entries are read for its place and again for its end)."""
        key = (block.starts[0], block.column, index)  # no two blocks start at one place and column
        if key not in self._values:
            self._values[key] = value_block(self.text, block, index)
        return self._values[key]

    def _runs_to(self, root: Block, pointer: Pointer) -> tuple[tuple[tuple[int, int, int], ...], Pointer]:
        """The runs of lines to walk for `pointer` and the pointer of its node there."""
        runs: list[tuple[int, int, int]] = []
        inside: list[Any] = []
        block, start, line = root, root.starts[0], root.lines[0]
        for level, component in enumerate(pointer):
            index = block.entry_of(component)
            if index is None:  # the node has no such entry: its own place is the answer
                inside.extend(pointer[level:])
                break
            start, line = self._enter(runs, block, index, start, line)
            inside.append(component if not block.sequence else int(index > 0 and block.compact))
            value = self._value(block, index)
            if value is None:  # a scalar, a flow collection: kept whole, walked whole
                runs.append((start, block.region(index)[1], line))
                inside.extend(pointer[level + 1:])
                return tuple(runs), tuple(inside)
            block = value
        first_line_end = self.text.find("\n", block.starts[0]) + 1
        runs.append((start, first_line_end, line))
        return tuple(runs), tuple(inside)

    def _runs_around(self, root: Block, line: int) -> tuple[tuple[int, int, int], ...]:
        """The runs of lines to scan for the tokens of line `line`."""
        if line < root.lines[0]:
            return ((0, root.starts[0], 1),)
        runs: list[tuple[int, int, int]] = []
        block, start, at = root, root.starts[0], root.lines[0]
        while True:
            index = entry_on(block, line)
            if index is None:  # the lines of the entry above, before its value's first entry
                runs.append((start, block.starts[0], at))
                return tuple(runs)
            start, at = self._enter(runs, block, index, start, at)
            value = self._value(block, index)
            if value is None:
                runs.append((start, block.region(index)[1], at))
                return tuple(runs)
            block = value

    def _enter(self, runs: list[tuple[int, int, int]], block: Block, index: int, start: int,
               line: int) -> tuple[int, int]:
        """Keep the lines from `start` (on `line`) that lead to entry `index` of `block` (the first
        line of a compact first entry is the entry's own, kept with it); where the entry starts."""
        if index == 0:
            return start, line
        if block.compact:
            runs.append((start, self.text.find("\n", block.starts[0]) + 1, line))
        elif block.starts[0] > start:
            runs.append((start, block.starts[0], line))
        return block.starts[index], block.lines[index]
