"""A cache that is damaged, planted, raced, or cannot be used or written gives the cold answer
with the same exit code, never an error (avn_kb/util/store.py, avn_kb/validate/cache.py)."""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import avn_kb.util.store
from avn_kb.util.store import FORMAT, Store
from avn_kb.validate.report import Report
from tests.cache_helpers import DAY, failing_copy
from tests.cache_helpers import validate_cli as _validate
from tests.conftest import SHIPPED


@pytest.fixture
def failing_kb(tmp_path: Path) -> Path:
    return failing_copy(tmp_path)


def _truncate(entry: Path, outside: Path) -> None:
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])


def _garbage(entry: Path, outside: Path) -> None:
    entry.write_bytes(os.urandom(500))


def _empty(entry: Path, outside: Path) -> None:
    entry.write_bytes(b"")


def _wrong_version(entry: Path, outside: Path) -> None:
    entry.write_bytes(entry.read_bytes().replace(FORMAT, b"avn-kb-cache 0", 1))


def _payload_changed(entry: Path, outside: Path) -> None:
    content = bytearray(entry.read_bytes())
    content[-5] ^= 0xFF  # the digest in the header no longer matches
    entry.write_bytes(bytes(content))


def _valid_but_not_a_report(entry: Path, outside: Path) -> None:
    Store(entry.parent).put(entry.name, pickle.dumps({"not": "a report"}))


def _names_a_function(entry: Path, outside: Path) -> None:
    # A verified entry whose pickle would call os.system: refused by the unpickler, never run.
    planted = pickle.dumps(_Planted(outside / "ran"))
    Store(entry.parent).put(entry.name, planted)


class _Planted:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def _link_to_forged(entry: Path, outside: Path) -> None:
    # A valid entry under the right key (a report with no findings), but reached through a link: not followed.
    Store(outside).put(entry.name, pickle.dumps(Report("forged", (), 0, 0)))
    entry.unlink()
    entry.symlink_to(outside / entry.name)


def _directory(entry: Path, outside: Path) -> None:
    entry.unlink()
    entry.mkdir()


def _fifo(entry: Path, outside: Path) -> None:
    entry.unlink()
    os.mkfifo(entry)  # opening it would block a reader that did not ask not to


CORRUPTIONS = {f.__name__.strip("_"): f for f in (_truncate, _garbage, _empty, _wrong_version, _payload_changed,
                                                   _valid_but_not_a_report, _names_a_function, _link_to_forged,
                                                   _directory, _fifo)}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_damaged_cache_gives_the_cold_answer(failing_kb: Path, tmp_path: Path, corrupt: object) -> None:
    store, outside = tmp_path / "store", tmp_path / "outside"
    outside.mkdir()
    expected = _validate(failing_kb, "--no-cache")
    assert _validate(failing_kb, "--cache-dir", str(store)) == expected
    entries = [p for p in store.iterdir() if p.name[0] in "rfuj"]
    assert {p.name[0] for p in entries} == set("rfuj")
    for entry in entries:  # the report, every file's entry, the searching and the judging checks' tables
        corrupt(entry, outside)  # type: ignore[operator]
    assert _validate(failing_kb, "--cache-dir", str(store)) == expected
    assert not (outside / "ran").exists()
    assert _validate(failing_kb, "--cache-dir", str(store)) == expected  # and after it was rewritten


def test_damaged_cache_keeps_the_exit_code_of_a_real_process(failing_kb: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    command = [sys.executable, "-m", "avn_kb", "validate", str(failing_kb), "--as-of", DAY, "--cache-dir", str(store)]
    first = subprocess.run(command, capture_output=True, text=True, check=False)
    for entry in store.iterdir():
        if entry.name[0] in "rf":
            _garbage(entry, tmp_path)
    second = subprocess.run(command, capture_output=True, text=True, check=False)
    assert (first.returncode, first.stdout, first.stderr) == (second.returncode, second.stdout, "")
    assert first.returncode == 1


def test_runs_racing_on_one_cache_agree(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, kb)
    store = tmp_path / "store"
    command = [sys.executable, "-m", "avn_kb", "validate", str(kb), "--as-of", DAY, "--format", "json"]
    expected = subprocess.run([*command, "--no-cache"], capture_output=True, text=True, check=False)
    racing = [subprocess.Popen([*command, "--cache-dir", str(store)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in racing]
    assert results == [(expected.returncode, expected.stdout, "")] * 4
    assert not [p for p in store.iterdir() if p.name.startswith(".tmp-")]
    after = subprocess.run([*command, "--cache-dir", str(store)], capture_output=True, text=True, check=False)
    assert (after.returncode, after.stdout) == (expected.returncode, expected.stdout)


def _beneath_a_file(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("not a directory")
    return tmp_path / "a-file" / "cache"


def _world_writable(tmp_path: Path) -> Path:
    store = tmp_path / "shared"
    store.mkdir()
    store.chmod(0o777)
    return store


def _a_link(tmp_path: Path) -> Path:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    return tmp_path / "link"


def _someone_elses(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("only root can give a directory to another user")
    store = tmp_path / "theirs"
    store.mkdir(mode=0o700)
    os.chown(store, 65534, 65534)
    return store


UNUSABLE = {f.__name__.strip("_"): f for f in (_beneath_a_file, _world_writable, _a_link, _someone_elses)}


@pytest.mark.parametrize("place", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_unusable_cache_location_is_only_a_miss(failing_kb: Path, tmp_path: Path, place: object) -> None:
    location = place(tmp_path)  # type: ignore[operator]
    expected = _validate(failing_kb, "--no-cache")
    for _ in range(2):
        assert _validate(failing_kb, "--cache-dir", str(location)) == expected
    for directory in (location, tmp_path / "real"):
        assert not directory.is_dir() or [p.name for p in directory.iterdir()] == []


def test_cache_that_cannot_be_written_is_only_a_miss(failing_kb: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    expected = _validate(failing_kb, "--no-cache")

    def read_only(path: Path, content: bytes) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(avn_kb.util.store, "_write_new", read_only)
    assert _validate(failing_kb, "--cache-dir", str(store)) == expected
    assert [p.name for p in store.iterdir()] == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory anyway")
def test_read_only_cache_directory_is_only_a_miss(failing_kb: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    expected = _validate(failing_kb, "--cache-dir", str(store))
    for entry in store.iterdir():
        entry.unlink()
    store.chmod(0o500)
    try:
        assert _validate(failing_kb, "--cache-dir", str(store)) == expected
    finally:
        store.chmod(0o700)
