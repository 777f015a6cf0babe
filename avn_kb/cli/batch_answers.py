"""What `avn-kb query --batch` writes for each line of a batch, block by block of lines.

A JSON answer (full or `--compact`) is a function of the line's facts, the day, the audience and
the command's options, followed by the line's number and id. A batch often repeats cases (the
same facts for many patients, a clinic's standard presentations), so the encoded answer of each
distinct valid case is remembered for the run, keyed on exactly what it depends on: the facts
as JSON text (key order and types included: 1, 1.0 and true differ), the day and the audience.
A later line with the same key is answered by adding its own line number and id to the text
remembered, skipping the vocabulary checks (they passed for the same facts), resolving, building
and encoding. Lines that cannot be used are never remembered: each is checked and reported as
itself.

Patients more often share a presentation than all their facts: a line with facts not seen before
is checked and derived (its derived facts kept by the values that decide them, avn_kb.lang.readings),
and its answer is filled into the template of its presentation (avn_kb.output.answers.templates),
rendered once for every case with the same truth of every condition, the same derived facts (in
the same order) and the same facts given: only its own facts and its loads in kilograms are
encoded. Without traces only (`--explain` shows every value). Text and markdown answers, and
`Answers(memo=False)`, take the plain path: every line resolved and rendered from its full answer
data (the tests compare both paths byte for byte)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from avn_kb.lang.readings import Reading, values_of
from avn_kb.load.batch import BatchLine, read_line
from avn_kb.load.cases import check_case
from avn_kb.output import answers
from avn_kb.output.answers.compact import compact, compact_answer
from avn_kb.output.answers.data import as_data, shown
from avn_kb.output.answers.templates import Template, template
from avn_kb.resolve.resolver import Index, Resolution, resolve
from avn_kb.util.memo import Sized
from avn_kb.validate.readiness import Readiness

MEMO_BYTES = 64 * 1024 * 1024  # the remembered answers' size at most (the oldest go first)
# json.dumps(value, ensure_ascii=False), with its encoder made once instead of for every call (the
# same text: json.dumps makes this encoder for these options); a string alone, the same again.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
# What an answer's template is kept by (avn_kb.lang.readings): which facts the case gives and has,
# the truth bitsets of the conditions, the values of the facts the answer shows or its exercises'
# loads read, the order in which the case's facts hold those it did not give (the answer lists its
# derived facts in that order, which is not the same for every case with the same values: a
# derived fact may be decided on derivation's first pass for one case and only once a fact the case
# cannot give is decided empty for another), the day and the audience; the statuses and the
# options are the run's.
TemplateKey = tuple[frozenset[str], frozenset[str], tuple[int, int], tuple[Any, ...], tuple[str, ...], dt.date, str]


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
        self.memo: Sized[tuple[str, dt.date, str], bytes] | None = (
            Sized(MEMO_BYTES) if memo and out.fmt == "json" else None)
        self.readings = self.index.readings
        # Rendered answers with holes for the case and its loads, by what decides the rest
        # (avn_kb.output.answers.templates); none with traces, which show every value.
        self.templates: Sized[TemplateKey, Template] | None = (
            Sized(MEMO_BYTES // 2) if self.memo is not None and not defaults.explain else None)

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
            reading = self.readings.read(line.facts) if self.readings is not None else None
            errors = check_case(self.vocabulary, line.facts, where, reading=reading)
            if errors:
                return (), [str(error) for error in errors]
            body = self._remember(key, self._body(line, day, audience, key[0], reading).encode("utf-8"))
        if line.id is None:
            return (body, f', "line": {number}}}\n'.encode()), []
        return (body, f', "line": {number}, "id": {encode_basestring(line.id)}}}\n'.encode()), []

    def _resolution(self, line: BatchLine, day: dt.date, reading: Reading | None = None) -> Resolution:
        return resolve(self.kb, line.facts, as_of=day, statuses=self.defaults.statuses, index=self.index,
                       explain=self.defaults.explain, reading=reading)

    def _body(self, line: BatchLine, day: dt.date, audience: str, case_text: str, reading: Reading | None) -> str:
        """The JSON answer without its line number, id and closing brace (they come last in it);
        `case_text`: the line's facts as JSON text."""
        if self.templates is None or reading is None:
            return _ENCODE(self._data(self._resolution(line, day, reading), audience))[:-1]
        index, facts = self.index, reading.facts()
        answer_key = index.answer_key(line.facts, facts)
        shown_values = values_of(facts, index.shown_reads)
        if answer_key is None or shown_values is None:
            return _ENCODE(self._data(self._resolution(line, day, reading), audience))[:-1]
        truth = index.truth(facts, self.defaults.statuses, day.isoformat(), answer_key)
        case = line.facts
        added = tuple(name for name in facts if name not in case)
        key = (answer_key[0], answer_key[1], truth, shown_values, added, day, audience)
        found = self.templates.get(key)
        if found is None:
            resolution = self._resolution(line, day, reading)
            shown_here = shown(self.kb, resolution, self.defaults.explain, self.defaults.show_all)
            found = self._keep_template(key, template(self.kb, self._data(resolution, audience), shown_here))
        return found.text(case_text, facts)[:-1]

    def _data(self, resolution: Resolution, audience: str) -> dict[str, Any]:
        defaults = self.defaults
        if self.out.compact:
            return compact_answer(self.kb, resolution, audience, defaults.explain, defaults.show_all)
        return as_data(self.kb, resolution, audience, defaults.explain, defaults.show_all, self.ready.problems)

    def _keep_template(self, key: TemplateKey, found: Template) -> Template:
        assert self.templates is not None
        # The key's size: its names, types and values, a few dozen bytes an item.
        items = len(key[0]) + len(key[1]) + len(key[3]) + len(key[4])
        return self.templates.keep(key, found, found.size + 64 * items)

    def _remember(self, key: tuple[str, dt.date, str], body: bytes) -> bytes:
        assert self.memo is not None
        return self.memo.keep(key, body, len(key[0]) + len(body))

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
