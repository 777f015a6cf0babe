"""`avn-kb query --batch FILE`: one answer per line of a JSON Lines file of cases (the line format
in avn_kb.load.batch), streamed as it goes; a bad line is reported on stderr with file:line and
skipped, and the run ends with exit 2 if any line was bad."""

from __future__ import annotations

import itertools
import json
import os
import stat
import sys
from collections.abc import Generator, Iterator
from typing import Any, BinaryIO

import click

from avn_kb.cli import EXIT_OK, EXIT_USAGE, usage
from avn_kb.cli.batch_answers import Answered, Answers, BatchOutput, Defaults
from avn_kb.cli.batch_output import Writer
from avn_kb.output.answers.compact import header
from avn_kb.validate.readiness import Readiness

__all__ = ["BatchOutput", "Defaults", "run_batch"]

# Bytes of whole lines answered at a time (by one worker, with --jobs): large enough that handing
# a block over (about a millisecond through a process pool) costs little beside answering it
# (1,000 lines or so), small enough that two workers share even a short batch evenly.
BLOCK = 256 * 1024


def run_batch(ready: Readiness, batch: str, defaults: Defaults, out: BatchOutput, jobs: int = 1) -> int:
    """Answer every line of `batch` ('-': standard input) with `jobs` processes (the same output,
    in the same order, as one); the exit code."""
    kb = ready.kb
    assert kb.vocabulary is not None
    if batch != "-" and not os.path.lexists(batch):
        usage("query", f"--batch {batch}: no such file")
    answering, bad, writer = Answers(ready, batch, defaults, out), False, Writer(out.output)
    if out.compact:
        writer.write([(json.dumps(header(kb, defaults.statuses, ready.problems), ensure_ascii=False) + "\n")
                      .encode("utf-8")])
    progress = sys.stderr.isatty() and batch != "-"
    total = _count_lines(batch) if progress else 0
    answered_blocks = _answered(answering, jobs, writer)
    try:
        with click.progressbar(length=total, label="cases", file=sys.stderr) if progress else _NullBar() as bar:
            end = None
            for answered in answered_blocks:
                bar.update(answered.lines)
                bad = bad or bool(answered.errors)
                for error in answered.errors:
                    click.echo(f"avn-kb query: {error}", err=True)
                if answered.failure is not None:
                    writer.failed(OSError(*answered.failure))
                if answered.pieces:
                    writer.write(answered.pieces)
                end = answered.end if answered.end is not None else end
            if end is not None:
                writer.written_to(end)
        writer.close()
    finally:
        answered_blocks.close()  # the workers, if any, stopped now (a write failed: exit 2)
        writer.discard()
    return EXIT_USAGE if bad else EXIT_OK


def _answered(answering: Answers, jobs: int, writer: Writer) -> Generator[Answered, None, None]:
    """The answers, block by block in input order: here, or (after the first) by `jobs` forked
    workers (writing to the output themselves where it is a regular file, reading their blocks
    themselves where the batch is one)."""
    batch = answering.batch
    stream = _opened(batch)
    try:
        blocks = _blocks(stream, batch)
        if jobs > 1:
            from avn_kb.cli.batch_jobs import can_fork, in_parallel  # multiprocessing: only for jobs

            if can_fork():
                # The first block is answered here, before the workers fork, so that they inherit
                # what it rendered (a batch's presentations mostly show early: each worker would
                # otherwise render each of them once for itself); a batch of one block forks none.
                first = next(blocks, None)
                if first is None:
                    return
                yield answering.block(first[0], first[2])
                second = next(blocks, None)  # a Pool forks its workers when made, with or without work
                if second is None:
                    return
                readable = batch != "-" and stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
                yield from in_parallel(answering, itertools.chain([second], blocks), jobs, writer.positional(),
                                       stream.fileno() if readable else None)
                return
        yield from (answering.block(first, data) for first, _, data in blocks)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _opened(batch: str) -> BinaryIO:
    """The batch to read ('-': standard input); one that cannot be opened is exit 2 naming it."""
    try:
        return sys.stdin.buffer if batch == "-" else open(batch, "rb")
    except OSError as err:
        usage("query", f"cannot read {batch}: {err.strerror or err}")


def _blocks(stream: BinaryIO, batch: str) -> Iterator[tuple[int, int, bytes]]:
    """(number of its first line, its offset in the stream, whole lines as bytes) for each block of
    about BLOCK bytes of a JSONL batch; the last line may lack its newline. A byte-order mark at the
    start is dropped. Reads what is there (`read1`), so that a batch piped in line by line is
    answered as it comes. A failure to read is exit 2 naming the batch."""
    number, offset, pending = 1, 0, list[bytes]()  # pending: a line longer than what was read so far
    for data in _read_or_exit(stream, batch):
        cut = data.rfind(b"\n") + 1
        if not cut:
            pending.append(data)
            continue
        whole = b"".join((*pending, data[:cut])) if pending else data[:cut]
        pending = [data[cut:]] if cut < len(data) else []
        yield _block(number, offset, whole)
        number, offset = number + whole.count(b"\n"), offset + len(whole)
    if pending:
        yield _block(number, offset, b"".join(pending))


def _block(number: int, offset: int, data: bytes) -> tuple[int, int, bytes]:
    """The block, without the byte-order mark that may start the batch."""
    if number == 1 and data.startswith(b"\xef\xbb\xbf"):
        return number, offset + 3, data[3:]
    return number, offset, data


def _count_lines(batch: str) -> int:
    stream = _opened(batch)
    try:
        return sum(data.count(b"\n") + (not data.endswith(b"\n")) for _, _, data in _blocks(stream, batch))
    finally:
        stream.close()


def _read_or_exit(stream: Any, batch: str) -> Iterator[bytes]:
    """What `stream` holds, as it comes; a failure to read it midway is exit 2 (the answers so far stand)."""
    read = getattr(stream, "read1", stream.read)
    while True:
        try:
            data = read(BLOCK)
        except OSError as err:
            usage("query", f"cannot read {'standard input' if batch == '-' else batch}: {err.strerror or err}")
        if not data:
            return
        yield data


class _NullBar:
    def __enter__(self) -> _NullBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, _: int) -> None:
        return None
