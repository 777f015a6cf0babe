"""The folder a report's file locations are relative to: the root of the git work tree the
knowledge base is in (what code-scanning services call the checkout), else the current directory
when it holds the knowledge base, else the knowledge directory itself."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def absolute(path: str) -> Path:
    """`path` made absolute with its folders' links resolved but its own name kept (the name is
    what a report shows; git reports physical paths)."""
    full = Path(os.path.abspath(path))
    return full.parent.resolve() / full.name


def source_root(knowledge_dir: str) -> Path:
    """Where the files under `knowledge_dir` are reported from (an absolute, resolved folder)."""
    folder = absolute(knowledge_dir)
    folder = folder.resolve() if folder.is_dir() else folder.parent
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True,
                              text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done is not None and done.returncode == 0 and done.stdout.strip():
        return Path(done.stdout.strip()).resolve()
    here = Path.cwd().resolve()
    return here if folder == here or here in folder.parents else folder
