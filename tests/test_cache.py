"""The cache of `avn-kb validate` (avn_kb/validate/cache.py, avn_kb/util/store.py): where it is,
that nothing is written with --no-cache, what its keys cover, how the store stays bounded. Damage,
races and unusable places: tests/test_cache_damage.py."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest

from avn_kb.load import source, yaml_events
from avn_kb.util.store import Store
from avn_kb.validate.cache import DEFAULT_NAME, cache_location
from avn_kb.validate.report import Report
from tests.cache_helpers import AS_OF, cached, cold, failing_copy
from tests.cache_helpers import validate_cli as _validate
from tests.conftest import MINI, run_cli


@pytest.fixture
def failing_kb(tmp_path: Path) -> Path:
    return failing_copy(tmp_path)


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_limit_on_file_size_is_the_parsers() -> None:
    assert source.MAX_FILE_BYTES == yaml_events.MAX_FILE_BYTES


@pytest.mark.parametrize(("explicit", "environ", "expected"), [
    ("/x/given", {"AVN_KB_CACHE_DIR": "/x/env", "XDG_CACHE_HOME": "/x/xdg"}, "/x/given"),
    (None, {"AVN_KB_CACHE_DIR": "/x/env", "XDG_CACHE_HOME": "/x/xdg"}, "/x/env"),
    (None, {"XDG_CACHE_HOME": "/x/xdg"}, "/x/xdg/avn-kb"),
    (None, {"XDG_CACHE_HOME": "relative/xdg"}, "BESIDE"),  # the XDG specification: ignore a relative path
    (None, {"XDG_CACHE_HOME": ""}, "BESIDE"),
    (None, {}, "BESIDE"),
], ids=["option", "env", "xdg", "xdg-relative", "xdg-empty", "beside"])
def test_cache_location_precedence(tmp_path: Path, explicit: str | None, environ: dict[str, str],
                                   expected: str) -> None:
    kb = tmp_path / "knowledge"
    kb.mkdir()
    wanted = tmp_path / DEFAULT_NAME if expected == "BESIDE" else Path(expected)
    assert cache_location(kb, explicit, environ) == wanted


def test_default_cache_is_beside_the_knowledge_never_inside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    kb = tmp_path / "knowledge"
    shutil.copytree(MINI, kb)
    before = _files(kb)
    monkeypatch.chdir(kb)  # named as "." from inside, it still goes in the parent
    assert run_cli("validate", ".").exit_code == 0
    assert run_cli("validate", str(kb)).exit_code == 0
    assert _files(kb) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [DEFAULT_NAME, "knowledge"]
    stored = [p.name for p in (tmp_path / DEFAULT_NAME).iterdir()]
    assert ".gitignore" in stored and any(name.startswith("r") for name in stored)


def test_no_cache_writes_nothing(tmp_path: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb = tmp_path / "knowledge"
    shutil.copytree(MINI, kb)
    assert _validate(kb, "--no-cache")[0] == 0
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _validate(kb, "--no-cache")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["knowledge"]
    assert not private_cache.exists()


def test_warm_run_is_the_cold_answer_and_comes_from_the_cache(failing_kb: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    expected = _validate(failing_kb, "--no-cache")
    assert expected[0] == 1
    assert _validate(failing_kb, "--cache-dir", str(store)) == expected
    report_entries = [p for p in store.iterdir() if p.name.startswith("r")]
    assert len(report_entries) == 1
    # The second run reads the stored report: a forged one (found because it is valid) shows it.
    forged = Report("forged", (), 0, 0)
    payload = pickle.dumps(forged)
    Store(store).put(report_entries[0].name, payload)
    assert _validate(failing_kb, "--cache-dir", str(store))[1] != expected[1]


def test_store_keeps_the_newest_entries_within_its_bounds(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "store", max_bytes=10_000, max_entries=3)
    assert store is not None
    for number in range(5):
        store.put(f"k{number}", b"x" * 100)
        os.utime(store.directory / f"k{number}", (1000 + number, 1000 + number))
    os.utime(store.directory / "k0", (2000, 2000))  # read recently: kept
    (store.directory / ".tmp-1-dead").write_bytes(b"half")
    os.utime(store.directory / ".tmp-1-dead", (1000, 1000))  # a writer that died long ago
    (store.directory / "k9").symlink_to(store.directory / "k1")
    store.prune()
    assert sorted(p.name for p in store.directory.iterdir()) == [".gitignore", "CACHEDIR.TAG", "k0", "k3", "k4"]
    small = Store(store.directory, max_bytes=300)  # two entries of 127 bytes
    small.prune()
    assert sorted(p.name for p in store.directory.iterdir()) == [".gitignore", "CACHEDIR.TAG", "k0", "k4"]


def test_report_level_covers_the_loaders_view_of_links(tmp_path: Path) -> None:
    """A file replaced by a link leaving the knowledge directory is a finding, not its target's
    bytes: a warm run sees the change even though the bytes behind the link are the same."""
    kb, store = tmp_path / "knowledge", tmp_path / "store"
    shutil.copytree(MINI, kb)
    assert cached(kb, "knowledge", store) == cold(kb, "knowledge")
    moved = tmp_path / "references.yaml"
    (kb / "references.yaml").rename(moved)
    (kb / "references.yaml").symlink_to(moved)
    assert cached(kb, "knowledge", store) == cold(kb, "knowledge")


def test_base_is_keyed_by_the_commit_its_ref_resolves_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same working tree and the same `--base HEAD~1`, but HEAD has moved: another report."""
    from tests.test_versions import RT, apply, commit, git, replace

    shutil.copytree(MINI, tmp_path / "knowledge")
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    commit(tmp_path, "first")
    apply(tmp_path / "knowledge", (replace(RT, "sets: [1, 3]", "sets: [1, 4]"),))  # changed without a version bump
    commit(tmp_path, "second")
    store = str(tmp_path.parent / f"{tmp_path.name}-store")
    runs = []
    for _ in range(2):
        for extra in (("--cache-dir", store), ("--no-cache",)):
            runs.append(_validate(Path("knowledge"), "--base", "HEAD~1", *extra))
        git(tmp_path, "commit", "-q", "--allow-empty", "-m", "nothing")  # HEAD~1 is now "second"
    assert runs[0] == runs[1] and runs[2] == runs[3]
    assert runs[0][0] == 1 and runs[2][0] == 0


def test_every_input_is_in_the_report_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    import avn_kb
    from avn_kb.load.source import RecordedSource
    from avn_kb.validate import cache

    kb = tmp_path / "knowledge"
    shutil.copytree(MINI, kb)

    def key(shown: str = "knowledge", day: dt.date = AS_OF, base: str | None = None, commit: str | None = None) -> str:
        return cache.report_key(RecordedSource(kb, shown), shown, day, base, commit)

    keys = {"as it is": key(), "shown as another name": key(shown="kb"), "another day": key(day=dt.date(2027, 1, 1)),
            "with --base": key(base="main", commit="a" * 40),
            "base at another commit": key(base="main", commit="b" * 40)}
    (kb / "cases" / "basic.yaml").write_bytes((kb / "cases" / "basic.yaml").read_bytes() + b" ")
    keys["a byte more in a case file"] = key()
    (kb / "recommendations" / "new.yml").write_bytes(b"")
    keys["a new empty file"] = key()
    (kb / "references.yaml").rename(tmp_path / "references.yaml")
    keys["a required file missing"] = key()
    (kb / "references.yaml").symlink_to(tmp_path / "references.yaml")
    keys["a required file a link leaving the directory"] = key()
    cache.tool_fingerprint.cache_clear()
    monkeypatch.setattr(avn_kb, "__version__", "0.0.0-other")
    keys["another version of the tool"] = key()
    cache.tool_fingerprint.cache_clear()
    assert len(set(keys.values())) == len(keys)


def test_value_pickle_cannot_write_is_not_kept(tmp_path: Path) -> None:
    from avn_kb.validate.cache_codec import store_value as _store

    store = Store.open(tmp_path / "store")
    assert store is not None
    _store(store, "unpicklable", lambda: None)
    _store(store, "picklable", {"a": 1})
    assert sorted(p.name for p in store.directory.iterdir()) == [".gitignore", "CACHEDIR.TAG", "picklable"]
