"""Where `avn-kb query --batch` writes its answers: standard output as they come, or a temporary
file beside --output that replaces it at the end (atomically, as every -o). When that file cannot
be made (a missing folder, no permission) the answers are gathered and `emit` says why at the end,
as for any -o. The answers are bytes, encoded once where they were made (by a worker, with --jobs)."""

from __future__ import annotations

import errno
import fcntl
import io
import os
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from avn_kb.cli import command_name, emit, stdout_failed, usage
from avn_kb.cli.fileio import AtomicFile


def _iov_max() -> int:
    try:
        return max(16, os.sysconf("SC_IOV_MAX"))
    except (ValueError, OSError):
        return 1024


IOV_MAX = _iov_max()  # buffers one writev takes


class Writer:
    def __init__(self, output: str | None) -> None:
        self.output = output
        self.gathered: list[bytes] = []
        self.file: AtomicFile | None = None
        self.stream: BinaryIO | None = None
        if output is None:
            try:
                sys.stdout.flush()  # whatever its text layer holds goes first
            except OSError as err:
                stdout_failed(err)
            self.stream = getattr(sys.stdout, "buffer", None)
        else:
            try:
                self.file = AtomicFile(Path(output))
            except OSError:
                self.file = None

    def write(self, pieces: Sequence[bytes]) -> None:
        if self.file is not None:
            out = self.file.out
            self._file_step(lambda: write_pieces(out, pieces))
        elif self.output is not None:
            self.gathered += pieces
        else:
            try:
                if self.stream is not None:
                    write_pieces(self.stream, pieces)
                else:  # a text-only stdout (embedded): the same characters
                    sys.stdout.write(b"".join(pieces).decode("utf-8"))
            except OSError as err:
                stdout_failed(err)

    def positional(self) -> tuple[int, int] | None:
        """(file descriptor, offset) when the answers go to a regular file that others may write
        at given offsets (os.pwrite), everything written so far flushed to it; None for a pipe, a
        terminal, a file opened to append (where pwrite appends) or gathered answers."""
        target = self.file.out if self.file is not None else self.stream
        if target is None:
            return None
        try:
            target.flush()
            descriptor = target.fileno()
            if not stat.S_ISREG(os.fstat(descriptor).st_mode) or fcntl.fcntl(descriptor, fcntl.F_GETFL) & os.O_APPEND:
                return None
            return descriptor, target.tell()
        except (OSError, ValueError, io.UnsupportedOperation):
            return None

    def written_to(self, offset: int) -> None:
        """Others wrote up to `offset` (after `positional`): go on from there."""
        target = self.file.out if self.file is not None else self.stream
        assert target is not None
        try:
            target.seek(offset)
        except OSError as err:
            self.failed(err)

    def failed(self, err: OSError) -> None:
        """A write of the answers failed: exit 2 saying so, --output left as it was."""
        if self.output is None:
            stdout_failed(err)
        self.discard()
        usage(command_name(), f"cannot write {self.output}: {err.strerror or err}")

    def close(self) -> None:
        if self.file is not None:
            self._file_step(self.file.commit)
            self.file = None
        elif self.output is not None:
            emit(b"".join(self.gathered).decode("utf-8"), self.output)
        else:
            try:
                (self.stream or sys.stdout).flush()
            except OSError as err:
                stdout_failed(err)

    def discard(self) -> None:
        """Leave --output as it was (the run stopped before its end)."""
        if self.file is not None:
            self.file.discard()
            self.file = None

    def _file_step(self, step: Callable[[], object]) -> None:
        try:
            step()
        except OSError as err:
            self.failed(err)


def write_pieces(stream: BinaryIO, pieces: Sequence[bytes]) -> None:
    """`pieces` one after the other, as one write of their join would, without joining them: on
    the stream's file descriptor with writev (after what the stream holds), or through the
    stream where it has none (a test's buffer)."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        stream.write(b"".join(pieces))
        return
    stream.flush()
    write_all(descriptor, pieces)


def write_all(descriptor: int, pieces: Sequence[bytes], offset: int | None = None) -> None:
    """Every byte of `pieces` to the descriptor (at `offset` with pwritev, where given), in as few
    system calls as the system takes (at most IOV_MAX buffers each), however much each writes."""
    views = [memoryview(piece) for piece in pieces if piece]
    while views:
        batch = views[:IOV_MAX]
        written = os.writev(descriptor, batch) if offset is None else os.pwritev(descriptor, batch, offset)
        if not written:
            raise OSError(errno.EIO, "nothing could be written")
        if offset is not None:
            offset += written
        done = 0
        while done < len(views) and written >= len(views[done]):
            written -= len(views[done])
            done += 1
        views = views[done:]
        if written:
            views[0] = views[0][written:]
