"""The shipped JSON Schemas resolve offline from their own folder: check-jsonschema (another
validator than ours) validates every knowledge file against them with the network cut off, from
the repository's schema/ and from the copy a wheel installs (avn_kb/schema/). A validator that
tried to fetch a schema would fail here: every socket connection outside this machine's files is
refused in its process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, MINI, ROOT, SHIPPED

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
OFFLINE_GUARD = '''
import socket

def _refuse_lookup(host, *args, **kwargs):
    raise OSError(f"network access attempted (looking up {host!r}) while testing offline")

def _refuse(self, address, *args, **kwargs):
    if self.family != getattr(socket, "AF_UNIX", None):
        raise OSError(f"network access attempted (to {address!r}) while testing offline")
    return _connect(self, address, *args, **kwargs)

_connect = socket.socket.connect
socket.getaddrinfo = _refuse_lookup
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
'''

pytestmark = pytest.mark.skipif(not CHECK_JSONSCHEMA.is_file(),
                                reason="check-jsonschema is a test dependency (pip install '.[test]')")


def knowledge_files() -> dict[str, list[Path]]:
    """Every knowledge file shipped or used as a fixture, by the schema its modeline names."""
    grouped: dict[str, list[Path]] = defaultdict(list)
    for root in (SHIPPED, MINI, FIXTURES / "published-article"):
        for path in sorted(root.glob("*.yaml")) + sorted(root.glob("*/*.yaml")):
            match = MODELINE.match(path.read_text(encoding="utf-8").splitlines()[0])
            assert match, path
            grouped[Path(match.group(1)).name].append(path)
    return dict(grouped)


@pytest.fixture
def offline_env(tmp_path: Path) -> dict[str, str]:
    guard = tmp_path / "offline-guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(OFFLINE_GUARD, encoding="utf-8")
    return {**os.environ, "PYTHONPATH": str(guard)}


def check(schema: Path, files: list[Path], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(CHECK_JSONSCHEMA), "--no-cache", "--traceback-mode", "full", "--schemafile", str(schema)]
    return subprocess.run([*command, *map(str, files)], capture_output=True, text=True, timeout=300, check=False,
                          env=env)


def test_the_guard_stops_a_fetch(tmp_path: Path, offline_env: dict[str, str]) -> None:
    """Without this, a passing run could have fetched the schemas it needed."""
    schema = tmp_path / "remote.schema.json"
    schema.write_text('{"$ref": "https://example.org/schema/common.schema.json"}', encoding="utf-8")
    done = check(schema, [SHIPPED / "kb.yaml"], offline_env)
    assert done.returncode != 0
    assert "network access attempted" in done.stdout + done.stderr


def test_every_knowledge_file_against_the_repository_schemas(offline_env: dict[str, str]) -> None:
    grouped = knowledge_files()
    assert set(grouped) == {"manifest.schema.json", "vocabulary.schema.json", "references.schema.json",
                            "recommendations.schema.json", "cases.schema.json"}
    for name, files in grouped.items():
        done = check(ROOT / "schema" / name, files, offline_env)
        assert done.returncode == 0, (name, done.stdout + done.stderr)


@pytest.mark.parametrize("old, new, says", [
    # A field of the recommendation schema itself.
    ("    certainty: low\n", "    certainty: low\n    strenght: strong\n", "strenght"),
    # A rule that lives in common.schema.json (semver), reached through a relative $ref.
    ('    version: "1.0.0"\n', '    version: "1.0"\n', "'1.0' does not match"),
    # Three levels down the recursive condition (common.schema.json's embedded resource).
    ("    when: {site: femoral-head, collapse: pre-collapse}\n", "    when: {not: {any: [{all: [{Bad-Key: 1}]}]}}\n",
     "when.not.any[0].all[0]: 'Bad-Key' does not match"),
])
def test_errors_behind_relative_refs_are_caught(tmp_path: Path, offline_env: dict[str, str],
                                                old: str, new: str, says: str) -> None:
    source = (MINI / "recommendations" / "offloading.yaml").read_text(encoding="utf-8")
    assert old in source
    broken = tmp_path / "offloading.yaml"
    broken.write_text(source.replace(old, new, 1), encoding="utf-8")
    done = check(ROOT / "schema" / "recommendations.schema.json", [broken], offline_env)
    assert done.returncode == 1 and says in done.stdout, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """avn-kb as a wheel installs it (pure Python: the wheel unpacked), built from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                           capture_output=True, text=True, timeout=600, check=False)
    wheels = sorted(out.glob("avn_kb-*.whl"))
    if built.returncode != 0 or not wheels:
        pytest.skip(f"could not build the wheel (setuptools from the package index?): {built.stderr[-300:]}")
    site = out / "site"
    with zipfile.ZipFile(wheels[0]) as wheel:
        wheel.extractall(site)
    return site


def test_every_knowledge_file_against_the_installed_schemas(installed: Path, offline_env: dict[str, str]) -> None:
    located = subprocess.run(
        [sys.executable, "-c",
         "from importlib import resources; print(resources.files('avn_kb.schema').joinpath('common.schema.json'))"],
        capture_output=True, text=True, check=True, cwd=installed, env=offline_env)
    folder = Path(located.stdout.strip()).parent
    assert folder == installed / "avn_kb" / "schema"
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(p.name for p in (ROOT / "schema").glob("*.json"))
    for name, files in knowledge_files().items():
        done = check(folder / name, files, offline_env)
        assert done.returncode == 0, (name, done.stdout + done.stderr)


def test_the_installed_package_carries_the_rule_help(installed: Path) -> None:
    """The SARIF rules' help comes from docs/checks.md, which the wheel ships as avn_kb/docs/."""
    assert (installed / "avn_kb" / "docs" / "checks.md").read_bytes() == (ROOT / "docs" / "checks.md").read_bytes()
    probe = ("import json; from avn_kb.output.findings import sarif_rules as r; "
             "print(json.dumps([r.__file__, {x['id']: x['fullDescription']['text'] for x in r.rules()}]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=installed)
    module, described = json.loads(done.stdout)
    assert Path(module).is_relative_to(installed)
    assert described["AVN105"].startswith("A key that appears twice in one mapping")
