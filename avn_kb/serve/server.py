"""Running the service: uvicorn on one socket, in this process or in N forked workers.

With one worker the service runs here. With several, this process binds the socket, forks the
workers (each inherits the knowledge already loaded and validated, and serves the shared socket),
forwards SIGHUP to them (each reloads on its own, keeping its old knowledge when the new one does
not load) and reloads too, so that a worker it starts again after a crash starts from the newest
good knowledge. SIGINT and SIGTERM stop the workers, then this process. uvicorn's own supervisor
is not used: on SIGHUP it restarts its workers, which would stop answering when the new knowledge
is broken."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence

import uvicorn
from starlette.routing import BaseRoute

from avn_kb.serve.app import create_app
from avn_kb.serve.limits import Limits
from avn_kb.serve.reload import KnowledgeHolder

log = logging.getLogger("avn_kb.serve")


def configure_logging(level: str) -> None:
    """The service's own messages on stderr, beside uvicorn's."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("avn_kb")
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())


def _config(holder: KnowledgeHolder, limits: Limits, routes: Sequence[BaseRoute], log_level: str,
            **where: object) -> uvicorn.Config:
    return uvicorn.Config(create_app(holder, limits, routes), log_level=log_level, access_log=False,
                          timeout_graceful_shutdown=10, **where)  # type: ignore[arg-type]


def serve(holder: KnowledgeHolder, host: str, port: int, workers: int = 1, limits: Limits | None = None,
          routes: Sequence[BaseRoute] = (), log_level: str = "info") -> int:
    """Serve until stopped; the exit status (0 after a clean stop)."""
    configure_logging(log_level)
    limits = limits or Limits()
    if workers <= 1:
        server = uvicorn.Server(_config(holder, limits, routes, log_level, host=host, port=port))
        server.run()
        return 0 if server.started else 2
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, as uvicorn's own socket does: asyncio sets TCP_NODELAY only on sockets that
    # say so, and without it every small answer waits for a delayed acknowledgement (about 40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    log.info("avn-kb serve on http://%s:%d with %d workers (send SIGHUP to process %d to reload)",
             host, sock.getsockname()[1], workers, os.getpid())
    return _supervise(lambda: _worker(holder, limits, routes, log_level, sock), workers, holder)


def _worker(holder: KnowledgeHolder, limits: Limits, routes: Sequence[BaseRoute], log_level: str,
            sock: socket.socket) -> None:
    # Until the application takes SIGHUP for reloads, one must not stop the worker.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    server = uvicorn.Server(_config(holder, limits, routes, log_level))
    server.run(sockets=[sock])
    os._exit(0 if server.started else 2)


def _fork(run: Callable[[], None]) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            run()
        finally:
            os._exit(3)  # reached only if run() raised: the worker must never return into the parent's code
    return pid


def _supervise(run: Callable[[], None], workers: int, holder: KnowledgeHolder) -> int:
    """Keep `workers` children running `run` until SIGINT or SIGTERM."""
    children = {_fork(run) for _ in range(workers)}
    stopping = False
    hangups = 0

    def stop(number: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    def hangup(number: int, frame: object) -> None:
        nonlocal hangups
        hangups += 1

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, hangup)
    while not stopping:
        if hangups:
            hangups = 0
            for pid in children:
                _signal(pid, signal.SIGHUP)
            holder.reload()
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid, status = 0, 0
        if pid in children:
            children.discard(pid)
            log.error("worker %d stopped (status %d); starting another", pid, status)
            time.sleep(0.5)  # a worker that cannot start must not make this a busy loop
            children.add(_fork(run))
        time.sleep(0.1)
    for pid in children:
        _signal(pid, signal.SIGTERM)
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    return 0


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass
