"""The editor experience, through the real yaml-language-server (the server behind the VS Code
YAML extension) driven over its language-server protocol as an editor drives it: knowledge files
pick their schema by their `# yaml-language-server: $schema=` modeline, offline (the schema store
switched off). A valid file gets no diagnostic, a broken one the schema's (own fields and those of
common.schema.json, through a relative $ref), completion offers the schema's keys, and the server
logs no schema problem. Installed by `make tools` (npm, into .tools/)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MINI, ROOT, SHIPPED
from tests.lsp_client import LanguageServer

SERVER = ROOT / ".tools" / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
NODE = shutil.which("node")
SETTINGS: dict[str, Any] = {
    "yaml": {"validate": True, "completion": True, "hover": True, "format": {"enable": False},
             "schemaStore": {"enable": False}, "schemas": {}},
    "http": {"proxy": "", "proxyStrictSSL": True},
}
# What the server says when it cannot use a schema fully: none of it may appear in its log.
SCHEMA_TROUBLE = ("could not be fully validated", "Maximum call stack size exceeded", "Problems loading reference",
                  "Unable to load schema", "is not valid", "cannot be resolved")

pytestmark = pytest.mark.skipif(NODE is None or not SERVER.is_file(),
                                reason="yaml-language-server is not installed: `make tools` installs it "
                                       "(npm, into .tools/; needs node and npm)")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped knowledge and the schemas as a user's repository lays them out."""
    root = tmp_path_factory.mktemp("workspace")
    shutil.copytree(SHIPPED, root / "knowledge")
    shutil.copytree(ROOT / "schema", root / "schema")
    return root


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[LanguageServer]:
    assert NODE is not None
    started = LanguageServer([NODE, str(SERVER), "--stdio"], SETTINGS)
    started.request("initialize", {
        "processId": None, "rootUri": workspace.as_uri(), "workspaceFolders": [
            {"uri": workspace.as_uri(), "name": "guidance"}],
        "capabilities": {"workspace": {"configuration": True, "didChangeConfiguration": {}},
                         "textDocument": {"publishDiagnostics": {}, "completion": {}}}})
    started.notify("initialized", {})
    started.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})
    yield started
    started.close()


def knowledge_files(workspace: Path) -> list[Path]:
    return sorted((workspace / "knowledge").glob("*.yaml")) + sorted((workspace / "knowledge").glob("*/*.yaml"))


def test_every_shipped_file_is_clean_and_the_log_too(server: LanguageServer, workspace: Path) -> None:
    files = knowledge_files(workspace)
    assert len(files) >= 10
    for path in files:
        server.open(path)
        assert server.diagnostics(path) == [], path.relative_to(workspace)
    server.settle(2)
    assert [line for line in server.log() if any(t in line for t in SCHEMA_TROUBLE)] == []


def recommendation(old: str, new: str) -> str:
    """The small recommendations file (flow-style conditions and actions), placed as a shipped one
    and changed: `old` replaced by `new`."""
    text = (MINI / "recommendations" / "offloading.yaml").read_text(encoding="utf-8")
    text = text.replace("$schema=../../../../schema/", "$schema=../../schema/", 1)
    assert old in text
    return text.replace(old, new, 1)


ACTION = "    action: {kind: consider, target: protected-weight-bearing, level: partial}"


@pytest.mark.parametrize("name, old, new, says", [
    # A field the recommendations schema itself does not define.
    ("own-field.yaml", "    certainty: low", "    strenght: strong\n    certainty: low",
     "Property strenght is not allowed"),
    # A rule of common.schema.json (semver), reached through a relative $ref.
    ("common-rule.yaml", '    version: "1.0.0"', '    version: "1.0"', "String does not match the pattern"),
    # An error three levels down the recursive condition (all / any / not, in common.schema.json).
    ("deep-condition.yaml", "    when: {site: femoral-head, collapse: pre-collapse}",
     "    when: {not: {any: [{all: [{Bad-Key: 1}]}]}}", "Bad-Key"),
])
def test_a_schema_error_is_a_diagnostic_on_its_line(server: LanguageServer, workspace: Path, name: str, old: str,
                                                    new: str, says: str) -> None:
    path = workspace / "knowledge" / "recommendations" / name
    text = recommendation(old, new)
    server.open(path, text)
    diagnostics = server.diagnostics(path)
    line = text.splitlines().index(new.split("\n")[0])
    assert [(d["range"]["start"]["line"], d["severity"]) for d in diagnostics if says in d["message"]] == [(line, 1)], \
        diagnostics


def _completion_labels(server: LanguageServer, path: Path, text: str, marker: str) -> set[str]:
    """The keys completion offers where `marker` stands (the marker removed first)."""
    lines = text.split("\n")
    row = next(i for i, line in enumerate(lines) if marker in line)
    column = lines[row].index(marker)
    lines[row] = lines[row].replace(marker, "")
    server.open(path, "\n".join(lines))
    server.diagnostics(path)
    answer = server.request("textDocument/completion", {"textDocument": {"uri": path.as_uri()},
                                                        "position": {"line": row, "character": column}})
    items = answer["items"] if isinstance(answer, dict) else answer
    return {item["label"] for item in items}


def test_completion_offers_the_schema_keys_own_and_common(server: LanguageServer, workspace: Path) -> None:
    folder = workspace / "knowledge" / "recommendations"
    # A new key in a recommendation (recommendations.schema.json's own properties).
    own = _completion_labels(server, folder / "complete-own.yaml", recommendation(ACTION, f"{ACTION}\n    @@"), "@@")
    # The keys the entry does not have yet (those it has are not offered again).
    assert {"rationale", "supersedes", "overrides", "effective"} <= own and "strength" not in own
    # A new key inside the action, a mapping defined in common.schema.json.
    common = _completion_labels(server, folder / "complete-common.yaml",
                                recommendation(ACTION, "    action:\n      kind: do\n      @@"), "@@")
    assert {"target", "level", "dose", "exercises"} <= common and not {"rationale", "supersedes"} & common
