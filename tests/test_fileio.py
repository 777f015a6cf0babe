"""avn_kb/fileio.py: write_atomic writes only a regular file or a new name, never through or over
anything else, and leaves no temporary file behind. The CLI's use of it (-o, render) runs in real
processes in tests/test_exit_codes.py."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from avn_kb.cli.fileio import RefusedTarget, write_atomic


def link_to_real_file(tmp_path: Path) -> Path:
    (tmp_path / "real.txt").write_text("kept\n")
    (tmp_path / "out").symlink_to(tmp_path / "real.txt")
    return tmp_path / "out"


def _dangling_link(tmp_path: Path) -> Path:
    (tmp_path / "out").symlink_to(tmp_path / "nowhere.txt")
    return tmp_path / "out"


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "out")
    return tmp_path / "out"


def _device(tmp_path: Path) -> Path:
    """A device like /dev/null. As root, a node of our own in tmp_path: were the refusal broken, the
    machine's /dev/null would be replaced by a regular file. Without root it cannot be replaced."""
    if os.geteuid() != 0:
        return Path("/dev/null")
    node = tmp_path / "out"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError as err:
        pytest.skip(f"cannot make a device node here: {err}")
    return node


def _directory(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    return tmp_path / "out"


def _socket(tmp_path: Path) -> Path:
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "out"))
    except OSError as err:
        pytest.skip(f"cannot make a socket here: {err}")
    finally:
        server.close()
    return tmp_path / "out"


# What can be at the path, made in a folder, and how the refusal names it (tests/test_exit_codes.py too).
KINDS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "symbolic link to a regular file": (link_to_real_file, "a symbolic link"),
    "dangling symbolic link": (_dangling_link, "a symbolic link"),
    "named pipe": (_fifo, "a named pipe"),
    "device": (_device, "a device"),
    "directory": (_directory, "a directory"),
    "socket": (_socket, "a socket"),
}


def state_of(path: Path) -> tuple[int, int, int, str | None]:
    info = os.lstat(path)
    return info.st_mode, info.st_ino, info.st_rdev, os.readlink(path) if path.is_symlink() else None


@pytest.mark.parametrize("kind", list(KINDS))
def test_anything_but_a_regular_file_is_refused_and_left_untouched(tmp_path: Path, kind: str) -> None:
    make, named = KINDS[kind]
    target = make(tmp_path)
    before = state_of(target), sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(RefusedTarget) as raised:
        write_atomic(target, "new\n")
    assert raised.value.strerror == f"it is {named}, not a regular file: give the name of a regular file or a new one"
    assert raised.value.filename == str(target)
    assert (state_of(target), sorted(p.name for p in tmp_path.iterdir())) == before
    if kind == "symbolic link to a regular file":
        assert (tmp_path / "real.txt").read_text() == "kept\n"


def test_a_missing_folder_is_named_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(RefusedTarget) as raised:
        write_atomic(tmp_path / "out" / "report.txt", "new\n")
    assert raised.value.strerror == f"the folder {tmp_path / 'out'} does not exist: create it first"
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_a_new_file_gets_the_mode_of_a_plain_open(tmp_path: Path) -> None:
    umask = os.umask(0o027)
    try:
        write_atomic(tmp_path / "report.txt", "new\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "report.txt").stat().st_mode) == 0o640


def test_the_temporary_file_is_made_in_the_target_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folders: list[Any] = []
    real = tempfile.mkstemp

    def recording(*args: Any, **kwargs: Any) -> tuple[int, str]:
        folders.append(kwargs["dir"])
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", recording)
    (tmp_path / "sub").mkdir()
    write_atomic(tmp_path / "sub" / "report.txt", "new\n")
    assert folders == [tmp_path / "sub"]


@pytest.mark.parametrize("planted", ["link", "fifo"])
def test_something_put_at_the_target_while_writing_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              planted: str) -> None:
    """The check before the rename catches a link or a pipe that appeared after the first check."""
    target = tmp_path / "report.txt"
    (tmp_path / "real.txt").write_text("kept\n")
    real = tempfile.mkstemp

    def racing(*args: Any, **kwargs: Any) -> tuple[int, str]:
        made = real(*args, **kwargs)
        if planted == "link":
            target.symlink_to(tmp_path / "real.txt")
        else:
            os.mkfifo(target)
        return made

    monkeypatch.setattr(tempfile, "mkstemp", racing)
    with pytest.raises(RefusedTarget):
        write_atomic(target, "new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.txt", "report.txt"]
    assert target.is_symlink() if planted == "link" else stat.S_ISFIFO(os.lstat(target).st_mode)
    assert (tmp_path / "real.txt").read_text() == "kept\n"
