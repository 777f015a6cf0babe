"""The shape of a row of the per-code fixture table, the changes a row may make to a copy of the mini
knowledge base, and how a row is built and validated.

A row is about one code. It is POSITIVE when its expected findings include that code and NEGATIVE
(the nearest passing variant of a positive) when they do not. Either way the expected findings are
ALL the findings the run gives, every field compared (code, severity, path, line, column, message,
ids, witness, accepted).

Text edits are those of tests/test_checks_semantic.py (`replace`, `append`); the file operations
here (`Write`, `Remove`, `Link`, `SearchHeavy`) cover what text cannot say. Text edits are made
first, then the file operations, in order.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.test_checks_semantic import Edit, Expect, located, planted
from tests.test_hostile import _search_heavy_kb
from tests.test_versions import git

DAY = "2026-06-01"  # the mini knowledge base's reviews fall due in 2028
# In an expected message: the knowledge directory as findings show it, and the real path of the
# directory holding it (where a link resolves to).
KB_MARK, ROOT_MARK = "<kb>", "<root>"


@dataclass(frozen=True)
class Write:
    """Write `text` as the whole of `file` (relative to the knowledge directory; `..` leaves it)."""

    file: str
    text: str

    def apply(self, kb: Path) -> None:
        path = kb / self.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text, encoding="utf-8")


@dataclass(frozen=True)
class Remove:
    file: str

    def apply(self, kb: Path) -> None:
        (kb / self.file).unlink()


@dataclass(frozen=True)
class Link:
    """Make `file` a symbolic link whose text is `target`."""

    file: str
    target: str

    def apply(self, kb: Path) -> None:
        (kb / self.file).symlink_to(self.target)


@dataclass(frozen=True)
class SearchHeavy:
    """The knowledge base of tests/test_hostile.py whose logic questions grow as 2**flags."""

    flags: int

    def apply(self, kb: Path) -> None:
        built = _search_heavy_kb(kb.parent / "search-heavy", self.flags)
        shutil.copytree(built, kb, dirs_exist_ok=True)


Change = Edit | Write | Remove | Link | SearchHeavy


@dataclass(frozen=True)
class AtStart:
    """A finding at line 1, column 1 of `file`, which may not exist (a missing required file)."""

    code: str
    severity: str
    file: str
    message: str
    ids: tuple[str, ...] = ()
    accepted: None = None


Expected = Expect | AtStart


@dataclass(frozen=True)
class Fixture:
    """`edits` to a copy of the mini knowledge base and every finding `validate` must give, as of
    `as_of`. With `base`, those changes are committed to git first and the run is `--base HEAD`."""

    code: str
    name: str
    edits: tuple[Change, ...]
    expected: tuple[Expected, ...]
    as_of: str = DAY
    base: tuple[Change, ...] | None = None

    @property
    def label(self) -> str:
        return f"{self.code}-{self.name}"

    @property
    def positive(self) -> bool:
        return any(e.code == self.code for e in self.expected)

    @property
    def exit_code(self) -> int:
        """What `validate` exits with: 1 when an expected error is not accepted."""
        return 1 if any(e.severity == "error" and e.accepted is None for e in self.expected) else 0


def borrowed(table: list[tuple[Any, ...]], code: str, name: str) -> Fixture:
    """A row of another planted-defect table ((code, name, edits, expected), or with the CLI
    arguments before `expected` as in tests/test_checks_semantic.py), as a fixture of this table."""
    row = next(row for row in table if row[:2] == (code, name))
    args: tuple[str, ...] = row[3] if len(row) == 5 else ()
    as_of = args[args.index("--as-of") + 1] if "--as-of" in args else DAY
    assert set(args) <= {"--as-of", as_of}, f"{code}-{name}: arguments {args} are not understood here"
    return Fixture(code, name, row[2], row[-1], as_of)


def materialised(root: Path, changes: tuple[Change, ...]) -> Path:
    """`root`/kb: the mini knowledge base with the changes made."""
    kb = planted(root, tuple(c for c in changes if isinstance(c, Edit)))
    for change in changes:
        if not isinstance(change, Edit):
            change.apply(kb)
    return kb


def fixture_kb(tmp_path: Path, fixture: Fixture) -> Path:
    """The knowledge directory of the row; with a base, a git work tree whose HEAD holds the base."""
    if fixture.base is None:
        return materialised(tmp_path, fixture.edits)
    kb = materialised(tmp_path / "base", fixture.base)
    git(kb, "init", "-q")
    git(kb, "add", "-A")
    git(kb, "commit", "-q", "-m", "base")
    after = materialised(tmp_path / "after", fixture.base + fixture.edits)
    for entry in kb.iterdir():
        if entry.name == ".git":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    shutil.copytree(after, kb, dirs_exist_ok=True, symlinks=True)
    return kb


def expected_report(kb: Path, expected: tuple[Expected, ...]) -> list[dict[str, Any]]:
    """The JSON findings the row expects, in report order."""
    items = []
    for expect in expected:
        if isinstance(expect, AtStart):
            item: dict[str, Any] = {"code": expect.code, "severity": expect.severity, "path": f"{kb}/{expect.file}",
                                    "line": 1, "column": 1, "message": expect.message}
            if expect.ids:
                item["ids"] = list(expect.ids)
        else:
            item = located(kb, expect)
        item["message"] = item["message"].replace(KB_MARK, str(kb)).replace(ROOT_MARK, str(kb.parent.resolve()))
        items.append(item)
    return sorted(items, key=lambda f: (f["path"], f["line"], f["column"], f["code"], f["message"]))


def missing_fixtures(table: list[Fixture], codes: set[str]) -> list[str]:
    """What the table lacks or gets wrong: a code without a positive or a negative row, a row
    about a code that does not exist, two rows of one name."""
    problems = [f"{code}: no {kind} fixture" for code in sorted(codes) for kind, positive in
                (("positive", True), ("negative", False))
                if not any(f.code == code and f.positive == positive for f in table)]
    problems += [f"{f.label}: {f.code} is not in avn_kb/model/codes.py" for f in table if f.code not in codes]
    names = [f.label for f in table]
    problems += [f"{name}: two rows of this name" for name in sorted(set(names)) if names.count(name) > 1]
    return problems
