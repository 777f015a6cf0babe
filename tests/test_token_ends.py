"""Where the key or value a finding points at ends (SARIF's endLine/endColumn): scalars plain and
quoted (wrapping lines too), flow collections to their closing bracket (on their first line), anchors and tags with
their node; anything else, or a file the scanner stops in, to the end of its line's content."""

from __future__ import annotations

import pytest

from avn_kb.load.token_ends import TokenEnds

TEXT = """\
topic: offloading
title: "a quoted
  title that wraps"
when: {site: hip, collapse: pre-collapse}   # a comment
levels: &levels [none, partial]
again: *levels
tagged: !!str plain value
items:
  - first
multi: [one,
  two]
"""


@pytest.mark.parametrize("start, end", [
    ((1, 1), (1, 6)),     # the key `topic`
    ((1, 8), (1, 18)),    # its value `offloading`
    ((2, 8), (3, 20)),    # a quoted value that wraps, to its closing quote
    ((4, 7), (4, 42)),    # a flow mapping, to its closing brace (not the comment)
    ((4, 14), (4, 17)),   # `hip` inside it
    ((5, 9), (5, 32)),    # an anchored flow sequence: anchor and node together
    ((6, 8), (6, 15)),    # an alias
    ((7, 9), (7, 26)),    # a tagged plain scalar
    ((9, 3), (9, 10)),    # an item of a block list
    ((9, 1), (9, 10)),    # not a token start: the end of the line's content
    ((10, 8), (10, 13)),  # a flow list going on to the next line: the end of its first line
    ((20, 1), (20, 1)),   # past the end of the file
])
def test_token_ends(start: tuple[int, int], end: tuple[int, int]) -> None:
    assert TokenEnds(TEXT).end(*start) == end


def test_a_file_the_scanner_stops_in_keeps_what_came_before() -> None:
    ends = TokenEnds("a: 1\nb: [unclosed, list\nc: 2\n")
    assert ends.end(1, 4) == (1, 5)
    assert ends.end(2, 1) == (2, 2)
    assert ends.end(3, 1) == (3, 5)  # after the error: the line's content
