"""The safe loader: each hostile construct becomes one finding with its line and column."""

from __future__ import annotations

import time

import pytest
import yaml

from avn_kb.load.safe_yaml import MAX_DEPTH, load_yaml

BOMB = b"".join(
    [b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n".encode() for i in range(8)]
)

CASES = [
    # (name, bytes, expected findings as (code, line, column), loaded?)
    ("duplicate key", b"a: 1\nb:\n  c: 2\n  c: 3\n", [("AVN105", 4, 3)], True),
    ("duplicate top key", b"a: 1\na: 2\n", [("AVN105", 2, 1)], True),
    ("duplicate in list item", b"- {x: 1, x: 2}\n", [("AVN105", 1, 10)], True),
    ("python tag", b"a: !!python/object/apply:os.system ['true']\n", [("AVN104", 1, 4)], True),
    ("custom tag", b"a: !mytag foo\n", [("AVN104", 1, 4)], True),
    ("billion laughs", BOMB, [("AVN106", 6, 12)], False),
    ("recursive alias", b"a: &a [1, *a]\n", [("AVN106", 1, 11)], False),
    ("undefined alias", b"a: *nothing\n", [("AVN106", 1, 4)], False),
    ("yaml 1.1 boolean", b"a: no\nb: on\n", [("AVN108", 1, 4), ("AVN108", 2, 4)], True),
    ("yaml 1.1 octal", b"mode: 0777\n", [("AVN108", 1, 7)], True),
    ("not a number", b"r: [.nan, .inf]\n", [("AVN109", 1, 5), ("AVN109", 1, 11)], True),
    ("empty", b"", [("AVN110", 1, 1)], False),
    ("only a comment", b"# nothing here\n", [("AVN110", 1, 1)], False),
    ("two documents", b"a: 1\n---\nb: 2\n", [("AVN110", 2, 1)], False),
    ("utf-16 with bom", "a: 1\n".encode("utf-16"), [("AVN103", 1, 1)], False),
    ("utf-8 bom", b"\xef\xbb\xbfa: 1\n", [("AVN114", 1, 1)], True),
    ("invalid utf-8", b"a: 1\nb: caf\xe9\n", [("AVN103", 2, 7)], False),
    ("nul byte", b"a: 1\nb: x\x00\n", [("AVN103", 2, 5)], False),
    ("tab indentation", b"a:\n\tb: 1\n", [("AVN102", 2, 1)], False),
    ("unclosed bracket", b"a: [1, 2\nb: 3\n", [("AVN102", 2, 2)], False),
    ("truncated string", b"a:\n  b: 'abc\n", [("AVN102", 3, 1)], False),
    ("conflict marker", b"a: 1\n<<<<<<< HEAD\nb: 2\n=======\nb: 3\n>>>>>>> main\n", [("AVN112", 2, 1)], False),
    # libyaml stops flow nesting at 1,000 levels; the pure-Python parser lets our own limit act.
    ("deep flow nesting", b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n",
     [("AVN107", 1, 1003 if hasattr(yaml, "CSafeLoader") else 4 + MAX_DEPTH)], False),
    ("deep block nesting", b"a:\n" + b"".join(b"  " * i + b"k:\n" for i in range(1, 2000)),
     [("AVN107", MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)], False),
    ("non-string key", b"? [a, b]\n: 1\n", [("AVN115", 1, 3)], False),
]


@pytest.mark.parametrize("name,data,expected,loaded", CASES, ids=[c[0] for c in CASES])
def test_each_hostile_construct_is_one_located_finding(name: str, data: bytes, expected: list[tuple[str, int, int]],
                                                       loaded: bool) -> None:
    document = load_yaml("f.yaml", data)
    assert [(f.code, f.line, f.column) for f in document.findings] == expected
    assert document.ok is loaded
    assert all(f.path == "f.yaml" and f.message for f in document.findings)


def test_no_tag_is_ever_constructed() -> None:
    document = load_yaml("f.yaml", b"a: !!python/object/apply:builtins.exit [3]\nb: !!python/name:os.system\n")
    assert document.value == {"a": None, "b": None}


def test_duplicate_keeps_first_value_and_goes_on() -> None:
    document = load_yaml("f.yaml", b"a: 1\na: {x: 2}\nb: 3\n")
    assert document.value == {"a": 1, "b": 3}


def test_scalars_follow_yaml_1_2_and_keep_strings_as_strings() -> None:
    document = load_yaml("f.yaml", b"a: no\nb: 0777\nc: 1.0\nd: 1.0.0\ne: 2025-02-30\nf: ~\ng: true\nh: 12\n"
                                   b"i: '12'\nj: !!str 5\nk: 0x10\nl: -2.5e1\n")
    assert document.value == {"a": "no", "b": "0777", "c": 1.0, "d": "1.0.0", "e": "2025-02-30", "f": None,
                              "g": True, "h": 12, "i": "12", "j": "5", "k": 16, "l": -25.0}


def test_alias_bomb_is_refused_fast() -> None:
    started = time.perf_counter()
    document = load_yaml("f.yaml", BOMB)
    assert not document.ok
    assert time.perf_counter() - started < 0.5  # generous: refusal is arithmetic, not expansion


def test_small_aliases_are_allowed() -> None:
    document = load_yaml("f.yaml", b"base: &b {x: 1}\nuse: *b\n")
    assert document.value == {"base": {"x": 1}, "use": {"x": 1}}
    assert document.findings == []


def test_locate_finds_nodes_and_keys_lazily() -> None:
    document = load_yaml("f.yaml", b"a:\n  b:\n    - x\n    - {c: 1, d: [1, 2]}\n")
    assert document.locate(("a", "b", 1, "d", 1)) == (4, 21)
    assert document.locate(("a", "b", 1, "d"), key=True) == (4, 14)
    assert document.locate(("a", "b", 0)) == (3, 7)
    assert document.locate(("a", "missing", 3)) == (2, 3)


def test_oversized_file_is_refused_before_parsing() -> None:
    from avn_kb.load import safe_yaml

    data = b"a: " + b"x" * (safe_yaml.MAX_FILE_BYTES + 1)
    document = load_yaml("big.yaml", data)
    assert [f.code for f in document.findings] == ["AVN101"]
