"""Where a knowledge directory's files come from: the working tree (`DirectorySource`), every
file read the way the loader needs it, links and odd files reported as findings, never followed
out of the directory. Kept apart from the loader, and free of the YAML machinery, so that a run
whose report is already cached (avn_kb/validate/cache.py) can read and hash the files without
importing the parser; `RecordedSource` reads once and replays the same bytes to the loader."""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from avn_kb.model.codes import CODES
from avn_kb.model.findings import Finding

# The same limit as avn_kb/load/yaml_events.py (tests/test_cache.py keeps the two equal): defined
# here too because importing that module brings in PyYAML, which a cached run must not need.
MAX_FILE_BYTES = 20 * 1024 * 1024

REQUIRED_FILES = (("kb.yaml", "manifest"), ("vocabulary.yaml", "vocabulary"), ("references.yaml", "references"))
FOLDERS = (("recommendations", "recommendations"), ("cases", "cases"))


def file_finding(code: str, path: str, message: str) -> Finding:
    return Finding(code, CODES[code].severity, path, 1, 1, message)


def shown_safely(path: str) -> str:
    """`path` as a report can show it: the bytes of a name that are not UTF-8 (which Python keeps
    as lone surrogates, and which no UTF-8 output can write) as `\\xff`, control characters (a
    newline would split a `path:line:col:` line, an escape would drive the terminal) as `\\x1b`."""
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in text)


def name_problem(relative: str, shown: str) -> Finding | None:
    """AVN101 for a file whose name a report cannot show as it is: not valid UTF-8, or holding a
    control character. Such a file is not read: every finding in it would name a path that is not
    the file's (and the cache keys files by name), so it is reported once, under a name shown safely."""
    if shown_safely(relative) == relative:
        return None
    undecodable = any("\udc80" <= c <= "\udcff" for c in relative)
    why = "is not valid UTF-8" if undecodable else "holds a control character"
    return file_finding("AVN101", shown_safely(shown), f"file name {why} (shown with \\x escapes): rename the "
                        "file with a plain UTF-8 name; until then it is not read")


class DirectorySource:
    """Knowledge files in a directory of the working tree."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def files(self) -> Iterator[tuple[str, str, bool]]:
        """(path relative to the root, kind, required) for every knowledge file, in a stable order."""
        for name, kind in REQUIRED_FILES:
            yield name, kind, True
        for folder, kind in FOLDERS:
            directory = self.root / folder
            if self._folder_problem(folder) is not None or not directory.is_dir():
                continue
            for entry in sorted(directory.iterdir()):
                if entry.suffix in (".yaml", ".yml"):
                    yield f"{folder}/{entry.name}", kind, False

    def folder_findings(self, shown_root: str) -> list[tuple[str, Finding]]:
        """(kind, finding) for a folder that is a link leaving the knowledge directory, or a file
        where a folder is expected: reported, never read."""
        found = []
        for folder, kind in FOLDERS:
            problem = self._folder_problem(folder)
            if problem is not None:
                found.append((kind, file_finding("AVN101", os.path.join(shown_root, folder), problem)))
        return found

    def _folder_problem(self, folder: str) -> str | None:
        directory = self.root / folder
        if directory.is_symlink():
            target = _resolved(directory)
            if target is None or not target.is_relative_to(self.root.resolve()):
                return (f"is a link to {target or 'a loop or missing target'}, outside the knowledge directory: "
                        "move the folder in instead of linking it")
        if os.path.lexists(directory) and not directory.is_dir():
            return "is a file where a folder is expected: rename it and make a folder of that name"
        return None

    def read(self, relative: str, shown: str) -> tuple[bytes | None, Finding | None]:
        """The file's bytes, or the finding that says why it cannot be used (None, None: absent)."""
        misnamed = name_problem(relative, shown)
        if misnamed is not None:
            return None, misnamed
        path, root = self.root / relative, self.root
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                target = _resolved(path)
                if target is None:
                    return None, file_finding("AVN101", shown, "is a link that loops: replace it with the file")
                if not target.is_relative_to(root.resolve()):
                    return None, file_finding("AVN101", shown, f"is a link to {target}, outside the knowledge "
                                          "directory: copy the file in instead of linking it")
                if not target.exists():
                    return None, file_finding("AVN101", shown, f"is a link to {target}, which does not exist: "
                                          "restore the file or remove the link")
                info = os.stat(path)
            if stat.S_ISDIR(info.st_mode):
                return None, file_finding("AVN101", shown, "is a directory where a YAML file is expected: "
                                      "rename or remove it")
            if not stat.S_ISREG(info.st_mode):
                return None, file_finding("AVN101", shown, "is not a regular file: replace it with a YAML file")
            if info.st_size > MAX_FILE_BYTES:
                return None, file_finding("AVN101", shown, f"file is {info.st_size:,} bytes, over the "
                                      f"{MAX_FILE_BYTES:,}-byte limit: split it into smaller files")
            with open(path, "rb") as handle:
                return handle.read(MAX_FILE_BYTES + 1), None
        except FileNotFoundError:
            return None, None
        except PermissionError:
            return None, file_finding("AVN101", shown, "cannot be read (permission denied): make it readable")
        except OSError as err:
            return None, file_finding("AVN101", shown, f"cannot be read ({err.strerror or err}): check the file")


def _resolved(path: Path) -> Path | None:
    """Where a link leads, or None for a loop (Python 3.11 raises RuntimeError there)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


class KnowledgeSource(Protocol):
    def files(self) -> Iterator[tuple[str, str, bool]]: ...

    def read(self, relative: str, shown: str) -> tuple[bytes | None, Finding | None]: ...



Read = tuple[bytes | None, Finding | None]


class RecordedSource(DirectorySource):
    """A directory read once, whole: every file the loader would read, with what reading it gave.
    The loader is handed the recorded bytes, so a report is always of exactly the bytes that were
    hashed for its cache key, even when an editor saves a file during the run."""

    def __init__(self, root: Path, shown_root: str) -> None:
        super().__init__(root)
        self.shown_root = shown_root
        self.problems = super().folder_findings(shown_root)
        self.listing = list(super().files())
        self.reads: dict[str, Read] = {
            relative: super(RecordedSource, self).read(relative, os.path.join(shown_root, relative))
            for relative, _, _ in self.listing}
        # Each file's bytes hashed once, for every key that depends on them (the report's, the
        # file's own): at 100,000 recommendations a pass over them is an eighth of a second.
        self.digests: dict[str, bytes] = {relative: hashlib.sha256(data).digest()
                                          for relative, (data, _) in self.reads.items() if data is not None}

    def files(self) -> Iterator[tuple[str, str, bool]]:
        return iter(self.listing)

    def folder_findings(self, shown_root: str) -> list[tuple[str, Finding]]:
        assert shown_root == self.shown_root, "a recorded source is replayed under the name it was read with"
        return list(self.problems)

    def read(self, relative: str, shown: str) -> Read:
        """The recorded read, handed over once: the loader reads each file once, and its bytes are
        not kept for the rest of the run (at 100,000 recommendations, 150 MB of them)."""
        found = self.reads.pop(relative, None)
        if found is None:
            raise RuntimeError(f"{shown} was read from a recorded source twice: record the directory again")
        return found
