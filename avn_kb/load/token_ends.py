"""Where the YAML token that a finding points at ends, so that a report can mark the whole key or
value (SARIF's endLine/endColumn) rather than a single character.

A finding is located at the start of a node or of a key (`YamlDocument.locate`). The end is read
from the scanner's tokens: a scalar ends where its token ends (after the closing quote, on a later
line for a quoted string that wraps), a flow collection (`[...]`, `{...}`) at its closing bracket,
and an anchor or tag counts as part of the node it introduces. Anything else (a block list's
`-`, a position in a file the scanner gives up on) ends at the end of its line's content.
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


class TokenEnds:
    """The end of the token at each start position of one file's text (scanned once, on first use)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._ends: dict[Position, Position] | None = None

    def end(self, line: int, column: int) -> Position:
        """Line and column just past the token that starts at (line, column)."""
        if self._ends is None:
            self._ends = _scan(self.text)
        found = self._ends.get((line, column))
        return found if found is not None else self._line_end(line, column)

    def _line_end(self, line: int, column: int) -> Position:
        lines = self.text.splitlines()
        content = lines[line - 1].rstrip() if 0 < line <= len(lines) else ""
        return line, max(column, len(content) + 1)


def _scan(text: str) -> dict[Position, Position]:
    ends: dict[Position, Position] = {}
    prefixes: list[Position] = []  # anchors and tags waiting for the node they introduce
    flows: list[list[Position]] = []  # per open flow collection: its start and its prefixes
    try:
        for token in yaml.scan(text, Loader=_Loader):
            start, end = _position(token.start_mark), _position(token.end_mark)
            if isinstance(token, _PREFIX):
                prefixes.append(start)
            elif isinstance(token, _FLOW_START):
                flows.append([start, *prefixes])
                prefixes = []
            elif isinstance(token, _FLOW_END) and flows:
                for owner in flows.pop():
                    ends[owner] = end
                prefixes = []
            elif isinstance(token, (yaml.ScalarToken, yaml.AliasToken)):
                ends.setdefault(start, end)
                for owner in prefixes:
                    ends[owner] = end
                prefixes = []
    except yaml.YAMLError:
        pass  # a file the scanner stops in keeps the ends found before that point
    return ends
