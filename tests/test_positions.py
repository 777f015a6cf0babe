"""Where findings are placed (avn_kb/load/positions.py), against a walk of the whole file: in every
plain document (the shipped knowledge base, the fixtures, a generated knowledge base, tricky and
generated YAML), the line and column of every node and key, of pointers below them that do not
exist, and the end of every token and of every line, must be exactly those of the walk of the
whole file's events (yaml_events.EventWalker) and of the scan of all its tokens (TokenEnds)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from avn_kb.load.positions import Positions, lookup
from avn_kb.load.safe_yaml import load_yaml
from avn_kb.load.token_ends import TokenEnds
from avn_kb.load.yaml_events import EventWalker
from tests.conftest import FIXTURES, SHIPPED
from tests.test_fast_yaml import FUZZ, MUTABLE, PIECES, documents

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# What a pointer below a node may name that is not there (and, for a list, what equals an index).
MISSING: list[Any] = ["missing", "", 10**6, -1, 0, 1, True, 1.0, "0", ("x",)]


def plain_positions(text: str) -> Positions | None:
    """The positions of a document the fast path takes, else None (those are walked whole)."""
    document = load_yaml("f.yaml", text.encode("utf-8"))
    return document.positions() if document.plain else None


def token_places(text: str) -> list[tuple[int, int]]:
    """Where each token starts, each line's first and last column, and past the end of the file."""
    places = {(t.start_mark.line + 1, t.start_mark.column + 1) for t in yaml.scan(text, Loader=_Loader)}
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        places.update({(number, 1), (number, len(line) + 1), (number, len(line.rstrip()) or 1)})
    places.update({(len(lines) + 1, 1), (len(lines) + 7, 3)})
    return sorted(places)


def assert_placed_alike(text: str, positions: Positions, sample: int | None = None, seed: int = 0) -> None:
    marks: dict[Any, tuple[int, int]] = {}
    key_marks: dict[Any, tuple[int, int]] = {}
    EventWalker("f.yaml", text, marks, key_marks).run()
    nodes = sorted(set(marks) | set(key_marks), key=repr)
    if sample is not None:
        nodes = random.Random(seed).sample(nodes, min(sample, len(nodes)))
    probes = [(), *nodes, *(node + (extra,) for node in nodes for extra in MISSING), ("missing", 1)]
    random.Random(seed).shuffle(probes)  # the last walk is kept: any order must give the same
    for pointer in probes:
        for key in (False, True):
            assert positions.locate(pointer, key) == lookup(marks, key_marks, pointer, key), (pointer, key)
    whole = TokenEnds(text)
    places = token_places(text)
    if sample is not None:
        places = sorted(random.Random(seed).sample(places, min(sample * 4, len(places))))
    expected = {place: whole.end(*place) for place in places}
    random.Random(seed).shuffle(places)
    for place in places:
        assert positions.end(*place) == expected[place], place


REAL = sorted([*SHIPPED.rglob("*.yaml"), *FIXTURES.rglob("*.yaml")])


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_real_files_are_placed_as_the_whole_walk_places_them(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    positions = plain_positions(text)
    if positions is not None:
        assert_placed_alike(text, positions)


def test_the_recommendation_files_are_plain() -> None:
    """Not vacuous: the shipped recommendations take the short walks."""
    for path in sorted(SHIPPED.glob("recommendations/*.yaml")):
        positions = plain_positions(path.read_text(encoding="utf-8"))
        assert positions is not None and positions._outline() is not None, path


@pytest.mark.parametrize("prose", ["compact", "full"])
def test_a_generated_knowledge_base_is_placed_alike(tmp_path: Path, prose: str) -> None:
    from benchmarks.generate import generate

    generate(300, tmp_path, 2, 7, 40, prose)
    for number, path in enumerate(sorted(tmp_path.rglob("*.yaml"))):
        text = path.read_text(encoding="utf-8")
        positions = plain_positions(text)
        if positions is not None:
            assert_placed_alike(text, positions, sample=400, seed=number)


TRICKY = [
    # compact mappings and sequences in sequences, nested, with entries below them
    "a:\n  - id: x\n    b: 1\n  - - p\n    - q\n  - - - r\n      - s\n    - t\n",
    "- a: 1\n  b:\n  - x\n  - z\n  c: {d: [1, 2]}\n- -   e\n  -   f\n-\n  g: h\n-\n- last\n",
    # indentless sequences, at the root and below, followed by keys
    "k:\n- a\n- b: 1\n  c: 2\nm:\n  p:\n  - 1\n  o: 2\n",
    # comments and blank lines everywhere, a leading ---
    "---\n# head\n\na: 1 # c\n# between\n\n  # indented\nb:\n  # first\n\n  - x\n# col 0 inside\n  - z\n\n\nc: 3\n",
    # block scalars, ended by comments, blank lines, the next entry, the end of the file
    "a: |\n  text\n\n  more\n\n# c\nb: >-\n    folded\n    lines\n  # inside\nc:\n  - |\n    x\n  - >\n\n    y\n\n\n",
    # wrapped plain scalars and quoted keys
    "a: one\n  two\n\n  three\n'q k': 1\n\"d k\": [x, 'w']\n'it''s': 2\nx#y: 4\n",
    # empty values, an indented root, a root sequence, a root scalar
    "a:\nb:\n  c:\n  d:\n    -\n    - \ne: ~\nf:\n", "  a: 1\n  b:\n    - 2\n", "- 1\n- a: 2\n", "just text\n",
    "a: [1, {b: c}]\nd: {e: [f, g], 'h': \"i\"}\n",
]


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky_layouts_are_placed_alike(text: str) -> None:
    positions = plain_positions(text)
    if positions is None:  # the fast path refused it: then it is walked whole, as before
        assert load_yaml("f.yaml", text.encode()).ok
        return
    assert_placed_alike(text, positions)


def test_most_tricky_layouts_are_plain() -> None:
    assert sum(plain_positions(text) is not None for text in TRICKY) >= len(TRICKY) - 2


EXTRA_LINES = st.sampled_from(["", "# c", "  # c", "    # c", "   ", "      # c", "  more words", "    and more"])


@st.composite
def sprinkled(draw: st.DrawFn) -> str:
    """A generated document with comment, blank and continuation lines put in."""
    lines = draw(documents()).split("\n")
    for _ in range(draw(st.integers(0, 4))):
        lines.insert(draw(st.integers(0, len(lines))), draw(EXTRA_LINES))
    return "\n".join(lines)


@FUZZ
@given(sprinkled())
def test_generated_documents_are_placed_alike(text: str) -> None:
    positions = plain_positions(text)
    if positions is not None:
        assert_placed_alike(text, positions)


WORDS = st.sampled_from(["a", "x z", "OF-001", "12", "-3.5", "2026-11-24", "true", "caf\u00e9", "it's", "a-b", "q#r"])
KEY_WORDS = st.sampled_from(["a", "b", "id", "when", "x z", "-k", "'q k'", '"d k"', "'it''s'"])
FLOWS = st.sampled_from(["[a, 1]", "{b: c, d: [e]}", "[]", "{}", "'q'", '"d"', "[{a: [b, {c: d}]}]"])


@st.composite
def layouts(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> list[str]:
    """The lines of a block mapping or sequence at `indent` (valid YAML with plain scalars):
    compact and indentless entries, indentation of 1 to 4, comment and blank lines between
    entries, block scalars, wrapped plain scalars, flow collections."""
    pad, lines = " " * indent, []
    sequence = draw(st.booleans())
    for key in draw(st.lists(KEY_WORDS, min_size=1, max_size=3, unique=True)):
        if draw(st.integers(0, 3)) == 0:
            lines.append(" " * draw(st.integers(0, indent + 4)) + draw(st.sampled_from(["# c", "", "#"])))
        head = pad + ("-" if sequence else key + ":")
        kind = draw(st.integers(0, 6 if depth < 3 else 3))
        if kind == 0:
            lines.append(f"{head} {draw(WORDS)}" + draw(st.sampled_from(["", " # c", "  "])))
        elif kind == 1:
            lines.append(f"{head} {draw(FLOWS)}")
        elif kind == 2:
            lines.append(f"{head} {draw(st.sampled_from(['|', '>-', '>', '|-']))}")
            more = " " * draw(st.integers(1, 3))
            lines += [pad + more + "line one", "", pad + more + " line two"]
        elif kind == 3:
            lines += [f"{head} {draw(WORDS)}", pad + " " * draw(st.integers(1, 3)) + "goes on"]
        elif kind == 4 and sequence:  # `- k: v` or `- - x`, with the rest below it
            gap = draw(st.integers(1, 3))
            inner = draw(layouts(indent + 1 + gap, depth + 1))
            lines += [pad + "-" + " " * gap + inner[0].lstrip(" "), *inner[1:]]
        else:
            step = draw(st.integers(0 if not sequence else 1, 4))
            lines.append(head + draw(st.sampled_from(["", " # c"])))
            inner = draw(layouts(indent + step, depth + 1))
            if step == 0 and inner[0].lstrip(" ")[:2] not in ("- ", "-"):  # only a sequence may be indentless
                inner = draw(layouts(indent + 2, depth + 1))
            lines += inner
    while lines[0].strip(" ") in ("", "#", "# c"):
        lines.pop(0)  # the first line starts the collection
    return lines


@FUZZ
@given(layouts(), st.sampled_from(["", "---\n", "# head\n\n"]), st.sampled_from(["\n", "\n\n", "\n# end\n"]))
def test_generated_layouts_are_placed_alike(lines: list[str], head: str, tail: str) -> None:
    text = head + "\n".join(lines) + tail
    positions = plain_positions(text)
    if positions is not None:
        assert_placed_alike(text, positions)


@FUZZ
@given(st.sampled_from(MUTABLE), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(PIECES)),
                                          min_size=1, max_size=3))
def test_edited_knowledge_files_are_placed_alike(text: str, edits: list[tuple[float, int, str]]) -> None:
    for where, cut, piece in edits:
        at = int(where * len(text))
        text = text[:at] + piece + text[at + cut:]
    positions = plain_positions(text)
    if positions is not None:
        assert_placed_alike(text, positions, sample=150)


def test_positions_keep_no_value_and_pickle_without_their_walks() -> None:
    import pickle

    text = (SHIPPED / "recommendations" / "offloading.yaml").read_text(encoding="utf-8")
    positions = plain_positions(text)
    assert positions is not None
    where = positions.locate(("recommendations", 1, "when"))
    copy = pickle.loads(pickle.dumps(positions))
    assert copy._walked is None and copy.locate(("recommendations", 1, "when")) == where
    assert not hasattr(positions, "value")


def test_large_texts_are_kept_compressed_and_placed_alike(tmp_path: Path) -> None:
    """More large files than are kept expanded at once, asked in turn: each text expands back
    exactly, and places stay those of the whole walk."""
    from avn_kb.load import positions as module
    from benchmarks.generate import generate

    generate(2000, tmp_path, 2, 7, 40, "full")
    texts = [path.read_text(encoding="utf-8") for path in sorted(tmp_path.rglob("*.yaml"))]
    large = [(text, found) for text in texts if len(text) >= module._PACKED_FROM
             and (found := plain_positions(text)) is not None]
    assert len(large) > module._EXPANDED_AT_ONCE
    for number, (text, positions) in enumerate(large * 2):
        assert positions._text is None and positions.text == text
        assert_placed_alike(text, positions, sample=50, seed=number)
    assert len(module._expanded) <= module._EXPANDED_AT_ONCE
