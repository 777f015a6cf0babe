"""A directory of content-addressed entries that any number of processes may share.

An entry is one file named by its key (a hex digest of everything its value depends on); it holds
a header with the format version, the key again and a checksum of the payload. A read that fails,
or whose header or digest does not match, is a miss, never an error: the caller computes the
value again. Writes go to a private temporary file in the same directory and are renamed over
the entry, so a reader sees a whole old entry or a whole new one; when two runs race, the last
rename wins and both wrote the same value. Links are never followed: entries are opened with
O_NOFOLLOW, and a directory that is a link, not the user's own, or writable by others is not
used at all (its entries could have been written by someone else). The directory is kept under
a size: after a run has written, the entries used least recently go first.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
import zlib
from pathlib import Path

FORMAT = b"avn-kb-cache 2"  # 2: the payload checked by its CRC-32, not its SHA-256
MAX_BYTES = 200 * 1024 * 1024
MAX_ENTRIES = 5000
TEMPORARY_PREFIX = ".tmp-"
STALE_TEMPORARY_SECONDS = 3600  # a writer that died left it; no live writer takes this long

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_WRITE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                | getattr(os, "O_CLOEXEC", 0))
# Tell backup tools and git that the directory holds nothing worth keeping.
_MARKERS = {"CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n# avn-kb's cache: safe to delete.\n",
            ".gitignore": "# avn-kb's cache: safe to delete.\n*\n"}


def _own_uid() -> int | None:
    geteuid = getattr(os, "geteuid", None)
    return geteuid() if geteuid is not None else None


def _trusted(info: os.stat_result) -> bool:
    """Written only by this user: owned by them and writable by no one else."""
    uid = _own_uid()
    return (uid is None or info.st_uid == uid) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class Store:
    """The entries of one directory. Use `Store.open`, which says whether the directory may be used."""

    def __init__(self, directory: Path, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.written = 0

    @classmethod
    def open(cls, directory: Path, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> Store | None:
        """The store in `directory` (created, private to the user, if missing), or None when it
        cannot or must not be used: not creatable, a link, not a directory, not the user's own,
        or writable by the group or others."""
        try:
            created = not os.path.lexists(directory)
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.lstat(directory)
        except OSError:
            return None
        if not stat.S_ISDIR(info.st_mode) or not _trusted(info):
            return None
        for name, text in _MARKERS.items() if created else ():
            with contextlib.suppress(OSError):
                _write_new(directory / name, text.encode())
        return cls(directory, max_bytes, max_entries)

    def get(self, key: str) -> bytes | None:
        """The payload stored under `key`, or None: absent, unreadable, not a regular file of the
        user's own, or not verified by its header and digest."""
        try:
            descriptor = os.open(self.directory / key, _READ_FLAGS)
        except (OSError, ValueError):
            return None
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode) or not _trusted(info) or info.st_size > self.max_bytes:
                return None
            with os.fdopen(os.dup(descriptor), "rb") as handle:
                content = handle.read()
            with contextlib.suppress(OSError):
                os.utime(descriptor)  # recently used: pruned last (fails harmlessly on a read-only store)
        except OSError:
            return None
        finally:
            os.close(descriptor)
        return _verified(content, key)

    def put(self, key: str, payload: bytes) -> None:
        """Store `payload` under `key`; a store that cannot be written is left as it is, silently."""
        header = b"%s\n%s\n%s\n" % (FORMAT, key.encode(), _checksum(payload))
        temporary = self.directory / f"{TEMPORARY_PREFIX}{os.getpid()}-{os.urandom(6).hex()}"
        try:
            _write_new(temporary, header + payload)
            os.replace(temporary, self.directory / key)  # replaces a link itself, never its target
            self.written += 1
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def prune(self) -> None:
        """Remove the entries used least recently until the store is within its bounds; links
        and temporary files left by a writer that died go too."""
        entries: list[tuple[float, int, str]] = []
        now = time.time()
        try:
            with os.scandir(self.directory) as listing:
                for entry in listing:
                    if entry.name in _MARKERS:
                        continue
                    info = entry.stat(follow_symlinks=False)
                    stale = entry.name.startswith(TEMPORARY_PREFIX) and now - info.st_mtime > STALE_TEMPORARY_SECONDS
                    if stat.S_ISLNK(info.st_mode) or stale:
                        _unlink(self.directory / entry.name)
                    elif stat.S_ISREG(info.st_mode) and not entry.name.startswith(TEMPORARY_PREFIX):
                        entries.append((info.st_mtime, info.st_size, entry.name))
        except OSError:
            return
        entries.sort(reverse=True)
        total = 0
        for count, (_, size, name) in enumerate(entries, 1):
            total += size
            if count > self.max_entries or total > self.max_bytes:
                _unlink(self.directory / name)


def _verified(content: bytes, key: str) -> bytes | None:
    parts = content.split(b"\n", 3)
    if len(parts) != 4 or parts[0] != FORMAT or parts[1] != key.encode():
        return None
    payload = parts[3]
    return payload if _checksum(payload) == parts[2] else None


def _checksum(payload: bytes) -> bytes:
    """What an entry's header says of its payload, to tell a damaged entry (cut short, overwritten
    in part) from a whole one. A CRC-32, not a cryptographic digest: the directory is the user's
    own and no one else may write to it (`_trusted`), so no entry is forged, and at 100,000
    recommendations a warm run reads 150 MB of entries, which SHA-256 took twice as long to check."""
    return b"%08x" % zlib.crc32(payload)


def _write_new(path: Path, content: bytes) -> None:
    descriptor = os.open(path, _WRITE_FLAGS, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
