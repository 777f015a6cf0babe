"""The fast path of the safe loader (avn_kb.load.fast_yaml): wherever it is taken, the value is
exactly the one the event-based path gives (types, key order, -0.0 included) and that path reports
nothing; everything the guard cannot vouch for goes to the event-based path.

Differential throughout: `load_yaml(..., fast=False)` is the reference."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avn_kb.load import fast_yaml
from avn_kb.load.fast_yaml import fast_value
from avn_kb.load.safe_yaml import MAX_DEPTH, MAX_NODES, load_yaml
from tests.conftest import FIXTURES, ROOT, SHIPPED

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, mapping keys in the same order (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


def fast_taken(text: str) -> bool:
    """Whether the fast path takes `text`; when it does, it must give the reference value and the
    reference must report nothing."""
    data = text.encode("utf-8")
    fast = fast_value(text, data, MAX_NODES, MAX_DEPTH)
    if fast is None:
        return False
    reference = load_yaml("f.yaml", data, fast=False)
    assert reference.ok and reference.findings == [], (text, reference.findings)
    assert same(fast, reference.value), (text, fast, reference.value)
    return True


# ------------------------------------------------------------------------------------------------
# Real files: the shipped knowledge base, the fixtures, a generated knowledge base
# ------------------------------------------------------------------------------------------------

HOSTILE = ROOT / "tests" / "hostile" / "files"
REAL_FILES = sorted([*SHIPPED.rglob("*.yaml"), *FIXTURES.rglob("*.yaml"),
                     *(path for path in HOSTILE.iterdir() if path.is_file() and not path.is_symlink())])


@pytest.mark.parametrize("path", REAL_FILES, ids=[str(p.relative_to(ROOT)) for p in REAL_FILES])
def test_real_files_load_alike(path: Path) -> None:
    data = path.read_bytes()
    fast, reference = load_yaml(str(path), data), load_yaml(str(path), data, fast=False)
    assert same(fast.value, reference.value)
    assert (fast.ok, fast.findings) == (reference.ok, reference.findings)
    try:
        fast_taken(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass  # decode() refuses it before either path


def test_recommendation_files_take_the_fast_path() -> None:
    """Not vacuous: what editors write passes the guard (references.yaml does not: `&` in names)."""
    for path in sorted(SHIPPED.glob("recommendations/*.yaml")):
        assert fast_taken(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("prose", ["compact", "full"])
def test_generated_knowledge_base_loads_alike(tmp_path: Path, prose: str) -> None:
    from benchmarks.generate import generate

    generate(150, tmp_path, 2, 7, 40, prose)
    files = sorted(tmp_path.rglob("*.yaml"))
    taken = [path for path in files if fast_taken(path.read_text(encoding="utf-8"))]
    assert {p.name for p in tmp_path.glob("recommendations/*.yaml")} <= {p.name for p in taken}


# ------------------------------------------------------------------------------------------------
# Each construct the guard must refuse, and what it lets through
# ------------------------------------------------------------------------------------------------

def nested(levels: int) -> str:
    """Block mappings nested `levels` deep."""
    return "".join("  " * i + "k:\n" for i in range(levels - 1)) + "  " * (levels - 1) + "k: x\n"


SLOW = [
    # scalars YAML 1.1 and 1.2 read differently, or that the event-based path warns about
    "a: 0777\n", "a: -012\n", "a: 00\n", "a: 1_000\n", "a: _1\n", "a: 0x1F\n", "a: 0X1F\n", "a: -0x1\n", "a: 0o17\n",
    "a: 0b101\n", "a: 1e999\n", "a: 12e3\n", "a: +12\n", "a: .5\n", "a: 1.\n", "a: 01.5\n", "a: 1:30\n",
    "a: 2026-11-24T10:00:00Z\n", "a: 2026-1-5\n", "a: 12345678901234567890\n", "a: [0777]\n", "a: {b: 0777}\n",
    "- 0777\n", "0777\n", "a: no\n", "a: 'no'\n", "a: Off\n", "a: [y, n]\n", "a: .inf\n", "a: -.Inf\n", "a: .NaN\n",
    "a: .nAn\n",
    # keys that are not strings, or that warn
    "1: x\n", "true: x\n", "null: x\n", "~: x\n", ": x\n", "- : x\n", "{: x}\n", "on: x\n", "? a\n: x\n",
    "[a]: x\n", "- {a: 1}: x\n", ">: x\n",
    # tags, anchors, aliases, merge keys, directives, documents
    "a: !!str 1\n", "a: !t x\n", "a: &x 1\nb: *x\n", "<<: {a: 1}\n", "%YAML 1.2\n---\na: 1\n", "a: 1\n---\nb: 2\n",
    "--- a\n", "a: 1\n...\n",
    # characters the two parsers do not read alike
    "a: 'x\\y'\n", 'a: "\\x41"\n', "a:\tb\n", "a: 1\r\nb: 2\r\n", "a: b\u00a0c\n", "a: b\u2028c\n", "a: b\x85c\n",
    "a: b\ufeffc\n", "a: b\x7fc\n",
    # flow context: `:` without a space, indicators starting a scalar, lines a flow spans
    "a: {b:c}\n", "a: [b:c]\n", "a: http://x\n", "a: [>x]\n", "a: {b: |}\n", "a: [|\n  b]\n", "a: [b,\n  c]\n",
    "a: {b: c,\n  d: e}\n", "a: \"b\n  c\"\n", "a: 'b\n  c'\n", "a: [it's]\n",
    # block scalars whose end or indentation the two read differently
    "a: |\n  x", "a: |+\n  x\n\n", "a: >2\n   x\n", "|\n  x\n", "  >-\n  x\n", "- |\n", "a: |\n\n",
    # limits
    "- " * 1000 + "x\n", "a: " + "[" * 5 + "]" * 5 + "\n", nested(MAX_DEPTH + 1),
    "a: [" + "1, " * MAX_NODES + "1]\n", "a: [" + "1," * (4 * MAX_NODES) + "1]\n",
    # documents without a value
    "", "# only a comment\n", "null\n", "~\n",
]

FAST = [
    "a: 1\n", "a: -3.5\n", "a: 0\n", "a: -0\n", "a: -0.0\n", "a: 2026-11-24\n", "a: true\nb: False\nc: TRUE\n",
    "a: null\nb: ~\nc:\n", "a: tRue\n", "a: '0777'\n", 'a: "x: y"\n', "a: nan\n", "a: x y\n", "---\na: 1\n",
    "a: >-\n  Folded\n  prose, 22.7% of hips; no\n  study.\n", "a: |\n  kept\n  lines\n", "a: {b: [c, d], e: 1.5}\n",
    "- id: X-001\n  when: {phase: {not_in: [acute]}}\n", "a: caf\u00e9 \u2014 \u2265 5\n", "a: '[x]'\n",
    "a: [[[[x]]]]\n", nested(MAX_DEPTH), "a: b # comment\n", "k" * 1024 + ": x\n",
]


@pytest.mark.parametrize("text", SLOW, ids=[repr(t[:30]) for t in SLOW])
def test_guard_sends_to_the_event_based_path(text: str) -> None:
    assert fast_value(text, text.encode(), MAX_NODES, MAX_DEPTH) is None
    data = text.encode()
    fast, reference = load_yaml("f.yaml", data), load_yaml("f.yaml", data, fast=False)
    assert (fast.value, fast.ok, fast.findings) == (reference.value, reference.ok, reference.findings)


@pytest.mark.parametrize("text", FAST, ids=[repr(t[:30]) for t in FAST])
def test_plain_yaml_takes_the_fast_path(text: str) -> None:
    assert fast_taken(text)


LONG_KEYS = [text for n in (1023, 1024, 1025, 2000)
             for text in ("k" * n + ": x\n", "a: 1\n" + "\u00e9" * n + ": x\n", "'" + "k" * (n - 2) + "': x\n",
                          "[" + "k" * n + ": x]\n", "k" + " " * (n - 1) + ": x\n")]


@pytest.mark.parametrize("text", LONG_KEYS, ids=[f"{len(t)}-{t[:2]!r}" for t in LONG_KEYS])
def test_both_parsers_keep_the_1024_character_key_limit(text: str) -> None:
    fast_taken(text)


def test_locate_works_on_a_document_from_the_fast_path() -> None:
    data = b"a:\n  b:\n    - x\n    - {c: 1, d: [1, 2]}\n"
    document, reference = load_yaml("f.yaml", data), load_yaml("f.yaml", data, fast=False)
    assert fast_taken(data.decode())
    for pointer in [("a",), ("a", "b", 1, "d", 1), ("a", "b", 1, "missing")]:
        assert document.locate(pointer) == reference.locate(pointer)
        assert document.locate(pointer, key=True) == reference.locate(pointer, key=True)
    assert document.locate(("a", "b", 1, "c"), key=True) == (4, 8)


def test_without_yaml_rs_everything_takes_the_event_based_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_yaml, "yaml_rs", None)
    assert fast_value("a: 1\n", b"a: 1\n", MAX_NODES, MAX_DEPTH) is None
    document = load_yaml("f.yaml", b"a: 1\nb: no\n")
    assert document.value == {"a": 1, "b": "no"}
    assert [f.code for f in document.findings] == ["AVN108"]


def test_any_error_of_yaml_rs_means_the_event_based_path(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        @staticmethod
        def loads(text: str, **options: Any) -> Any:
            raise RuntimeError("unexpected")

    monkeypatch.setattr(fast_yaml, "yaml_rs", Broken)
    assert load_yaml("f.yaml", b"a: 1\n").value == {"a": 1}


# ------------------------------------------------------------------------------------------------
# Generated documents
# ------------------------------------------------------------------------------------------------

TRICKY_PLAIN = ["a", "x y", "no", "No", "yes", "on", "OFF", "y", "n", "true", "True", "tRUE", "false", "null", "NULL", "~",
                "0", "7", "12", "-3", "+3", "-0", "0.5", "-0.0", "1.50", "0777", "-012", "1_000", "0x1F", "0o17", "0b11",
                ".5", "1.", "1e3", "1e999", "1e-400", ".inf", "-.Inf", ".nan", ".NaN", "nan", "inf", "2026-11-24",
                "2026-02-30", "2026-11-24T10:00", "1:30", "1.0.0", "a-b", "a - b", "it's", "22.7%", "-", "--x", "x#y",
                "caf\u00e9", "\u2014", "\U0001f600", "x,y", "a b c", "12345678901234567", "9223372036854775808"]
# What editors mostly write: the guard lets these through, so the comparison is not vacuous.
COMMON_PLAIN = ["a", "x y", "approved", "very-low", "MO-001", "12", "-3", "0.5", "120.5", "2026-11-24", "true", "false",
                "null", "caf\u00e9", "a - b", "22.7% of hips", "Title with words"]
KEYS = 4 * ["a", "b", "c", "d", "key", "x y", "k_1", "'q'", '"d"', "caf\u00e9", "id", "when", "-a"] + [
    "no", "on", "1", "0777", "true", "null", "~", "2026-01-01", "'no'", ".5"]
QUOTABLE = st.sampled_from(["", "no", "0777", "a: b", "#x", " lead", "trail", "it's", "x\\y", "caf\u00e9", "[x]", "|",
                           "a b", "a, b"])


@st.composite
def scalars(draw: st.DrawFn) -> str:
    """The source text of a scalar that fits on the line after `key: ` or `- `."""
    kind = draw(st.integers(0, 12))
    if kind == 0:
        value = draw(QUOTABLE)
        return "'" + value.replace("'", "''") + "'"
    if kind == 1:
        return '"' + draw(QUOTABLE).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return draw(st.sampled_from(TRICKY_PLAIN) if kind == 2 else st.sampled_from(COMMON_PLAIN))


def flow(draw: st.DrawFn, depth: int) -> str:
    if depth > 2 or draw(st.booleans()):
        return draw(scalars())
    items = [flow(draw, depth + 1) for _ in range(draw(st.integers(0, 3)))]
    if draw(st.booleans()):
        return "[" + ", ".join(items) + "]"
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=len(items), max_size=len(items)))
    return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, items)) + "}"


def block(draw: st.DrawFn, indent: int, depth: int) -> list[str]:
    """Lines of a block mapping or sequence at `indent`."""
    pad = " " * indent
    lines: list[str] = []
    sequence = draw(st.booleans())
    for _ in range(draw(st.integers(1, 3))):
        head = pad + ("- " if sequence else draw(st.sampled_from(KEYS)) + ":")
        choice = draw(st.integers(0, 5 if depth < 3 else 2))
        if choice <= 1:
            lines.append(head + ("" if sequence else " ") + flow(draw, 0) + draw(st.sampled_from(["", " # c", "  "])))
        elif choice == 2:
            header = draw(st.sampled_from([">-", "|", ">", "|-", ">-", ">-", "|", "|+", ">2"]))
            body = draw(st.lists(st.sampled_from(["text", "more text", "  indented", "", "0777", "no", "- x", "# c",
                                                  "text: x", "text", "more text"]), min_size=0, max_size=3))
            lines.append(head + ("" if sequence else " ") + header)
            lines += [(pad + "  " + line) if line else "" for line in body]
        elif choice == 3:
            lines.append(head if not sequence else pad + "-")
            lines += block(draw, indent + 2, depth + 1)
        elif sequence:  # `- k: v` or `- - x`, the rest of the nested block under it
            inner = block(draw, indent + 2, depth + 1)
            lines.append(pad + "- " + inner[0][indent + 2:])
            lines += inner[1:]
        else:
            lines.append(head)
            lines += block(draw, indent + draw(st.sampled_from([0, 2])), depth + 1)
    return lines


@st.composite
def documents(draw: st.DrawFn) -> str:
    return "\n".join(block(draw, 0, 0)) + draw(st.sampled_from(["\n", "\n", "\n", "\n\n", "", "\n# end\n"]))


@FUZZ
@given(documents())
def test_generated_documents_load_alike_or_go_to_the_event_based_path(text: str) -> None:
    fast_taken(text)


# Syntax rather than scalars: mostly pieces the guard lets through, a few it must catch.
PIECES = 3 * ["a", "key", "x y", "true", "null", "12", "1.5", "2026-11-24", ": ", "- ", "-", "[", "]", "{", "}", ", ",
              ",", " # c", "'", "''", '"', ">-", "|", "\n", "\n", "\n", "\n  ", "\n    ", "\n- ", " ", "  ", "k: v",
              "[a, b]", "{a: 1}", "'q''t'", "\u00e9", "it's"] + [
    "no", "~", "0777", "1_0", ".5", ".inf", "1:30", ":", "? ", "#", ">", "|+", "---", "...", "&a", "*a", "!t", "<<",
    "\\", "\u00a0", "\t", "\r\n", "@", "`", "%", "a:b"]


@FUZZ
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=30))
def test_token_soup_loads_alike_or_goes_to_the_event_based_path(pieces: list[str]) -> None:
    fast_taken("".join(pieces))


MUTABLE = [path.read_text(encoding="utf-8") for path in sorted(SHIPPED.glob("recommendations/*.yaml"))]


@FUZZ
@given(st.sampled_from(MUTABLE), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(PIECES)),
                                          min_size=1, max_size=4))
def test_edited_knowledge_files_load_alike_or_go_to_the_event_based_path(
        text: str, edits: list[tuple[float, int, str]]) -> None:
    for where, cut, piece in edits:
        at = math.floor(where * len(text))
        text = text[:at] + piece + text[at + cut:]
    fast_taken(text)
