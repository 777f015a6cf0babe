"""Helpers for the service's tests: `avn-kb serve` started for real in a subprocess on a free
loopback port, stopped by the test, and a small stdlib HTTP client."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from referencing import Resource

from tests.conftest import ROOT, stop


def _shipped_version() -> str:
    import yaml

    return str(yaml.safe_load((ROOT / "knowledge" / "kb.yaml").read_text(encoding="utf-8"))["version"])


# The shipped knowledge base's version, and one after it (a reload in the tests).
SHIPPED_VERSION = _shipped_version()
NEXT_VERSION = ".".join([*SHIPPED_VERSION.split(".")[:2], str(int(SHIPPED_VERSION.split(".")[2]) + 1)])

# Where the tests place the schemas: the service's own /schema/ (the OpenAPI document's "$ref":
# "/schema/..." resolves there against the document's address, here https://avn-kb.org/serve/...).
SCHEMA_BASE = "https://avn-kb.org/schema/"


def schema_resources() -> list[tuple[str, Resource[Any]]]:
    """(uri, resource) of every schema in schema/, for a jsonschema registry."""
    return [(SCHEMA_BASE + path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8"))))
            for path in sorted((ROOT / "schema").glob("*.schema.json"))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    log: Path

    def request(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 60) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body).encode("utf-8"))
            sent = {"Content-Type": "application/json", **(headers or {})} if data is not None else dict(headers or {})
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                         response.read().decode("utf-8"))
        finally:
            connection.close()

    def post(self, body: Any, path: str = "/v1/answers") -> Reply:
        return self.request("POST", path, body)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def hangup(self) -> None:
        self.process.send_signal(signal.SIGHUP)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            assert self.process.poll() is None, self.log_text()
            assert time.monotonic() < deadline, f"{text!r} not in the log:\n{self.log_text()}"
            time.sleep(0.05)


def serve_command(kb: Path, port: int, *options: str) -> list[str]:
    return [sys.executable, "-m", "avn_kb", "serve", "--kb", str(kb), "--port", str(port), *options]


@contextmanager
def running(kb: Path, log: Path, *options: str) -> Iterator[Server]:
    """`avn-kb serve` on `kb` until the block ends; fails with the server's log if it does not come up."""
    port = free_port()
    with open(log, "w", encoding="utf-8") as sink:
        process = subprocess.Popen(serve_command(kb, port, *options), stdout=sink, stderr=subprocess.STDOUT,
                                   text=True, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"the server stopped (exit {process.returncode}):\n{server.log_text()}"
            try:
                if server.get("/healthz").status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"the server did not come up:\n{server.log_text()}"
            time.sleep(0.1)
        yield server
    finally:
        stop(process, grace=20)
