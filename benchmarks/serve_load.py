"""The decision service under load (issue 15): `python -m benchmarks.serve_load [--quick] [--out FILE]`.

`avn-kb serve` on the shipped knowledge base, on loopback; N concurrent clients (threads, each
with its own keep-alive connection, stdlib http.client) send one case per request, 10,000
requests per setting (1,000 with --quick). Measured: p50 and p99 latency as a client sees it,
throughput, errors (anything but 200, or an answer from knowledge other than the one served),
the server's resident memory (VmRSS, all its processes) at start and end; beside it
`avn-kb query --batch` on the same cases, process start to exit. The cases are the golden cases'
facts and each of them with one fact left out (so some answers are undecided), cycled. Before
timing, the service's answers to the distinct cases are checked equal to the batch's.

Writes its section of docs/performance.md (between its markers, added at the end the first time)
and nothing else; `make bench` runs it after benchmarks/run.py."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
KB = ROOT / "knowledge"
AS_OF = "2026-11-25"
START, END = "<!-- serve-load: start -->", "<!-- serve-load: end -->"
SETTINGS = ((1, 1), (1, 16), (2, 16))  # (workers, clients)


@dataclass(frozen=True)
class Load:
    workers: int
    clients: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    rss_start_mb: float
    rss_end_mb: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def the_cases() -> list[dict[str, Any]]:
    """The golden cases' facts, then each with one fact left out: distinct, valid cases."""
    from avn_kb.load.knowledge import load_knowledge

    kb = load_knowledge(KB, "knowledge").kb
    cases: list[dict[str, Any]] = [dict(case.facts) for case in kb.cases]
    for facts in list(cases):
        cases += [{k: v for k, v in facts.items() if k != left_out} for left_out in facts]
    unique = {json.dumps(case, sort_keys=True): case for case in cases}
    return list(unique.values())


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children (the workers), in MB."""
    total = 0
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, str, bytes]:
    connection.request("POST", "/v1/answers", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.getheader("AVN-KB-Knowledge-Digest") or "", response.read()


def start(workers: int, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    with open(log, "wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "avn_kb", "serve", "--kb", str(KB), "--port", str(port),
                                    "--workers", str(workers), "--log-level", "warning"], stdout=sink,
                                   stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 120
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return process, port
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"avn-kb serve did not start: {log.read_text(errors='replace')}")
        time.sleep(0.1)


def load(workers: int, clients: int, bodies: list[bytes], requests: int, work: Path) -> Load:
    process, port = start(workers, work / f"serve-{workers}-{clients}.log")
    try:
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        digest = post(warm, bodies[0])[1]
        for body in bodies[:50]:
            post(warm, body)
        warm.close()
        rss_start = rss_mb(process.pid)
        samples: list[float] = []
        errors = [0]
        lock = threading.Lock()
        counter = iter(range(requests))

        def client() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine, bad = [], 0
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    break
                began = time.perf_counter()
                try:
                    status, answered_by, _ = post(connection, bodies[n % len(bodies)])
                    bad += status != 200 or answered_by != digest
                except (OSError, http.client.HTTPException):
                    bad += 1
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                mine.append(time.perf_counter() - began)
            connection.close()
            with lock:
                samples.extend(mine)
                errors[0] += bad

        threads = [threading.Thread(target=client) for _ in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
        rss_end = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    samples.sort()
    return Load(workers, clients, len(samples), errors[0], seconds, samples[len(samples) // 2] * 1000,
                samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, rss_start, rss_end)


def batch(cases: list[dict[str, Any]], requests: int, work: Path) -> tuple[float, list[dict[str, Any]]]:
    """`avn-kb query --batch` on the same `requests` cases: wall seconds, and the answers."""
    lines = work / "cases.jsonl"
    lines.write_text("".join(json.dumps(cases[n % len(cases)]) + "\n" for n in range(requests)), encoding="utf-8")
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "avn_kb", "query", "--kb", str(KB), "--batch", str(lines),
                           "--as-of", AS_OF], capture_output=True, cwd=ROOT, check=True)
    seconds = time.perf_counter() - began
    return seconds, [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()[:len(cases)]]


def same_answers(cases: list[dict[str, Any]], expected: list[dict[str, Any]], work: Path) -> bool:
    """The service answers each distinct case as the batch does (less the batch's line number)."""
    process, port = start(1, work / "serve-check.log")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for case, answer in zip(cases, expected):
            status, _, body = post(connection, json.dumps({"facts": case, "as_of": AS_OF}).encode())
            answer = {k: v for k, v in answer.items() if k != "line"}
            if status != 200 or json.loads(body) != answer:
                return False
        return True
    finally:
        process.terminate()
        process.wait(timeout=30)


def section(results: list[Load], batch_seconds: float, requests: int, cases: int, checked: bool) -> str:
    cpu = platform.processor() or platform.machine()
    lines = [START, "## Decision service under load (`avn-kb serve`)", "",
             f"`python -m benchmarks.serve_load` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"{os.cpu_count()} CPUs ({cpu}), load average at start {os.getloadavg()[0]:.2f} (a shared machine: "
             "other jobs ran beside it). The service on the shipped knowledge base, on loopback; each client a "
             "thread with its own keep-alive connection (stdlib http.client) in the harness's process, one case "
             f"per request; {requests:,} requests per row, cycling over {cases} distinct cases (the golden cases' "
             "facts, and each with one fact left out). Latency is what a client sees, from sending to the last "
             "byte of the answer. An error is an answer other than 200, or one from knowledge with another digest.",
             "", f"Before timing: the service's answer to each distinct case equals `query --batch`'s: "
             f"{'yes' if checked else 'NO'}.", "",
             "| workers | clients | requests | errors | p50 ms | p99 ms | answers/s | RSS start MB | RSS end MB |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        lines.append(f"| {r.workers} | {r.clients} | {r.requests:,} | {r.errors} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
                     f"{r.per_second:,.0f} | {r.rss_start_mb:.0f} | {r.rss_end_mb:.0f} |")
    lines += ["", f"Beside it, `avn-kb query --batch` on the same {requests:,} cases (one process, start to exit, "
              f"loading included): {batch_seconds:.1f} s, {requests / batch_seconds:,.0f} answers/s. The batch "
              "pays no HTTP, JSON request parsing or thread hand-off per case; the service pays no start-up per "
              "request. On two shared cores the clients compete with the workers for the CPU, so a second worker "
              "adds less than it would on a machine of its own. RSS with workers is the sum over the main process and "
              "the workers (forked from it after loading), the pages they share counted in each.", END]
    return "\n".join(lines) + "\n"


def write_section(out: Path, text: str, start: str = START, end: str = END) -> None:
    """Put `text` in place of the section between the markers in `out`, or at its end."""
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end) + "\n?", re.DOTALL)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    out.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 requests per setting (writes nothing by default)")
    parser.add_argument("--requests", type=int, help="requests per setting (default 10,000; another number "
                        "writes nothing unless --out is given)")
    parser.add_argument("--out", type=Path, help="markdown report whose section to write (default for a full "
                        "run: docs/performance.md)")
    args = parser.parse_args(argv)
    requests = args.requests or (1_000 if args.quick else 10_000)
    full = not args.quick and args.requests is None
    out = args.out if args.out else (ROOT / "docs" / "performance.md" if full else None)
    cases = the_cases()
    with tempfile.TemporaryDirectory(prefix="avn-kb-serve-load-") as folder:
        work = Path(folder)
        batch_seconds, expected = batch(cases, requests, work)
        checked = same_answers(cases, expected, work)
        bodies = [json.dumps({"facts": case, "as_of": AS_OF}).encode() for case in cases]
        results = []
        for workers, clients in SETTINGS:
            print(f"serve load: {workers} worker(s), {clients} client(s), {requests:,} requests", flush=True)
            results.append(load(workers, clients, bodies, requests, work))
    text = section(results, batch_seconds, requests, len(cases), checked)
    print(text)
    if out:
        write_section(out, text)
        print(f"wrote its section of {out}")
    return 0 if checked and not any(r.errors for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
