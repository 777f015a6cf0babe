"""What a clean `avn-kb validate` imports: it runs in pre-commit on every commit, so modules that only
some paths need (explaining schema errors, cycle paths, --base, other commands, other formats)
must stay out of its start-up. Which modules, not how long: timings live in benchmarks/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MINI, ROOT

# Module (and its submodules) -> the path that needs it.
DEFERRED = {
    "jsonschema": "explaining a schema error (jsonschema-rs gives the verdict)",
    "referencing": "explaining a schema error",
    "networkx": "the path of a cycle",
    "importlib.resources": "schemas inside a zipped package",
    "importlib.metadata": "nothing: the version is a constant",
    "avn_kb.load.git_source": "--base",
    "avn_kb.editorial.versions": "--base",
    "avn_kb.cli.answers": "query, test, coverage",
    "avn_kb.cli.site": "render",
    "avn_kb.cli.editorial": "diff, export, graph",
    "avn_kb.output.site": "render",
    "avn_kb.output.findings.json_report": "--format json",
    "avn_kb.output.findings.sarif": "--format sarif",
    "avn_kb.output.findings.github": "--format github",
    "avn_kb.cli.serve": "serve",
    "avn_kb.serve": "serve",
    "starlette": "serve",
    "uvicorn": "serve",
}

PROBE = """
import json, sys
from avn_kb.cli import main
try:
    main(["validate", sys.argv[1]], prog_name="avn-kb")
except SystemExit as done:
    code = done.code
sys.stdout.flush()
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("kb", [MINI, ROOT / "knowledge"], ids=["mini", "shipped"])
def test_clean_validation_leaves_deferred_modules_unimported(kb: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, str(kb)], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["exit"] == 0, done.stdout
    imported = [name for name in result["modules"]
                if any(name == deferred or name.startswith(deferred + ".") for deferred in DEFERRED)]
    assert imported == []


def test_probe_sees_a_deferred_module_when_its_path_runs() -> None:
    """The probe is not blind: a path that needs a deferred module does import it."""
    probe = PROBE.replace('["validate", sys.argv[1]]', '["validate", sys.argv[1], "--format", "json"]')
    done = subprocess.run([sys.executable, "-c", probe, str(MINI)], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "avn_kb.output.findings.json_report" in json.loads(done.stdout.splitlines()[-1])["modules"]


# What a run whose report is already cached must not import: it hashes the files and prints the
# stored report (avn_kb/validate/cache.py), so nothing that parses, checks or builds the model.
NOT_WHEN_WARM = {
    "yaml": "parsing", "yaml_rs": "parsing", "avn_kb.load.safe_yaml": "parsing", "avn_kb.load.fast_yaml": "parsing",
    "avn_kb.load.yaml_events": "parsing", "avn_kb.load.knowledge": "loading", "avn_kb.load.build": "loading",
    "jsonschema_rs": "schema checks", "avn_kb.validate.runner": "checks", "avn_kb.validate.checks": "checks",
    "avn_kb.validate.readiness": "answers", "avn_kb.lang": "checks", "avn_kb.model.knowledge": "the model",
    "avn_kb.model.conditions": "the model", "avn_kb.editorial": "--base",
}


def _probe_modules(kb: Path, cache: Path) -> tuple[int, list[str]]:
    probe = PROBE.replace('["validate", sys.argv[1]]', '["validate", sys.argv[1], "--cache-dir", sys.argv[2]]')
    done = subprocess.run([sys.executable, "-c", probe, str(kb), str(cache)], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    return result["exit"], result["modules"]


@pytest.mark.parametrize("kb", [MINI, ROOT / "knowledge"], ids=["mini", "shipped"])
def test_warm_validation_imports_nothing_that_parses_or_checks(kb: Path, tmp_path: Path) -> None:
    cold_exit, cold_modules = _probe_modules(kb, tmp_path / "cache")
    warm_exit, warm_modules = _probe_modules(kb, tmp_path / "cache")
    assert cold_exit == warm_exit == 0
    # Not blind: the cold run, which filled the cache, did import them.
    assert "avn_kb.validate.runner" in cold_modules and "avn_kb.load.safe_yaml" in cold_modules
    imported = [name for name in warm_modules
                if any(name == heavy or name.startswith(heavy + ".") for heavy in NOT_WHEN_WARM | DEFERRED)]
    assert imported == []


# The console script and `python -m avn_kb` (avn_kb/__main__.py): the plain `validate` that
# pre-commit runs is answered without click, cold or warm; any other form goes to click.
ENTRY_PROBE = """
import json, sys
sys.argv = ["avn-kb", *sys.argv[1:]]
from avn_kb.__main__ import main
try:
    main()
except SystemExit as done:
    code = done.code
sys.stdout.flush()
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""


def _entry_modules(*args: str) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, "-c", ENTRY_PROBE, *args], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    return result["exit"], result["modules"]


def _among(modules: list[str], roots: dict[str, str] | set[str]) -> list[str]:
    return [name for name in modules if any(name == root or name.startswith(root + ".") for root in roots)]


@pytest.mark.parametrize("kb", [MINI, ROOT / "knowledge"], ids=["mini", "shipped"])
def test_pre_commit_path_imports_no_click_cold_or_warm(kb: Path) -> None:
    # The private cache of tests/conftest.py is empty: the first run fills it, the second is warm.
    runs = {"filling the cache": _entry_modules("validate", str(kb)), "warm": _entry_modules("validate", str(kb)),
            "--no-cache": _entry_modules("validate", "--no-cache", str(kb))}
    for name, (code, modules) in runs.items():
        assert code == 0, name
        assert _among(modules, {"click", "avn_kb.cli"} | set(DEFERRED)) == [], name
    assert "avn_kb.validate.runner" in runs["filling the cache"][1]
    assert _among(runs["warm"][1], NOT_WHEN_WARM) == []


@pytest.mark.parametrize("args", [["validate", "--strict"], ["validate", "--format", "text"], ["--version"],
                                  ["validate", "knowledge", "knowledge"], ["validate", "--", "knowledge"]],
                         ids=lambda args: " ".join(args))
def test_entry_leaves_every_other_form_to_click(args: list[str]) -> None:
    code, modules = _entry_modules(*args)
    assert "avn_kb.cli" in modules and "click" in modules
    assert code in (0, 2)
