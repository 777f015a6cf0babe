"""The plain `avn-kb validate` that avn_kb/__main__.py runs without click gives exactly what the
click command gives: the same bytes on stdout and stderr and the same exit code, cold and warm.
Each case also says which path must answer it, so that neither path is compared with itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from avn_kb.__main__ import plain_validate
from tests.cache_helpers import failing_copy
from tests.conftest import ROOT

# `entry` runs the console script's function, `click` the click group as the script used to.
PROBE = """
import atexit, os, sys

taken = ["click"]

def _path_taken():
    with open(os.environ["AVN_KB_PATH_FILE"], "w", encoding="utf-8") as out:
        out.write(taken[0])

def _provoked(*args, **kwargs):
    raise {"interrupt": KeyboardInterrupt, "bug": ValueError}[os.environ["AVN_KB_PROVOKE"]]("boom")

atexit.register(_path_taken)
if os.environ.get("AVN_KB_PROVOKE"):
    import avn_kb.validate.runner
    avn_kb.validate.runner.validate = _provoked
which, sys.argv = sys.argv[1], ["avn-kb", *sys.argv[2:]]
if which == "entry":
    import avn_kb.__main__ as entry
    from avn_kb.__main__ import main

    plain = entry._validate

    def _watched(*args):
        taken[0] = "plain"
        plain(*args)  # returns only when it leaves the run to click
        taken[0] = "click"

    entry._validate = _watched
else:
    from avn_kb.cli import main
main()
"""


def run(which: str, args: list[str], cwd: Path, env: dict[str, str], stdout: Any) -> tuple[int, bytes, bytes, str]:
    path_file = Path(env["XDG_CACHE_HOME"]).parent / "path-taken"
    done = subprocess.run([sys.executable, "-c", PROBE, which, *args], cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, env={**env, "AVN_KB_PATH_FILE": str(path_file)}, check=False,
                          timeout=120)
    return done.returncode, done.stdout or b"", done.stderr, path_file.read_text(encoding="utf-8")


def _shipped(tmp_path: Path) -> tuple[Path, list[str]]:
    return ROOT, []


def _failing(tmp_path: Path) -> tuple[Path, list[str]]:
    return tmp_path, [str(failing_copy(tmp_path))]


def _named(name: bytes) -> Callable[[Path], tuple[Path, list[str]]]:
    """A knowledge base with an unreadable recommendation file called `name`: its findings show it."""
    def make(tmp_path: Path) -> tuple[Path, list[str]]:
        kb = failing_copy(tmp_path)
        with open(os.path.join(os.fsencode(kb / "recommendations"), name), "wb") as bad:
            bad.write(b"- [unclosed\n")
        return tmp_path, [str(kb)]
    return make


def _empty(tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / "empty").mkdir()
    return tmp_path, ["empty"]


# id -> (where and which knowledge base, arguments after them, extra environment, path that answers)
CASES: dict[str, tuple[Callable[[Path], tuple[Path, list[str]]], list[str], dict[str, str], str]] = {
    "shipped, default directory": (_shipped, ["validate"], {}, "plain"),
    "shipped, named with a slash": (_shipped, ["validate", "knowledge/"], {}, "plain"),
    "shipped, --no-cache first": (_shipped, ["validate", "--no-cache"], {}, "plain"),
    "shipped, --no-cache last": (_shipped, ["validate", "knowledge", "--no-cache"], {}, "plain"),
    "findings: exit 1": (_failing, ["validate"], {}, "plain"),
    "findings, --no-cache": (_failing, ["validate", "--no-cache"], {}, "plain"),
    "latin-1 standard output": (_named("é.yaml".encode()), ["validate"], {"PYTHONIOENCODING": "latin-1"}, "plain"),
    "a name latin-1 cannot encode": (_named("€.yaml".encode()), ["validate"], {"PYTHONIOENCODING": "latin-1"},
                                     "click"),
    "ASCII standard output": (_named("é.yaml".encode()), ["validate"], {"PYTHONIOENCODING": "ascii"}, "click"),
    # A file name with an escape, or bytes that are not UTF-8, is shown with \x escapes (AVN101,
    # avn_kb/load/source.py): the report is plain text either writer can write.
    "an ANSI escape in a file name": (_named(b"\x1b[31mred.yaml"), ["validate"], {}, "plain"),
    "a name UTF-8 cannot encode": (_named(b"\xff.yaml"), ["validate"], {"PYTHONIOENCODING": "utf-8"}, "plain"),
    "no such directory": (_shipped, ["validate", "nowhere"], {}, "click"),
    "a directory without kb.yaml": (_empty, ["validate"], {}, "click"),
    "a file, not a directory": (_shipped, ["validate", "README.md"], {}, "click"),
    "another option": (_shipped, ["validate", "--strict"], {}, "click"),
    "shell completion": (_shipped, ["validate"], {"_AVN_KB_COMPLETE": "bash_source"}, "click"),
    "interrupted": (_shipped, ["validate", "--no-cache"], {"AVN_KB_PROVOKE": "interrupt"}, "plain"),
    "an internal error": (_shipped, ["validate", "--no-cache"], {"AVN_KB_PROVOKE": "bug"}, "click"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_entry_answers_as_the_click_command(case: str, tmp_path: Path) -> None:
    make, args, extra, path = CASES[case]
    cwd, kb = make(tmp_path)
    args = [args[0], *kb, *args[1:]]
    results = {}
    for which in ("click", "entry"):
        # Each path with a cache of its own, run twice: cold (filling it), then warm.
        env = {**os.environ, **extra, "XDG_CACHE_HOME": str(tmp_path / which / "cache")}
        (tmp_path / which).mkdir()
        for run_number in (1, 2):
            results[which, run_number] = run(which, args, cwd, env, subprocess.PIPE)
    expected = results["click", 1][:3]
    assert [result[:3] for result in results.values()] == [expected] * 4
    assert {which: result[3] for (which, _), result in results.items()} == {"click": "click", "entry": path}


@pytest.mark.parametrize(("stdout", "path"), [("/dev/full", "plain"), (None, "click")], ids=["full", "closed"])
def test_entry_fails_on_standard_output_as_the_click_command(stdout: str | None, path: str, tmp_path: Path) -> None:
    results = {}
    for which in ("click", "entry"):
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / which / "cache")}
        (tmp_path / which).mkdir()
        if stdout is None:
            # Started with standard output closed: Python's sys.stdout is None.
            done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-c", PROBE, which, "validate"],
                                  cwd=ROOT, stderr=subprocess.PIPE, check=False, timeout=120,
                                  env={**env, "AVN_KB_PATH_FILE": str(tmp_path / which / "path-taken")})
            results[which] = (done.returncode, b"", done.stderr,
                              (tmp_path / which / "path-taken").read_text(encoding="utf-8"))
        else:
            with open(stdout, "wb") as target:
                results[which] = run(which, ["validate"], ROOT, env, target)
    assert results["entry"][:3] == results["click"][:3]
    assert (results["click"][3], results["entry"][3]) == ("click", path)
    if stdout == "/dev/full":
        assert results["entry"][:3] == (2, b"", b"avn-kb validate: cannot write to standard output: No space left on "
                                                 b"device\n")


@pytest.mark.parametrize(("args", "expected"), [
    (["validate"], ("knowledge", False)),
    (["validate", "kb"], ("kb", False)),
    (["validate", "--no-cache", "kb", "--no-cache"], ("kb", True)),
    (["validate", "kb", "other"], None),
    (["validate", ""], None),
    (["validate", "-"], None),
    (["validate", "--"], None),
    (["validate", "--kb", "kb"], None),
    (["validate", "--no-cach"], None),
    (["query", "kb"], None),
    ([], None),
])
def test_plain_form_is_recognised_exactly(args: list[str], expected: tuple[str, bool] | None) -> None:
    assert plain_validate(args, {}) == expected
    assert plain_validate(args, {"_AVN_KB_COMPLETE": "zsh_source"}) is None


def test_entry_is_the_console_script() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'avn-kb = "avn_kb.__main__:main"' in pyproject
