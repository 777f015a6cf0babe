"""Pre-commit and CI integration: the hook this repository offers (.pre-commit-hooks.yaml), run
for real with `pre-commit try-repo` on a fixture repository, and the example GitHub Actions
workflow (docs/examples/avn-kb-pr.yml), whose avn-kb commands are run on the small fixture."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft7Validator

from avn_kb.cli import main
from avn_kb.cli.editorial import diff, export, graph
from tests.conftest import MINI, ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"
WORKFLOW = ROOT / "docs" / "examples" / "avn-kb-pr.yml"
GIT_IDENTITY = ("-c", "user.name=avn-kb tests", "-c", "user.email=tests@avn-kb.invalid", "-c", "commit.gpgsign=false")
# What pip says when it cannot reach the package index: only then is a failed install a skip.
OFFLINE = re.compile(r"NewConnectionError|Temporary failure in name resolution|Network is unreachable|"
                     r"No matching distribution found|ProxyError|Could not fetch URL")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *GIT_IDENTITY, *args], capture_output=True, text=True, check=True)


def knowledge_repo(root: Path) -> Path:
    """A repository that keeps its guidance in knowledge/, as a user of the hook would."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    shutil.copytree(MINI, root / "knowledge")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "knowledge")
    return root


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list) and [h["id"] for h in hooks] == ["avn-kb-validate"]
    found: dict[str, Any] = hooks[0]
    return found


def test_hook_definition() -> None:
    found = hook()
    assert {k: found[k] for k in ("entry", "language", "pass_filenames")} == {
        "entry": "avn-kb validate", "language": "python", "pass_filenames": False}


@pytest.mark.parametrize("path, runs", [
    ("knowledge/kb.yaml", True),
    ("knowledge/recommendations/offloading.yaml", True),
    ("knowledge/cases/basic.yml", True),
    ("docs/format.md", False),
    ("schema/case.schema.json", False),
    ("other/knowledge/kb.yaml", False),
    ("knowledge/notes.txt", False),
])
def test_hook_runs_only_for_knowledge_yaml(path: str, runs: bool) -> None:
    assert bool(re.search(hook()["files"], path)) is runs


def _project_copy(target: Path) -> Path:
    """This project as a git repository with everything committed: try-repo installs the hook
    from a commit, and the work tree here may hold uncommitted files."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("the project is not a git checkout: cannot build the hook repository")
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "snapshot for try-repo")
    return target


def _try_repo(hook_repo: Path, repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "avn-kb-validate",
                           "--all-files"], cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_pre_commit_try_repo_passes_then_fails_on_a_broken_file(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit", reason="pre-commit is a test dependency (pip install '.[test]')")
    hook_repo = _project_copy(tmp_path / "avn-kb")
    repo = knowledge_repo(tmp_path / "guidance")
    started = time.monotonic()
    clean = _try_repo(hook_repo, repo, tmp_path / "home")
    output = clean.stdout + clean.stderr
    if clean.returncode == 3 and "Installing environment" in output and OFFLINE.search(output):
        pytest.skip("pre-commit could not install the hook's environment from the package index (offline?)")
    # About 35 s here: try-repo builds a fresh environment (pip install of this project) each run.
    print(f"pre-commit try-repo (with install) took {time.monotonic() - started:.0f} s")
    assert clean.returncode == 0, output
    assert re.search(r"^avn-kb validate\.+Passed$", clean.stdout, re.MULTILINE)

    path = repo / "knowledge" / "recommendations" / "offloading.yaml"
    path.write_text(path.read_text().replace("site: femoral-head,", "site: hip,"))
    broken = _try_repo(hook_repo, repo, tmp_path / "home")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert re.search(r"^avn-kb validate\.+Failed$", broken.stdout, re.MULTILINE)
    assert ("knowledge/recommendations/offloading.yaml:11:18: error AVN122 OF-001: 'hip' is not a value of site"
            in broken.stdout)


# --- The example GitHub Actions workflow ------------------------------------------------------------

def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workflow()["jobs"]["validate"]["steps"]
    return found


def avn_kb_commands() -> list[list[str]]:
    """Every avn-kb command the workflow runs, as arguments, with the base branch's environment
    variable set to main and shell redirections and `||` tails cut off."""
    commands = []
    for step in steps():
        for line in str(step.get("run", "")).splitlines():
            words = shlex.split(line.replace("$BASE_REF", "main"))
            if words[:1] == ["avn-kb"]:
                cut = next((i for i, w in enumerate(words) if w in ("||", "&&", "|", ">", ">>", ";")), len(words))
                commands.append(words[1:cut])
    return commands


def test_workflow_shape() -> None:
    data = workflow()
    # PyYAML reads the key `on` as the boolean true (YAML 1.1); GitHub reads it as "on".
    trigger = data.get("on", data.get(True))
    assert isinstance(trigger, dict) and list(trigger) == ["pull_request"]
    assert data["permissions"]["security-events"] == "write"
    assert data["jobs"]["validate"]["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    checkout = next(s for s in steps() if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    upload = next(s for s in steps() if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    sarif_command = next(c for c in avn_kb_commands() if "sarif" in c)
    assert upload["with"]["sarif_file"] == sarif_command[sarif_command.index("-o") + 1]
    assert ["validate", "knowledge", "--base", "origin/main", "--format", "github"] in avn_kb_commands()
    # The golden cases run too, and their JUnit file is what the report and the artifact take.
    junit_command = next(c for c in avn_kb_commands() if c[0] == "test")
    assert junit_command[:4] == ["test", "knowledge", "--format", "junit"]
    junit_file = junit_command[junit_command.index("-o") + 1]
    report = next(s for s in steps() if str(s.get("uses", "")).startswith("mikepenz/action-junit-report@"))
    assert report["with"]["report_paths"] == junit_file and data["permissions"]["checks"] == "write"
    artifact = next(s for s in steps() if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert artifact["with"]["path"].split() == [upload["with"]["sarif_file"], junit_file]


def test_workflow_commands_run_on_the_small_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = knowledge_repo(tmp_path / "guidance")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")  # as after a checkout with fetch-depth 0
    monkeypatch.chdir(repo)
    context = click.Context(main)
    commands = {name: main.get_command(context, name) for name in main.list_commands(context)}
    cli = click.Group("avn-kb", commands={**{n: c for n, c in commands.items() if c is not None},
                                          "diff": diff, "export": export, "graph": graph})
    ran = []
    for args in avn_kb_commands():
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        ran.append((args[0], result.stdout))
    assert [name for name, _ in ran] == ["validate", "validate", "test", "diff"]
    assert ran[1][1] == "knowledge: 0 errors, 0 warnings in 6 files (2 recommendations): OK\n"
    assert ran[3][1] == "## Knowledge base changes: origin/main → working tree\n\nNo changes.\n"
    junit = (repo / "avn-kb-golden-cases.xml").read_text(encoding="utf-8")
    assert '<testsuite name="avn-kb golden cases: knowledge"' in junit and 'failures="0"' in junit
    sarif = json.loads((repo / "avn-kb.sarif").read_text())
    official = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    assert sorted(Draft7Validator(official).iter_errors(sarif), key=str) == []
    assert sarif["runs"][0]["results"] == []


def test_docs_show_the_workflow_and_the_hook() -> None:
    ci = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    assert WORKFLOW.read_text(encoding="utf-8") in ci  # the doc shows the file exactly as shipped
    assert "id: avn-kb-validate" in ci and "pre-commit try-repo" in ci
