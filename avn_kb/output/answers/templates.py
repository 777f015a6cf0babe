"""An answer's JSON text in pieces, so that cases that share what decides their answer share its text.

Beyond the case's own facts, a JSON answer (full or compact) is a function of the truth of the
recommendations' conditions on the case, of which facts the case gives and has, of the values
of the derived facts (in the order derivation wrote them) and of the facts the exercises' `loads`
read (avn_kb.lang.readings), of the day and the audience, and of the loads in kilograms of the
applying recommendations, which scale with a fact of the case (the one-repetition maximum). A
`Template` is that text with two kinds of hole: the case's facts, and each applying
recommendation's loads; `text` fills them for one case. Two patients with the same presentation
and different strength then cost one rendering, not two.

The text is the standard encoder's (`json.dumps(answer, ensure_ascii=False)`), written a key at a
time with the same separators, so that the filled template is that text to the byte (the tests
compare every line of their batches both ways). A recommendation's loads are the last entry of its
item in an answer without traces, so each hole goes just before its item's closing brace; answers
with traces (`--explain`, which show the facts' values) are never made templates."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from avn_kb.model.knowledge import KnowledgeBase, Recommendation
from avn_kb.resolve.outcomes import Outcome
from avn_kb.resolve.resolver import load_kg

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


class _Case:
    """The hole for the case's facts."""


CASE = _Case()
Piece = str | _Case | Recommendation  # a recommendation: the hole for its loads


class Template:
    """The text of one answer with holes for the case and for loads (see the module)."""

    __slots__ = ("kb", "pieces", "size")

    def __init__(self, kb: KnowledgeBase, pieces: Sequence[Piece]) -> None:
        self.kb = kb
        self.pieces = tuple(_joined(pieces))
        self.size = sum(len(piece) for piece in self.pieces if isinstance(piece, str))

    def text(self, case_text: str, facts: Mapping[str, Any]) -> str:
        """The answer of a case: `case_text` its facts as JSON text, `facts` with the derived ones."""
        kb = self.kb
        out = []
        for piece in self.pieces:
            if type(piece) is str:
                out.append(piece)
            elif piece is CASE:
                out.append(case_text)
            else:
                assert isinstance(piece, Recommendation)
                loads = load_kg(kb, piece, facts)
                if loads:
                    out.append(', "load_kg": ' + _ENCODE({name: list(rng) for name, rng in loads.items()}))
        return "".join(out)


def template(kb: KnowledgeBase, answer: Mapping[str, Any], shown: Sequence[Outcome]) -> Template:
    """The template of `answer` (its data, without traces), whose recommendations are the
    outcomes `shown`, in order."""
    pieces: list[Piece] = ["{"]
    for place, (key, value) in enumerate(answer.items()):
        pieces.append((", " if place else "") + _ENCODE(key) + ": ")
        if key == "case":
            pieces.append(CASE)
        elif key == "recommendations":
            pieces += _items(kb, value, shown)
        else:
            pieces.append(_ENCODE(value))
    pieces.append("}")
    return Template(kb, pieces)


def _items(kb: KnowledgeBase, items: Sequence[Mapping[str, Any]], shown: Sequence[Outcome]) -> list[Piece]:
    assert len(items) == len(shown)
    pieces: list[Piece] = ["["]
    for place, (item, outcome) in enumerate(zip(items, shown)):
        if place:
            pieces.append(", ")
        if outcome.outcome != "applies" or not scales_with_case(kb, outcome.rec):
            pieces.append(_ENCODE(item))
            continue
        assert "trace" not in item  # so its loads, if any, are its last entry
        pieces += [_ENCODE({k: v for k, v in item.items() if k != "load_kg"})[:-1], outcome.rec, "}"]
    pieces.append("]")
    return pieces


def scales_with_case(kb: KnowledgeBase, rec: Recommendation) -> bool:
    """Whether the recommendation's dose has a parameter given per kilogram of a fact of the case."""
    vocabulary = kb.vocabulary
    intervention = vocabulary.interventions.get(rec.action.target) if vocabulary else None
    if intervention is None:
        return False
    return any((parameter := intervention.dose.get(name)) is not None and parameter.per_kg_of
               for name in rec.action.dose)


def _joined(pieces: Sequence[Piece]) -> list[Piece]:
    """Adjacent text pieces as one."""
    out: list[Piece] = []
    for piece in pieces:
        if type(piece) is str and out and type(out[-1]) is str:
            out[-1] = out[-1] + piece  # type: ignore[operator]
        else:
            out.append(piece)
    return out
