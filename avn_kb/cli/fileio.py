"""Writing files without ever leaving a partial one, and without writing anywhere but a file:
write a temporary file beside the target, then rename it over the target (atomic on POSIX).

The target must be a regular file or a new name in an existing folder. A symbolic link (even to a
regular file), a named pipe, a socket, a device (`/dev/full`, `/dev/null`) or a directory there is
refused and left untouched: renaming over it would replace the link or the device node with a
regular file, which is never what `-o` asks for. The target is looked at with `lstat` (links are
never followed), once before the temporary file is made and again just before the rename, so that
something put there meanwhile is refused too."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


class RefusedTarget(OSError):
    """The target exists and is not a regular file (or its folder is missing): nothing was written.
    `strerror` says why and what to do, so the caller's "cannot write X: reason" line reads whole."""

    def __init__(self, path: Path, reason: str, code: int = errno.EEXIST) -> None:
        super().__init__(code, reason, str(path))


def write_atomic(path: Path, content: str) -> None:
    """Replace the regular file `path` (or create it) with `content` in one step; an interrupted
    run leaves the old file intact. An existing file keeps its permission bits. Raises
    RefusedTarget when `path` is not a regular file or a new name in an existing folder, and
    OSError when the folder cannot be written."""
    _mode_for(path)  # refused before anything is made
    target = AtomicFile(path)
    try:
        target.write(content.encode("utf-8"))
    except BaseException:
        target.discard()
        raise
    target.commit()


class AtomicFile:
    """A file written piece by piece beside `path` that replaces it only at `commit` (what
    write_atomic does for content in hand, for content that comes as it is made: a batch's
    answers, without holding them all). `path` is judged at commit, as write_atomic judges it;
    the folder must exist (OSError otherwise). Until then `discard` leaves everything as it was."""

    def __init__(self, path: Path) -> None:
        self.path = path
        handle, self.temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self.out = os.fdopen(handle, "wb")

    def write(self, data: bytes) -> None:
        self.out.write(data)

    def commit(self) -> None:
        """Replace `path` with what was written; RefusedTarget (and nothing replaced) as write_atomic."""
        try:
            # mkstemp makes the file private (0600); give it the target's mode, or a plain open()'s.
            os.fchmod(self.out.fileno(), _mode_for(self.path))
            self.out.flush()
            os.fsync(self.out.fileno())
            self.out.close()
            # Something may have been put at `path` while we wrote: look again, as late as we can.
            _mode_for(self.path)
            os.replace(self.temporary, self.path)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        self.out.close()
        Path(self.temporary).unlink(missing_ok=True)


def _mode_for(path: Path) -> int:
    """The permission bits the written file gets: the existing regular file's, or those of a new
    file under the umask. Raises RefusedTarget for anything else at `path` or a missing folder."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        _require_folder(path.parent)
        return _new_file_mode()
    if stat.S_ISREG(info.st_mode):
        return stat.S_IMODE(info.st_mode)
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
    raise RefusedTarget(path, f"it is {kind}, not a regular file: give the name of a regular file or a new one")


def _require_folder(folder: Path) -> None:
    # A missing folder is a typo as often as not: say so rather than create it (render creates
    # its own output directory, on purpose, before writing into it).
    if not os.path.isdir(folder):
        raise RefusedTarget(folder, f"the folder {folder} does not exist: create it first", errno.ENOENT)


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
