"""A second process for work that a command's run can split: when forking is allowed, and the
frames the worker sends back through a pipe.

A fork is safe only in a process with one thread (another thread's locks would be held forever
in the child), and worth it only with a second core. Only a command that exits after its run
forks by itself (avn_kb/util/lifetime.py): the service and library callers never do unless
they ask (`jobs` 2 or more). Each frame is a pickle (the worker is this same program, forked:
what it sends is what this process would have built) preceded by its length. The reader never
blocks, so this process does its own share meanwhile; a worker that dies, or sends what does not
unpickle, has sent what it sent whole and nothing more.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable
from typing import Any

from avn_kb.util import lifetime

_FRAME = struct.Struct(">I")  # a frame: its pickle's length, then the pickle
PIPE_BYTES = 1 << 20  # room for what the worker sends before it is read (Linux: F_SETPIPE_SZ)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def may_fork(jobs: int | None) -> bool:
    """Whether a run asked to use `jobs` processes (None: as many as are worth it) may fork now."""
    if jobs == 1 or not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    return jobs is not None or (lifetime.process_ends_after_run() and usable_cores() > 1)


def write_frame(fd: int, value: object) -> None:
    """Send one value (blocks while the pipe is full)."""
    frame = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_FRAME.pack(len(frame)) + frame)
    while view:
        view = view[os.write(fd, view):]


class Worker:
    """A forked process running `work(write_fd)`, and the frames it sends."""

    def __init__(self, work: Callable[[int], None]) -> None:
        read, write = os.pipe()
        try:
            import fcntl

            fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (ImportError, AttributeError, OSError):  # pragma: no cover - a smaller pipe only waits more
            pass
        self.pid = os.fork()
        if self.pid == 0:  # the worker: never returns
            os.close(read)
            _work(work, write)
        os.close(write)
        os.set_blocking(read, False)
        self._read: int | None = read
        self._pending = bytearray()

    @property
    def open(self) -> bool:
        """Whether more frames may come."""
        return self._read is not None

    def frames(self) -> list[Any]:
        """The frames sent whole since the last call (never waits)."""
        while self._read is not None:
            try:
                chunk = os.read(self._read, PIPE_BYTES)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:  # the worker is done, or gone
                self.close()
                break
            self._pending += chunk
        found = []
        while len(self._pending) >= _FRAME.size:
            (size,) = _FRAME.unpack_from(self._pending)
            if len(self._pending) < _FRAME.size + size:
                break
            try:
                found.append(pickle.loads(self._pending[_FRAME.size:_FRAME.size + size]))
            except Exception:  # noqa: BLE001 - never from this program's worker; then nothing more is taken
                self.close()
                self._pending.clear()
                break
            del self._pending[:_FRAME.size + size]
        return found

    def close(self) -> None:
        """Stop the worker: whatever it is still doing, this process does or has done."""
        if self._read is not None:
            os.close(self._read)
            self._read = None
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):  # pragma: no cover - already reaped
                pass


def _work(work: Callable[[int], None], write: int) -> None:
    """In the worker: run, then exit without running anything of the parent's (no atexit
    handler, no buffered output written twice)."""
    code = 1
    try:
        work(write)
        code = 0
    except BaseException:  # noqa: BLE001, S110 - whatever happens, the parent does what it did not get
        pass
    finally:
        os._exit(code)
