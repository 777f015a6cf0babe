"""The rendered page in a real headless Chromium (Debian's `chromium`): it loads without console
errors or network requests, every citation lands on a reference, the clinician / patient toggle
switches the wording, it reads without JavaScript, and a planted <script> stays text. Screenshots
are saved under test-artifacts/ (render-*.png) for a person to look at.

Chromium is driven over its DevTools protocol with the small websocket client below, so the test
needs no extra Python packages. Install the browser with `apt-get install -y chromium`; without it
the tests are skipped. AVN_KB_CHROMIUM names another binary."""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner

from avn_kb.cli.site import render
from avn_kb.load.knowledge import load_knowledge
from avn_kb.output.graph import graph_of
from avn_kb.output.site.layout import layout
from tests.conftest import MINI, ROOT, SHIPPED

CHROMIUM = Path(os.environ.get("AVN_KB_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-proxy-server",
         "--hide-scrollbars", "--window-size=1280,900"]

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} is not installed: install Debian's "
                                "chromium (apt-get install -y chromium) to run the browser tests")


class DevTools:
    """A minimal websocket client (RFC 6455, text frames) speaking the Chrome DevTools protocol."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url: str) -> None:
        where = urlparse(url)
        self.sock = socket.create_connection((where.hostname, where.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {where.path} HTTP/1.1\r\nHost: {where.hostname}:{where.port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self._exactly(1)
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        assert b" 101 " in head.split(b"\r\n")[0] and accept.encode() in head, head
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            data += chunk
        return data

    def _send(self, payload: bytes, opcode: int = 1) -> None:
        size = len(payload)
        header = bytes([0x80 | opcode])
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", size)
        mask = os.urandom(4)  # a client must mask every frame
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _message(self) -> dict[str, Any]:
        parts = b""
        while True:
            first, second = self._exactly(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._exactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._exactly(8))[0]
            mask = self._exactly(4) if second & 0x80 else b""
            payload = self._exactly(size)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = first & 0x0F
            if opcode == 8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode == 9:
                self._send(payload, opcode=10)
                continue
            if opcode in (0, 1, 2):
                parts += payload
                if first & 0x80:
                    return dict(json.loads(parts))

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}).encode())
        while True:
            message = self._message()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["method"] == method:
                    self.events.remove(event)
                    return event
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout}s")
            message = self._message()
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate and wait for the load event, forgetting earlier events."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the element."""
        box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
                            "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", **params)["data"]))

    def close(self) -> None:
        self.sock.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _render(kb: Path, out: Path) -> None:
    result = CliRunner().invoke(render, ["--kb", str(kb), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shipped knowledge base and a mini copy with a planted script, rendered and served."""
    root = tmp_path_factory.mktemp("site")
    _render(SHIPPED, root / "shipped")
    planted = root / "planted-kb"
    shutil.copytree(MINI, planted)
    offloading = planted / "recommendations" / "offloading.yaml"
    offloading.write_text(offloading.read_text().replace(
        "statement: Protected weight bearing",
        "statement: <script>window.planted = 1</script> Protected weight bearing"))
    _render(planted, root / "planted")
    server, url = _serve(root)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    log = (profile.parent / "chromium.log").open("wb")
    process = subprocess.Popen([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=log)
    try:
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chromium did not start (see {log.name})")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        targets = json.load(opener.open(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = next(t for t in targets if t["type"] == "page")
        devtools = DevTools(page["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            devtools.call(f"{domain}.enable")
        yield devtools
        devtools.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _problems(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event["method"], event["params"]
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
            found.append(f"console.{params['type']}: {params['args']}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            found.append(f"{params['entry']['source']}: {params['entry']['text']}")
    return found


def test_page_loads_without_console_errors_or_network(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/index.html")
    requested = [e["params"]["request"]["url"] for e in browser.events if e["method"] == "Network.requestWillBeSent"]
    assert _problems(browser.events) == []
    assert requested == [f"{site}/shipped/index.html"]  # no style sheet, font, script or icon fetched
    assert browser.evaluate("document.querySelector('h1').textContent").startswith("Offloading, resistive training")
    kb = load_knowledge(SHIPPED, "knowledge").kb
    assert browser.evaluate("document.querySelectorAll('article.rec').length") == len(kb.recommendations)


def test_every_citation_lands_on_a_reference(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/index.html")
    landings = browser.evaluate("""(() => Array.from(document.querySelectorAll('a[href^="#ref-"]')).map(link => {
        link.click();
        const target = document.querySelector(':target');
        const top = target ? target.getBoundingClientRect().top : null;
        return [link.getAttribute('href'), link.textContent, target && target.id, target && target.tagName,
                target && target.closest('ol.refs') !== null, top !== null && top >= 0 && top < innerHeight];
    }))()""")
    kb = load_knowledge(SHIPPED, "knowledge").kb
    assert len(landings) == sum(len({c.ref for c in rec.citations}) for rec in kb.recommendations)
    for href, text, target_id, tag, in_list, visible in landings:
        assert (target_id, tag, in_list, visible) == (href[1:], "LI", True, True), (href, text)
        assert text == f"[{href.removeprefix('#ref-')}]"
    numbers = browser.evaluate("Array.from(document.querySelectorAll('ol.refs > li')).map(li => li.id)")
    assert numbers == [f"ref-{n}" for n in range(1, len(numbers) + 1)]
    assert _problems(browser.events) == []


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, path


def _visible(browser: DevTools, selector: str) -> bool:
    return bool(browser.evaluate(f"document.querySelector({json.dumps(selector)}).checkVisibility()"))


def test_toggle_switches_wording_from_clinician_to_patient(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/index.html")
    first = "#rec-OF-001"
    assert _visible(browser, f"{first} .wording.clinician") and not _visible(browser, f"{first} .wording.patient")
    text = browser.evaluate(f"document.querySelector('{first}').innerText")
    assert "consider protected weight bearing with a cane or crutches" in text
    assert "Taking weight off" not in text and "In plain language" not in text
    browser.screenshot(ARTIFACTS / "render-clinician.png")
    browser.screenshot(ARTIFACTS / "render-full-page.png", full_page=True)
    _assert_png(ARTIFACTS / "render-clinician.png")
    _assert_png(ARTIFACTS / "render-full-page.png")

    browser.click("button[data-audience-choice='patient']")
    assert browser.evaluate("document.documentElement.dataset.audience") == "patient"
    pressed = "document.querySelector(\"[data-audience-choice='patient']\").getAttribute('aria-pressed')"
    assert browser.evaluate(pressed) == "true"
    assert not _visible(browser, f"{first} .wording.clinician") and _visible(browser, f"{first} .wording.patient")
    shown = browser.evaluate("Array.from(document.querySelectorAll('.wording.clinician'))"
                             ".filter(e => e.checkVisibility()).length")
    assert shown == 0
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(ARTIFACTS / "render-patient.png")
    _assert_png(ARTIFACTS / "render-patient.png")

    browser.click("button[data-audience-choice='clinician']")
    assert _visible(browser, f"{first} .wording.clinician") and not _visible(browser, f"{first} .wording.patient")
    assert _problems(browser.events) == []


def test_figures_are_drawn(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/index.html")
    browser.evaluate("document.getElementById('figures').scrollIntoView()")
    browser.screenshot(ARTIFACTS / "render-figures.png")
    _assert_png(ARTIFACTS / "render-figures.png")
    boxes = browser.evaluate("Array.from(document.querySelectorAll('svg.graph a.node')).map(a => "
                             "[a.getAttribute('href'), a.getBBox().width > 0, "
                             "!!document.querySelector(a.getAttribute('href'))])")
    # Every box of the layout is drawn and links to its recommendation (the shipped graph grows with
    # the content, so the ids come from the layout rather than a list written down once).
    drawn = layout(graph_of(load_knowledge(SHIPPED, "knowledge").kb))
    assert len(drawn.nodes) > 8
    assert sorted(boxes) == sorted([f"#rec-{node.id}", True, True] for node in drawn.nodes)
    assert browser.evaluate("document.querySelectorAll('table.coverage tbody tr').length") == 6


def test_without_javascript_the_clinician_text_shows(browser: DevTools, site: str) -> None:
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.open(f"{site}/shipped/index.html")
        assert _visible(browser, "#rec-OF-001 .wording.clinician")
        assert _visible(browser, "#rec-OF-001 .wording.patient")  # labelled "In plain language" beneath it
        assert not _visible(browser, "#audience")  # no toggle that could not work
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", value=False)


def test_a_planted_script_stays_text(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/planted/index.html")
    assert browser.evaluate("typeof window.planted") == "undefined"
    assert browser.evaluate("document.querySelector('#rec-OF-001 .wording.clinician').textContent").startswith(
        "<script>window.planted = 1</script> Protected weight bearing")
    assert _problems(browser.events) == []
