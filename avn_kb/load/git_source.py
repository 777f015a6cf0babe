"""Knowledge files as they are at a git revision, read with `git` plumbing: the working tree, the
index and the checked-out branch are never touched."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

from avn_kb.load import GitError
from avn_kb.load.knowledge import FOLDERS, REQUIRED_FILES
from avn_kb.load.safe_yaml import MAX_FILE_BYTES
from avn_kb.load.source import name_problem
from avn_kb.model.findings import Finding


def _git(repo: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {' '.join(args)} took too long") from None
    if done.returncode != 0:
        raise GitError(done.stderr.decode("utf-8", "replace").strip() or f"git {' '.join(args)} failed")
    return done.stdout


class GitSource:
    """The knowledge directory `kb_dir` (inside a git work tree) as it was at revision `ref`."""

    def __init__(self, kb_dir: Path, ref: str) -> None:
        top = Path(_git(kb_dir, "rev-parse", "--show-toplevel").decode().strip())
        self.repo = top
        self.commit = _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
        prefix = kb_dir.resolve().relative_to(top.resolve()).as_posix()
        self.prefix = "" if prefix == "." else prefix + "/"
        listing = _git(top, "ls-tree", "-r", "-z", "--name-only", self.commit, "--", self.prefix or ".")
        # Names as the working tree's are (surrogate escapes for bytes that are not UTF-8), so that a
        # misnamed file is reported as it is there (source.name_problem), not read under another name.
        self.present = {name[len(self.prefix):] for name in listing.decode("utf-8", "surrogateescape").split("\0")
                        if name}

    def files(self) -> Iterator[tuple[str, str, bool]]:
        for name, kind in REQUIRED_FILES:
            yield name, kind, True
        for folder, kind in FOLDERS:
            for name in sorted(self.present):
                head, _, tail = name.partition("/")
                if head == folder and "/" not in tail and tail.endswith((".yaml", ".yml")):
                    yield name, kind, False

    def read(self, relative: str, shown: str) -> tuple[bytes | None, Finding | None]:
        if relative not in self.present:
            return None, None
        misnamed = name_problem(relative, shown)
        if misnamed is not None:
            return None, misnamed
        data = _git(self.repo, "cat-file", "blob", f"{self.commit}:{self.prefix}{relative}")
        return data[: MAX_FILE_BYTES + 1], None
