"""Where the YAML token that a finding points at ends, so that a report can mark the whole key or
value (SARIF's endLine/endColumn) rather than a single character.

A finding is located at the start of a node or of a key (`Positions.locate`). The end is read
from the scanner's tokens: a scalar ends where its token ends (after the closing quote, on a later
line for a quoted string that wraps), a flow collection (`[...]`, `{...}`) at its closing bracket
when that is on the line it opens on, and an anchor or tag counts as part of the node it
introduces. Anything else (a flow collection that goes on to later lines, a block list's `-`, a
position in a file the scanner gives up on) ends at the end of its line's content.
"""

from __future__ import annotations

import yaml

Position = tuple[int, int]  # line, column (1-based, in characters, as in findings)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FLOW_START = (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken)
_FLOW_END = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)
_PREFIX = (yaml.AnchorToken, yaml.TagToken)


def _position(mark: yaml.Mark) -> Position:
    return mark.line + 1, mark.column + 1


# How far past a flow collection's first token the scanner may go to find its closing bracket.
FLOW_BUDGET = 10_000


class TokenEnds:
    """The end of the token at each start position of one file's text. The file is scanned lazily,
    only as far as the positions asked for (a finding on line 3 of a huge file costs line 3), and a
    flow collection's closing bracket is looked for on its first line only, within a budget: one
    that goes on further ends, for a report, at the end of that line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens = yaml.scan(text, Loader=_Loader)
        self._done = False
        self._last: Position = (0, 0)  # where the last token scanned starts
        self._ends: dict[Position, Position] = {}
        self._prefixes: list[Position] = []  # anchors and tags waiting for the node they introduce
        self._flows: list[list[Position]] = []  # per open flow collection: its start and its prefixes
        self._lines: list[str] | None = None

    def end(self, line: int, column: int) -> Position:
        """Line and column just past the token that starts at (line, column)."""
        at = (line, column)
        while not self._done and self._last <= at:
            self._advance()
        budget = FLOW_BUDGET
        while not self._done and budget and self._last[0] == line and any(at in flow for flow in self._flows):
            self._advance()
            budget -= 1
        found = self._ends.get(at)
        return found if found is not None else self._line_end(line, column)

    def _line_end(self, line: int, column: int) -> Position:
        if self._lines is None:
            self._lines = self.text.splitlines()
        lines = self._lines
        content = lines[line - 1].rstrip() if 0 < line <= len(lines) else ""
        return line, max(column, len(content) + 1)

    def _advance(self) -> None:
        try:
            token = next(self._tokens, None)
        except yaml.YAMLError:
            token = None  # a file the scanner stops in keeps the ends found before that point
        if token is None:
            self._done = True
            return
        start, end = _position(token.start_mark), _position(token.end_mark)
        self._last = start
        if isinstance(token, _PREFIX):
            self._prefixes.append(start)
        elif isinstance(token, _FLOW_START):
            self._flows.append([start, *self._prefixes])
            self._prefixes = []
        elif isinstance(token, _FLOW_END) and self._flows:
            for owner in self._flows.pop():
                self._ends[owner] = end
            self._prefixes = []
        elif isinstance(token, (yaml.ScalarToken, yaml.AliasToken)):
            self._ends.setdefault(start, end)
            for owner in self._prefixes:
                self._ends[owner] = end
            self._prefixes = []
