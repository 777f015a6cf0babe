"""The tool's fingerprint (avn_kb/validate/cache.py), part of every cache key: it changes whenever
the code that computes a report could have changed, and only then."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import avn_kb
from avn_kb.load import schemas
from avn_kb.validate import cache
from tests.conftest import ROOT


def _edit(relative: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def edit(package: Path) -> None:
        path = package / relative
        path.write_bytes(change(path.read_bytes()))
    return edit


CHANGES = {
    "one byte of a nested module": _edit("validate/checks/logic.py", lambda text: text.replace(b"(", b" (", 1)),
    "a byte appended to the package's __init__": _edit("__init__.py", lambda text: text + b"\n"),
    "a new module": lambda package: (package / "lang" / "extra.py").write_bytes(b"X = 1\n"),
    "a module renamed": lambda package: (package / "lang" / "index.py").rename(package / "lang" / "index2.py"),
    "a module moved to another folder": lambda package: (package / "util" / "memo.py").rename(
        package / "model" / "memo.py"),
    "a module removed": lambda package: (package / "output" / "csl.py").unlink(),
    "a schema": _edit("../schema/common.schema.json", lambda text: text.replace(b"{", b"{ ", 1)),
}
UNCHANGED = {
    "bytecode written": lambda package: _write(package / "model" / "__pycache__" / "codes.cpython-311.pyc", b"\0"),
    "a file that is not a module": lambda package: (package / "util" / "notes.txt").write_text("x\n"),
}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)


def _copy(tmp_path: Path) -> Path:
    """A copy of the package as a checkout has it, the schemas beside it."""
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    package = tmp_path / "avn_kb"
    shutil.copytree(ROOT / "avn_kb", package, ignore=shutil.ignore_patterns("__pycache__"))
    return package


def _fingerprint(package: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    # The copy's modules and schemas, as a process importing the copy would read them.
    monkeypatch.setattr(avn_kb, "__file__", str(package / "__init__.py"))
    monkeypatch.setattr(schemas, "__file__", str(package / "load" / "schemas.py"))
    cache.tool_fingerprint.cache_clear()
    try:
        return cache.tool_fingerprint()
    finally:
        cache.tool_fingerprint.cache_clear()


@pytest.mark.parametrize("change", list(CHANGES))
def test_fingerprint_changes_with_the_code(change: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _copy(tmp_path)
    before = _fingerprint(package, monkeypatch)
    assert _fingerprint(package, monkeypatch) == before  # not blind: the same code, the same fingerprint
    CHANGES[change](package)
    assert _fingerprint(package, monkeypatch) != before


@pytest.mark.parametrize("change", list(UNCHANGED))
def test_fingerprint_ignores_what_is_not_code(change: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _copy(tmp_path)
    before = _fingerprint(package, monkeypatch)
    UNCHANGED[change](package)
    assert _fingerprint(package, monkeypatch) == before


def test_fingerprint_covers_every_module_of_the_package() -> None:
    package = Path(avn_kb.__file__).resolve().parent
    listed = [relative for relative, _ in cache._sources(str(package))]
    expected = sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    assert sorted(listed) == expected and len(listed) == len(set(listed)) > 100
