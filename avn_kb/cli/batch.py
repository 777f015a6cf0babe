"""`avn-kb query --batch FILE`: one answer per line of a JSON Lines file of cases (the line format
in avn_kb.load.batch), streamed as it goes; a bad line is reported on stderr with file:line and
skipped, and the run ends with exit 2 if any line was bad."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import click

from avn_kb.cli import EXIT_OK, EXIT_USAGE, emit, stdout_failed, usage
from avn_kb.load.batch import batch_line
from avn_kb.output import answers
from avn_kb.output.answers.compact import compact, header
from avn_kb.output.answers.data import as_data
from avn_kb.resolve.resolver import Index, resolve
from avn_kb.validate.readiness import Readiness


@dataclass(frozen=True)
class Defaults:
    """What the command line says for every case; a line's own as_of and audience win."""

    day: dt.date | None
    statuses: tuple[str, ...]
    audience: str
    explain: bool
    show_all: bool


@dataclass(frozen=True)
class BatchOutput:
    fmt: str
    compact: bool
    output: str | None


class _Writer:
    """Answers to stdout as they come, or gathered for one atomic write to --output."""

    def __init__(self, output: str | None) -> None:
        self.output = output
        self.gathered: list[str] = []
        self.stream: TextIO | None = sys.stdout if output is None else None

    def write(self, text: str) -> None:
        if self.stream is None:
            self.gathered.append(text)
            return
        try:
            self.stream.write(text)
        except OSError as err:
            stdout_failed(err)

    def close(self) -> None:
        if self.output is not None:
            emit("".join(self.gathered), self.output)
            return
        try:
            sys.stdout.flush()
        except OSError as err:
            stdout_failed(err)


@dataclass(frozen=True)
class _Job:
    """What answering one line needs: built once, before the workers are forked (they share it)."""

    ready: Readiness
    index: Index
    batch: str
    defaults: Defaults
    out: BatchOutput


# Set in the parent just before the workers fork, so that they inherit it instead of receiving it.
_JOB: _Job | None = None
CHUNK = 256  # lines a worker answers at a time: large enough to amortise the hand-over


def run_batch(ready: Readiness, batch: str, defaults: Defaults, out: BatchOutput, jobs: int = 1) -> int:
    """Answer every line of `batch` ('-': standard input) with `jobs` processes (the same output,
    in the same order, as one); the exit code."""
    kb = ready.kb
    assert kb.vocabulary is not None
    if batch != "-" and not os.path.lexists(batch):
        usage("query", f"--batch {batch}: no such file")
    job, bad, writer = _Job(ready, Index(kb), batch, defaults, out), 0, _Writer(out.output)
    if out.compact:
        writer.write(json.dumps(header(kb, defaults.statuses, ready.problems), ensure_ascii=False) + "\n")
    progress = sys.stderr.isatty() and batch != "-"
    total = sum(1 for _ in _lines(batch)) if progress else 0
    with click.progressbar(length=total, label="cases", file=sys.stderr) if progress else _NullBar() as bar:
        for answered in _answered(job, jobs):
            bar.update(len(answered))
            for text, errors in answered:
                bad += 1 if errors else 0
                for error in errors:
                    click.echo(f"avn-kb query: {error}", err=True)
                if text:
                    writer.write(text)
    writer.close()
    return EXIT_USAGE if bad else EXIT_OK


def _answered(job: _Job, jobs: int) -> Iterator[list[tuple[str, list[str]]]]:
    """The answers, chunk by chunk in input order: here, or by `jobs` forked workers."""
    chunks = _chunks(_lines(job.batch))
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from (_answer_chunk(chunk, job) for chunk in chunks)
        return
    global _JOB
    _JOB = job
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            yield from pool.imap(_answer_in_worker, chunks)
    finally:
        _JOB = None


def _chunks(lines: Iterator[tuple[int, str | None]]) -> Iterator[list[tuple[int, str | None]]]:
    chunk: list[tuple[int, str | None]] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _answer_in_worker(chunk: list[tuple[int, str | None]]) -> list[tuple[str, list[str]]]:
    assert _JOB is not None, "the job is set before the workers fork"
    return _answer_chunk(chunk, _JOB)


def _answer_chunk(chunk: list[tuple[int, str | None]], job: _Job) -> list[tuple[str, list[str]]]:
    return [_answer(number, text, job) for number, text in chunk]


def _answer(number: int, text: str | None, job: _Job) -> tuple[str, list[str]]:
    """(what to write, the problems to report) for one line of the batch."""
    kb, defaults, out = job.ready.kb, job.defaults, job.out
    assert kb.vocabulary is not None
    if text is None:
        return "", [f"{job.batch}:{number}: not UTF-8 text: save the batch as UTF-8"]
    if not text.strip():
        return "", []
    line, errors = batch_line(kb.vocabulary, text, f"{job.batch}:{number}")
    if errors or line is None:
        return "", [str(error) for error in errors] or [f"{job.batch}:{number}: cannot read the line"]
    resolution = resolve(kb, line.facts, as_of=line.as_of or defaults.day, statuses=defaults.statuses,
                         index=job.index, explain=defaults.explain)
    data = as_data(kb, resolution, line.audience or defaults.audience, defaults.explain, defaults.show_all,
                   job.ready.problems, references=not out.compact)
    data["line"] = number
    if line.id is not None:
        data["id"] = line.id
    if out.compact:
        return json.dumps(compact(data), ensure_ascii=False) + "\n", []
    return answers.batch_entry(kb, data, out.fmt), []


def _lines(batch: str) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of a JSONL batch; text is None for a line that is not UTF-8 (reported,
    never silently replaced). A byte-order mark at the start is dropped. A batch that cannot be
    read (a directory, no permission, an I/O error) is exit 2 naming it."""
    try:
        stream = sys.stdin.buffer if batch == "-" else open(batch, "rb")
    except OSError as err:
        usage("query", f"cannot read {batch}: {err.strerror or err}")
    try:
        for number, raw in enumerate(_read_or_exit(stream, batch), start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _read_or_exit(stream: Any, batch: str) -> Iterator[bytes]:
    """The lines of `stream`; a failure to read them midway is exit 2 (the answers so far stand)."""
    while True:
        try:
            raw = stream.readline()
        except OSError as err:
            usage("query", f"cannot read {'standard input' if batch == '-' else batch}: {err.strerror or err}")
        if not raw:
            return
        yield raw


class _NullBar:
    def __enter__(self) -> _NullBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, _: int) -> None:
        return None
