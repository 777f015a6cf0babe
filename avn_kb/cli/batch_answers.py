"""What `avn-kb query --batch` writes for each line of a batch, block by block of lines.

A JSON answer (full or `--compact`) is a function of the line's facts, the day, the audience and
the command's options, followed by the line's number and id. A batch often repeats cases (the
same facts for many patients, a clinic's standard presentations), so the encoded answer of each
distinct valid case is remembered for the run, keyed on exactly what it depends on: the facts
as JSON text (key order and types included: 1, 1.0 and true differ), the day and the audience.
A later line with the same key is answered by adding its own line number and id to the text
remembered, skipping the vocabulary checks (they passed for the same facts), resolving, building
and encoding. Lines that cannot be used are never remembered: each is checked and reported as
itself. Text and markdown answers, and `Answers(memo=False)`, take the plain path: every line
resolved and rendered from its full answer data (the tests compare both paths byte for byte)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import NamedTuple

from avn_kb.load.batch import BatchLine, read_line
from avn_kb.load.cases import check_case
from avn_kb.output import answers
from avn_kb.output.answers.compact import compact, compact_answer
from avn_kb.output.answers.data import as_data
from avn_kb.resolve.resolver import Index, Resolution, resolve
from avn_kb.validate.readiness import Readiness

MEMO_BYTES = 64 * 1024 * 1024  # the remembered answers' size at most (the oldest go first)
# json.dumps(value, ensure_ascii=False), with its encoder made once instead of for every call (the
# same text: json.dumps makes this encoder for these options); a string alone, the same again.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


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


class Answered(NamedTuple):
    """A block's answers: what to write (UTF-8, in pieces written one after the other, never joined
    into one copy), the problems to report (in line order), its lines. A worker that wrote them
    itself (avn_kb.cli.batch_jobs) says where it ended, or why not."""

    pieces: list[bytes]
    errors: list[str]
    lines: int
    end: int | None = None
    failure: tuple[int, str] | None = None  # (errno, strerror) of a failed write

    @property
    def data(self) -> bytes:
        return b"".join(self.pieces)


class Answers:
    """Answers the lines of one batch (`batch`: its name in messages) for one run."""

    def __init__(self, ready: Readiness, batch: str, defaults: Defaults, out: BatchOutput, memo: bool = True) -> None:
        assert ready.kb.vocabulary is not None
        self.ready, self.kb, self.vocabulary = ready, ready.kb, ready.kb.vocabulary
        self.index = Index(ready.kb)
        self.batch, self.defaults, self.out = batch, defaults, out
        self.memo: dict[tuple[str, dt.date, str], bytes] | None = {} if memo and out.fmt == "json" else None
        self.memo_size = 0

    def block(self, first: int, data: bytes) -> Answered:
        """The answers of whole lines `data` (bytes as read), the first of them line `first`."""
        try:
            lines: list[str | None] = list(data.decode("utf-8").split("\n"))
        except UnicodeDecodeError:  # some line is not UTF-8: find which, line by line
            lines = [_decoded(raw) for raw in data.split(b"\n")]
        if lines and lines[-1] == "":
            lines.pop()  # the newline ending the last line, not one more line
        # A remembered answer is not copied here: its bytes are written as they are.
        pieces: list[bytes] = []
        errors: list[str] = []
        for number, text in enumerate(lines, start=first):
            written, problems = self.line(number, text)
            pieces += written
            errors += problems
        return Answered(pieces, errors, len(lines))

    def line(self, number: int, text: str | None) -> tuple[tuple[bytes, ...], list[str]]:
        """(what to write, in pieces of UTF-8, the problems to report) for one line (None: not UTF-8)."""
        where = f"{self.batch}:{number}"
        if text is None:
            return (), [f"{where}: not UTF-8 text: save the batch as UTF-8"]
        if not text.strip():
            return (), []
        line, errors = read_line(self.vocabulary, text, where)
        if errors or line is None:
            return (), [str(error) for error in errors] or [f"{where}: cannot read the line"]
        day = line.as_of or self.defaults.day or dt.date.today()
        audience = line.audience or self.defaults.audience
        if self.memo is None:
            return self._plain(number, line, day, audience)
        key = (_ENCODE(line.facts), day, audience)
        body = self.memo.get(key)
        if body is None:
            errors = check_case(self.vocabulary, line.facts, where)
            if errors:
                return (), [str(error) for error in errors]
            body = self._remember(key, self._body(line, day, audience).encode("utf-8"))
        if line.id is None:
            return (body, f', "line": {number}}}\n'.encode()), []
        return (body, f', "line": {number}, "id": {encode_basestring(line.id)}}}\n'.encode()), []

    def _resolution(self, line: BatchLine, day: dt.date) -> Resolution:
        return resolve(self.kb, line.facts, as_of=day, statuses=self.defaults.statuses, index=self.index,
                       explain=self.defaults.explain)

    def _body(self, line: BatchLine, day: dt.date, audience: str) -> str:
        """The JSON answer without its line number, id and closing brace (they come last in it)."""
        defaults, resolution = self.defaults, self._resolution(line, day)
        if self.out.compact:
            data = compact_answer(self.kb, resolution, audience, defaults.explain, defaults.show_all)
        else:
            data = as_data(self.kb, resolution, audience, defaults.explain, defaults.show_all, self.ready.problems)
        return _ENCODE(data)[:-1]

    def _remember(self, key: tuple[str, dt.date, str], body: bytes) -> bytes:
        assert self.memo is not None
        self.memo[key] = body
        self.memo_size += len(key[0]) + len(body)
        while self.memo_size > MEMO_BYTES and self.memo:
            oldest = next(iter(self.memo))
            self.memo_size -= len(oldest[0]) + len(self.memo.pop(oldest))
        return body

    def _plain(self, number: int, line: BatchLine, day: dt.date, audience: str) -> tuple[tuple[bytes, ...], list[str]]:
        """One line answered from its full answer data, with nothing remembered."""
        errors = check_case(self.vocabulary, line.facts, f"{self.batch}:{number}")
        if errors:
            return (), [str(error) for error in errors]
        defaults, out = self.defaults, self.out
        data = as_data(self.kb, self._resolution(line, day), audience, defaults.explain, defaults.show_all,
                       self.ready.problems, references=not out.compact)
        data["line"] = number
        if line.id is not None:
            data["id"] = line.id
        if out.compact:
            return ((json.dumps(compact(data), ensure_ascii=False) + "\n").encode("utf-8"),), []
        return (answers.batch_entry(self.kb, data, out.fmt).encode("utf-8"),), []


def _decoded(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
