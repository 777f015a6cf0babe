"""Reading doses out of text (avn_kb/dose_text.py): a table of (text, doses read), every field
compared, over an intervention whose parameters declare overlapping words."""

from __future__ import annotations

import pytest

from avn_kb.lang.dose_text import DoseReader, Mention, readers
from avn_kb.model.knowledge import DoseParameter, Intervention


def _parameter(name: str, *written_as: str) -> DoseParameter:
    return DoseParameter(name, "unit", 0, 100, written_as=written_as)


TRAINING = Intervention("training", "Training", dose={
    "intensity": _parameter("intensity", "% of one-repetition maximum", "% of 1RM", "%"),
    "repetitions": _parameter("repetitions", "repetitions", "reps"),
    "sets": _parameter("sets", "sets", "sets per exercise"),
    "weekly": _parameter("weekly", "days a week", "times a week", "sessions per week"),
    "rest": _parameter("rest", "s rest"),
})
READER = DoseReader(TRAINING)


def m(parameter: str, low: float | None, high: float | None, text: str) -> Mention:
    return Mention(parameter, low, high, text)


ROWS: list[tuple[str, str, list[Mention]]] = [
    ("hyphen", "10-15 repetitions", [m("repetitions", 10, 15, "10-15 repetitions")]),
    ("en-dash-and-spaces", "10 – 15 reps", [m("repetitions", 10, 15, "10 – 15 reps")]),
    ("em-dash", "10—15 reps", [m("repetitions", 10, 15, "10—15 reps")]),
    ("to", "from 10 to 15 repetitions", [m("repetitions", 10, 15, "10 to 15 repetitions")]),
    ("or-is-a-range", "2 or 3 times a week", [m("weekly", 2, 3, "2 or 3 times a week")]),
    ("words-or", "two or three times a week", [m("weekly", 2, 3, "two or three times a week")]),
    ("between-and", "between 2 and 3 days a week", [m("weekly", 2, 3, "between 2 and 3 days a week")]),
    ("single-number", "3 sets", [m("sets", 3, 3, "3 sets")]),
    ("single-word", "Three sets", [m("sets", 3, 3, "Three sets")]),
    ("decimal", "2.5 sets", [m("sets", 2.5, 2.5, "2.5 sets")]),
    ("reversed-range", "15-10 reps", [m("repetitions", 10, 15, "15-10 reps")]),
    ("percent-glued", "40-60%", [m("intensity", 40, 60, "40-60%")]),
    ("percent-repeated", "40%-60% of 1RM", [m("intensity", 40, 60, "40%-60% of 1RM")]),
    ("longest-words-win", "40-60% of one-repetition\n   maximum, then",
     [m("intensity", 40, 60, "40-60% of one-repetition maximum")]),
    ("case-ignored", "10-15 REPS", [m("repetitions", 10, 15, "10-15 REPS")]),
    ("longer-words-of-one-parameter", "1-3 sets per exercise", [m("sets", 1, 3, "1-3 sets per exercise")]),
    ("words-without-a-number", "sets per exercise, repetitions per set", []),
    ("or-more", "3 or more sets", []),
    ("upper-end", "up to 3 sets", [m("sets", None, 3, "up to 3 sets")]),
    ("at-most", "at most 3 sets", [m("sets", None, 3, "at most 3 sets")]),
    ("lower-end", "at least 2 days a week", [m("weekly", 2, None, "at least 2 days a week")]),
    ("no-fewer-than", "no fewer than 2 days a week", [m("weekly", 2, None, "no fewer than 2 days a week")]),
    ("two-parameters-not-a-range", "3 sets to 10 reps",
     [m("sets", 3, 3, "3 sets"), m("repetitions", 10, 10, "10 reps")]),
    ("several", "10-15 repetitions at 40-60% of 1RM, 1-3 sets, 2-3 days a week",
     [m("repetitions", 10, 15, "10-15 repetitions"), m("intensity", 40, 60, "40-60% of 1RM"),
      m("sets", 1, 3, "1-3 sets"), m("weekly", 2, 3, "2-3 days a week")]),
    ("identifier-not-a-number", "PR-002 sets out the rule; RT-001 reps", []),
    ("glued-to-a-word", "x3 sets, v2.5 reps", []),
    ("thousands-not-read", "1,000 reps", []),
    ("part-of-a-word", "someone sets", []),
    ("unit-inside-a-word", "3 setsquare", []),
    ("words-before-more-words", "90 s rest", [m("rest", 90, 90, "90 s rest")]),
    ("words-cut-short", "90 s, then", []),
    ("nothing", "Light to moderate training.", []),
]


@pytest.mark.parametrize("text,expected", [pytest.param(t, e, id=name) for name, t, e in ROWS])
def test_doses_read_from_text(text: str, expected: list[Mention]) -> None:
    assert list(READER.mentions(text)) == expected


@pytest.mark.parametrize("mention,shown", [
    (m("sets", 1, 3, ""), "1-3"), (m("sets", 3, 3, ""), "3"), (m("sets", None, 3, ""), "at most 3"),
    (m("sets", 2, None, ""), "at least 2"), (m("sets", 2.5, 2.5, ""), "2.5")])
def test_a_mention_describes_what_was_read(mention: Mention, shown: str) -> None:
    assert mention.describe() == shown


@pytest.mark.parametrize("mention,dose,agrees", [
    (m("sets", 1, 3, ""), (1, 3), True), (m("sets", 1, 3, ""), (1, 4), False), (m("sets", 3, 3, ""), (1, 3), False),
    (m("sets", None, 3, ""), (1, 3), True), (m("sets", None, 3, ""), (3, 4), False),
    (m("sets", 2, None, ""), (2, 5), True), (m("sets", 2, None, ""), (1, 5), False)])
def test_a_mention_agrees_only_with_its_dose(mention: Mention, dose: tuple[float, float], agrees: bool) -> None:
    assert mention.agrees(dose) is agrees


def test_words_two_parameters_declare_are_reported_and_not_read() -> None:
    clash = Intervention("clash", "Clash", dose={"a": _parameter("a", "units", "As"), "b": _parameter("b", "as")})
    reader = DoseReader(clash)
    assert reader.ambiguous == [("as", "a", "b", 0)]
    assert list(reader.mentions("3 as, 4 units")) == [m("a", 4, 4, "4 units")]


def test_only_interventions_that_declare_words_get_a_reader() -> None:
    plain = Intervention("plain", "Plain", dose={"a": DoseParameter("a", "unit", 0, 1)})
    assert list(readers({"training": TRAINING, "plain": plain, "none": Intervention("none", "None")})) == ["training"]
