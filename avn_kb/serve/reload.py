"""The knowledge the service answers from, and its reload on SIGHUP.

The service holds one Snapshot at a time. A request takes the current one once, at its start, and
answers from it to the end (avn_kb/serve/app.py puts it in the request's scope): a reload never
mixes two knowledge bases in one answer. A reload loads in a worker thread while the old snapshot
keeps answering; the new one replaces it in one assignment, and only when it loaded whole. When it
did not, the problems are logged and the old knowledge goes on answering."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from pathlib import Path

from avn_kb.serve.snapshot import Snapshot, load_snapshot, problems_text

log = logging.getLogger("avn_kb.serve")


class KnowledgeHolder:
    """The current snapshot of the knowledge directory `root` and the means to reload it."""

    def __init__(self, snapshot: Snapshot, root: Path, shown_root: str) -> None:
        self._current = snapshot
        self.root, self.shown_root = root, shown_root
        self._lock = threading.Lock()  # one reload at a time; a signal during one asks for another
        self._again = False
        self.reloads = 0               # reloads that swapped a new snapshot in
        self.failed_reloads = 0

    @property
    def current(self) -> Snapshot:
        """The snapshot to answer from (a reference read once: it is never changed in place)."""
        return self._current

    def reload(self) -> bool:
        """Load the directory again (blocking; call it from a thread). True when the new snapshot
        was swapped in; False when it did not load whole, and the old one stays."""
        swapped = False
        while True:
            if not self._lock.acquire(blocking=False):
                self._again = True  # the reload under way may have read the files before this change
                return False
            try:
                self._again = False
                swapped = self._reload_once()
            finally:
                self._lock.release()
            if not self._again:
                return swapped

    def _reload_once(self) -> bool:
        try:
            fresh = load_snapshot(self.root, self.shown_root)
        except Exception:  # noqa: BLE001 - a bug in loading must not stop the service answering
            log.exception("reload of %s failed with an internal error; still answering from %s (%s)",
                          self.shown_root, self._current.version, self._current.digest)
            self.failed_reloads += 1
            return False
        if not fresh.usable:
            for line in problems_text(fresh):
                log.error("reload: %s", line)
            log.error("reload of %s refused: it did not load whole; still answering from version %s (%s)",
                      self.shown_root, self._current.version, self._current.digest)
            self.failed_reloads += 1
            return False
        old, self._current = self._current, fresh
        self.reloads += 1
        log.info("reloaded %s: version %s (%s), was %s (%s)", self.shown_root, fresh.version, fresh.digest,
                 old.version, old.digest)
        return True


def watch_hangup(holder: KnowledgeHolder) -> bool:
    """Reload `holder` in a thread on each SIGHUP, from the running event loop. False where the
    loop cannot take signal handlers (not the main thread, or no SIGHUP on this system)."""
    loop = asyncio.get_running_loop()
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None:
        return False
    try:
        loop.add_signal_handler(hangup, lambda: loop.run_in_executor(None, holder.reload))
    except (RuntimeError, ValueError):
        return False
    log.info("send SIGHUP to reload %s", holder.shown_root)
    return True


def stop_watching() -> None:
    """Remove the SIGHUP handler of `watch_hangup` (at shutdown)."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is not None:
        try:
            asyncio.get_running_loop().remove_signal_handler(hangup)
        except (RuntimeError, ValueError):
            pass
