"""`avn-kb query --batch FILE --jobs N`: the blocks of a batch answered by N forked workers, with
the same output in the same order as one process.

The parent reads the batch into blocks of whole lines and hands each out as where it lies in the
batch file (the worker reads it itself), or as its bytes for standard input: no parsing, no
pickling of cases. It gets back, in input order, each block's problems to report. Where the
answers go to a regular file (-o's temporary file, or standard output redirected to a file), each
worker writes its block's bytes itself with os.pwrite at the offset where the blocks before it
end: that offset is known as soon as the block before is answered (its size, not its writing), so
a worker waits only for the sizes of the blocks before its own, and the answers are never copied
through the parent. Elsewhere (a pipe, a terminal, a file opened to append) the bytes come back to
the parent, which writes them. The workers are forked once the knowledge base is loaded, so that
they share it; each remembers the answers it made (avn_kb.cli.batch_answers)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from typing import Any

from avn_kb.cli.batch_answers import Answered, Answers
from avn_kb.cli.batch_output import write_all


class _Frontier:
    """Where the next block's answers start in the output file: the number of the next block to
    place and its offset, shared by the workers (placing is in block order)."""

    def __init__(self, context: Any, offset: int) -> None:
        self.ready = context.Condition()
        self.block = context.RawValue("q", 0)
        self.offset = context.RawValue("q", offset)

    def place(self, block: int, size: int) -> int:
        """The offset for block number `block` of `size` bytes, once every block before it is placed."""
        with self.ready:
            self.ready.wait_for(lambda: self.block.value == block)
            offset = self.offset.value
            self.offset.value, self.block.value = offset + size, block + 1
            self.ready.notify_all()
        return int(offset)


# Set in the parent just before the workers fork, so that they inherit them instead of receiving them.
_ANSWERS: Answers | None = None
_TARGET: tuple[int, _Frontier] | None = None  # (descriptor, frontier) when the workers write themselves
_SOURCE: int | None = None  # the batch's descriptor when the workers read their blocks themselves


def can_fork() -> bool:
    """Whether workers can be forked here (they share the loaded knowledge base)."""
    return "fork" in multiprocessing.get_all_start_methods()


def in_parallel(answering: Answers, blocks: Iterable[tuple[int, int, bytes]], jobs: int,
                target: tuple[int, int] | None, source: int | None) -> Iterator[Answered]:
    """The blocks' answers in input order, by `jobs` forked workers. `target`: (descriptor,
    offset) of a regular file the workers write to themselves (the answers then come back
    without their bytes, with the offset where they `end`); None: the bytes come back.
    `source`: the descriptor of the batch when it is a regular file, from which the workers read
    their blocks themselves (a task is then a few numbers, not the block's bytes)."""
    global _ANSWERS, _TARGET, _SOURCE
    context = multiprocessing.get_context("fork")
    _ANSWERS, _SOURCE = answering, source
    _TARGET = (target[0], _Frontier(context, target[1])) if target is not None else None
    tasks = ((n, first, offset, len(data)) if source is not None else (n, first, data)
             for n, (first, offset, data) in enumerate(blocks))
    try:
        with context.Pool(jobs) as pool:
            yield from pool.imap(_answer_in_worker, tasks)
    finally:
        _ANSWERS, _TARGET, _SOURCE = None, None, None


def _answer_in_worker(task: tuple[int, int, int, int] | tuple[int, int, bytes]) -> Answered:
    assert _ANSWERS is not None, "the answers are set up before the workers fork"
    if len(task) == 4:
        assert _SOURCE is not None
        number, first, offset, size = task
        data = _read_at(_SOURCE, size, offset)
    else:
        number, first, data = task
    answered = _ANSWERS.block(first, data)
    if _TARGET is None:
        return answered
    descriptor, frontier = _TARGET
    size = sum(len(piece) for piece in answered.pieces)
    offset = frontier.place(number, size)  # placed even if writing fails: the others go on
    try:
        write_all(descriptor, answered.pieces, offset)
    except OSError as err:
        return answered._replace(pieces=[], failure=(err.errno or 0, err.strerror or str(err)))
    return answered._replace(pieces=[], end=offset + size)


def _read_at(descriptor: int, size: int, offset: int) -> bytes:
    """The block the parent read there (os.pread: the parent's own reading is not moved)."""
    parts = []
    while size > 0:
        part = os.pread(descriptor, size, offset)
        if not part:
            break
        parts.append(part)
        size, offset = size - len(part), offset + len(part)
    return b"".join(parts)
