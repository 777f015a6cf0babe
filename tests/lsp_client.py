"""A minimal language-server client, as an editor is one: JSON-RPC over the server's stdin and
stdout (Content-Length framed), answering the server's own requests (its configuration, capability
registration) and keeping every notification, the log included."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

Message = dict[str, Any]


class LanguageServer:
    """One running server. `settings` answers its `workspace/configuration` requests by section."""

    def __init__(self, command: list[str], settings: dict[str, Any]) -> None:
        self.settings = settings
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self.notifications: list[Message] = []
        self._incoming: queue.Queue[Message | None] = queue.Queue()
        self._next_id = 0
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            headers: dict[str, str] = {}
            while (line := stream.readline()) not in (b"\r\n", b"\n"):
                if not line:
                    self._incoming.put(None)
                    return
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            self._incoming.put(json.loads(stream.read(int(headers["content-length"]))))

    def _send(self, message: Message) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        """Send a request and wait for its answer (serving the server's requests meanwhile)."""
        self._next_id += 1
        sent = self._next_id
        self._send({"id": sent, "method": method, "params": params})
        answer = self.wait(lambda m: m.get("id") == sent and "method" not in m, timeout)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result")

    def wait(self, wanted: Callable[[Message], bool], timeout: float = 60) -> Message:
        """The next message `wanted` accepts; notifications on the way are kept."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self._incoming.get(timeout=min(0.5, max(deadline - time.monotonic(), 0.01)))
            except queue.Empty:
                continue
            if message is None:
                raise RuntimeError(f"the language server stopped: {self.stderr()}")
            if "method" in message and "id" in message:
                self._send({"id": message["id"], "result": self._answer(message)})
                continue
            if "method" in message:
                self.notifications.append(message)
            if wanted(message):
                return message
        raise TimeoutError(f"no awaited message from the language server within {timeout} s")

    def settle(self, seconds: float) -> None:
        """Serve the server for a while (late log messages, re-validations)."""
        try:
            self.wait(lambda m: False, seconds)
        except TimeoutError:
            pass

    def _answer(self, request: Message) -> Any:
        if request["method"] == "workspace/configuration":
            return [self.settings.get(item.get("section", ""), None) for item in request["params"]["items"]]
        return None  # client/registerCapability, window/workDoneProgress/create: acknowledged

    def open(self, path: Path, text: str | None = None) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": path.as_uri(), "languageId": "yaml", "version": 1,
            "text": path.read_text(encoding="utf-8") if text is None else text}})

    def diagnostics(self, path: Path, timeout: float = 60) -> list[Message]:
        """The diagnostics the server publishes for `path` (the first publication after opening it)."""
        uri = path.as_uri()
        for note in self.notifications:
            if note["method"] == "textDocument/publishDiagnostics" and note["params"]["uri"] == uri:
                found: list[Message] = note["params"]["diagnostics"]
                return found
        note = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri, timeout)
        published: list[Message] = note["params"]["diagnostics"]
        return published

    def log(self) -> list[str]:
        """What the server logged or showed, and its standard error so far."""
        shown = [str(n["params"].get("message", "")) for n in self.notifications
                 if n["method"] in ("window/logMessage", "window/showMessage")]
        return shown

    def stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode("utf-8", "replace")

    def close(self) -> str:
        """Shut the server down as an editor does; its standard error."""
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.process.wait(timeout=10)
        except (RuntimeError, TimeoutError, subprocess.TimeoutExpired, BrokenPipeError):
            self.process.kill()
            self.process.wait(timeout=10)
        errors = self.stderr()
        self._reader.join(timeout=10)  # it stops at the end of the server's output
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return errors
