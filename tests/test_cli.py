"""The installed entry points, and what the CLI does with an internal error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from avn_kb import __version__
from tests.conftest import MINI, run_cli

BIN = Path(sys.executable).parent


def test_python_dash_m_works() -> None:
    done = subprocess.run([sys.executable, "-m", "avn_kb", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"avn-kb, version {__version__}"


def test_console_script_validates() -> None:
    script = BIN / "avn-kb"
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    done = subprocess.run([str(script), "validate", str(MINI)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].endswith(": OK")


def test_internal_error_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    import avn_kb.validate.runner

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(avn_kb.validate.runner, "validate", broken)
    result = run_cli("validate", str(MINI))
    assert result.exit_code == 3
    assert result.stderr.strip() == ("avn-kb: internal error (ValueError: boom); this is a bug, please report it; "
                                     "run with --debug for details")
    assert "Traceback" not in result.output
