"""`avn-kb query --batch FILE`: one answer per line of a JSON Lines file of cases (the line format
in avn_kb.load.batch), streamed as it goes; a bad line is reported on stderr with file:line and
skipped, and the run ends with exit 2 if any line was bad."""

from __future__ import annotations

import datetime as dt
import json
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


def run_batch(ready: Readiness, batch: str, defaults: Defaults, out: BatchOutput) -> int:
    """Answer every line of `batch` ('-': standard input); the exit code."""
    kb = ready.kb
    assert kb.vocabulary is not None
    if batch != "-" and not os.path.lexists(batch):
        usage("query", f"--batch {batch}: no such file")
    index, bad, writer = Index(kb), 0, _Writer(out.output)
    if out.compact:
        writer.write(json.dumps(header(kb, defaults.statuses, ready.problems), ensure_ascii=False) + "\n")
    progress = sys.stderr.isatty() and batch != "-"
    total = sum(1 for _ in _lines(batch)) if progress else 0
    with click.progressbar(length=total, label="cases", file=sys.stderr) if progress else _NullBar() as bar:
        for number, text in _lines(batch):
            bar.update(1)
            if text is None:
                bad += 1
                click.echo(f"avn-kb query: {batch}:{number}: not UTF-8 text: save the batch as UTF-8", err=True)
                continue
            if not text.strip():
                continue
            line, errors = batch_line(kb.vocabulary, text, f"{batch}:{number}")
            if errors or line is None:
                bad += 1
                for error in errors:
                    click.echo(f"avn-kb query: {error}", err=True)
                continue
            resolution = resolve(kb, line.facts, as_of=line.as_of or defaults.day, statuses=defaults.statuses,
                                 index=index, explain=defaults.explain)
            data = as_data(kb, resolution, line.audience or defaults.audience, defaults.explain, defaults.show_all,
                           ready.problems)
            data["line"] = number
            if line.id is not None:
                data["id"] = line.id
            writer.write(json.dumps(compact(data), ensure_ascii=False) + "\n" if out.compact
                         else answers.batch_entry(kb, data, out.fmt))
    writer.close()
    return EXIT_USAGE if bad else EXIT_OK


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
