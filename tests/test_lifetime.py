"""avn_kb/util/lifetime.py: a validation process leaves what it loaded to the operating system;
a library caller frees it as usual."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from avn_kb.util import lifetime

class Loaded:
    def __del__(self):
        print("freed", flush=True)

if sys.argv[1] == "ends":
    lifetime.ends_after_run()
lifetime.outlive(Loaded())
print("exiting", flush=True)
"""


@pytest.mark.parametrize(("said", "expected"), [("ends", "exiting\n"), ("library", "freed\nexiting\n")])
def test_what_outlives_the_run_is_freed_only_by_a_library_caller(said: str, expected: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, said], capture_output=True, text=True, check=True,
                          timeout=60)
    assert done.stdout == expected
    assert done.stderr == ""


def test_the_validate_command_says_its_process_ends_and_serve_does_not() -> None:
    probe = ("import sys; sys.argv = ['avn-kb', *sys.argv[1:]]; import avn_kb.__main__ as entry; "
             "from avn_kb.util import lifetime; entry.plain_validate = lambda *a: None; "
             "import avn_kb.cli; avn_kb.cli.main = lambda: print(lifetime._kept is not None)\n"
             "entry.main()")
    for command, expected in [("validate", "True"), ("serve", "False"), ("query", "False")]:
        done = subprocess.run([sys.executable, "-c", probe, command], capture_output=True, text=True, check=True,
                              timeout=60)
        assert done.stdout.strip() == expected, command
