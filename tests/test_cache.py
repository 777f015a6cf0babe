"""The cache of `avn-kb validate` (avn_kb/validate/cache.py, avn_kb/util/store.py): where it is,
that nothing is written with --no-cache, and that a cache which is damaged, planted, raced or
cannot be written gives the cold answer with the same exit code, never an error."""

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
from avn_kb.load import source, yaml_events
from avn_kb.util.store import FORMAT, Store
from avn_kb.validate.cache import DEFAULT_NAME, cache_location
from avn_kb.validate.report import Report
from tests.cache_helpers import AS_OF, cached, cold
from tests.conftest import MINI, SHIPPED, run_cli

DAY = AS_OF.isoformat()


@pytest.fixture
def failing_kb(tmp_path: Path) -> Path:
    """The mini knowledge base with an error (a citation of a reference that does not exist): exit 1."""
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    path = kb / "recommendations" / "offloading.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("ref: mont-1996", "ref: nobody-1999"), encoding="utf-8")
    return kb


def _validate(kb: Path, *extra: str) -> tuple[int, str]:
    result = run_cli("validate", str(kb), "--as-of", DAY, "--format", "json", *extra)
    return result.exit_code, result.stdout


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
    entries = [p for p in store.iterdir() if p.name[0] in "rf"]
    assert entries
    for entry in entries:  # the report and every file's entry
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
    small = Store(store.directory, max_bytes=400)  # two entries of 183 bytes
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
    from avn_kb.validate.cache import _store

    store = Store.open(tmp_path / "store")
    assert store is not None
    _store(store, "unpicklable", lambda: None)
    _store(store, "picklable", {"a": 1})
    assert sorted(p.name for p in store.directory.iterdir()) == [".gitignore", "CACHEDIR.TAG", "picklable"]
