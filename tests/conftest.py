"""Shared test helpers: copies of knowledge bases to break, and a CLI runner."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from avn_kb.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "mini"
SHIPPED = ROOT / "knowledge"
# The `browser` fixture (a headless Chromium) of the browser tests.
pytest_plugins = ("tests.browser",)


def stop(process: subprocess.Popen[Any], grace: float = 10) -> None:
    """End a process a test started: asked first, killed if it has not gone after `grace` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_cli(*args: str, input: str | None = None) -> Result:
    """Run avn-kb in-process; exceptions are not caught so a traceback fails the test."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def validate_json(kb: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("validate", str(kb), "--format", "json", *extra)
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test validates with a cache of its own, outside the repository: a check patched by one
    test never meets a report stored by another, and subprocesses inherit it."""
    directory = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(directory))
    monkeypatch.delenv("AVN_KB_CACHE_DIR", raising=False)
    return directory / "avn-kb"


@pytest.fixture
def mini_copy(tmp_path: Path) -> Path:
    """A writable copy of the small test knowledge base."""
    target = tmp_path / "kb"
    shutil.copytree(MINI, target)
    return target


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge base."""
    target = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, target)
    return target
