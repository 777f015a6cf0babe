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
from avn_kb.serve.cds import CdsOptions
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
            cds: CdsOptions | None = None, **where: object) -> uvicorn.Config:
    return uvicorn.Config(create_app(holder, limits, routes, cds=cds), log_level=log_level, access_log=False,
                          timeout_graceful_shutdown=10, **where)  # type: ignore[arg-type]


def listen(host: str, port: int) -> socket.socket:
    """The listening socket on `host`:`port` (0: any free port); OSError when it cannot be had (an
    address in use, or not this host's), for the caller to report."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, as uvicorn's own socket does: asyncio sets TCP_NODELAY only on sockets that
    # say so, and without it every small answer waits for a delayed acknowledgement (about 40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(holder: KnowledgeHolder, sock: socket.socket, workers: int = 1, limits: Limits | None = None,
          routes: Sequence[BaseRoute] = (), log_level: str = "info", cds: CdsOptions | None = None) -> int:
    """Serve on the listening socket `sock` (from `listen`) until stopped; the exit status (0 after
    a clean stop, 2 when the server could not start)."""
    configure_logging(log_level)
    limits = limits or Limits()
    host, port = sock.getsockname()[:2]
    log.info("avn-kb serve on http://%s:%d, %d worker(s); send SIGHUP to process %d to reload",
             host, port, workers, os.getpid())
    if workers > 1:
        return _supervise(lambda: _worker(holder, limits, routes, log_level, sock, cds), workers, holder)
    server = uvicorn.Server(_config(holder, limits, routes, log_level, cds, host=host, port=port))
    try:
        server.run(sockets=[sock])
    except SystemExit:  # uvicorn's way out of a failed start-up (it has logged why)
        return 2
    return 0 if server.started else 2


def _worker(holder: KnowledgeHolder, limits: Limits, routes: Sequence[BaseRoute], log_level: str,
            sock: socket.socket, cds: CdsOptions | None = None) -> None:
    # Until the application takes SIGHUP for reloads, one must not stop the worker.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    server = uvicorn.Server(_config(holder, limits, routes, log_level, cds))
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
    children: set[int] = set()
    started: dict[int, float] = {}
    stopping, failed, hangups, quick = False, False, 0, 0

    def _start() -> None:
        pid = _fork(run)
        children.add(pid)
        started[pid] = time.monotonic()

    def stop(number: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    def hangup(number: int, frame: object) -> None:
        nonlocal hangups
        hangups += 1

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, hangup)
    # After the handlers, so that a signal in between is not lost (each worker resets them).
    for _ in range(workers):
        _start()
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
            quick = quick + 1 if time.monotonic() - started.pop(pid, 0.0) < 10 else 0
            if quick >= 5:
                log.error("workers keep stopping at once (the last with status %d); giving up", status)
                stopping, failed = True, True
                continue
            log.error("worker %d stopped (status %d); starting another", pid, status)
            time.sleep(0.5)  # a worker that cannot start must not make this a busy loop
            _start()
        time.sleep(0.1)
    for pid in children:
        _signal(pid, signal.SIGTERM)
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    return 2 if failed else 0


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass
