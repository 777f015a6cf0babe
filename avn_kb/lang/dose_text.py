"""Doses as prose writes them: numbers followed by the words a dose parameter declares in the
vocabulary (`written_as`), read out of a statement or plain-language text so that they can be
compared with the structured dose (AVN308).

What is read, for an intervention whose `intensity_pct_1rm` is written as `% of 1RM` or `%`, and
whose `sessions_per_week` as `days a week`:

    "40-60% of 1RM"  "40 to 60 %"  "40%–60%"   intensity_pct_1rm 40-60 (hyphen, en or em dash, `to`)
    "2 or 3 days a week"  "two or three days a week"  "between 2 and 3 days a week"   2-3
    "3 days a week"   3 (a single number means exactly that: [3, 3])
    "up to 3 days a week", "at most ...", "no more than ..."     only the upper end: at most 3
    "at least 2 days a week", "no fewer than ...", "no less than ..."   only the lower end: at least 2

Numbers are written with digits (a decimal point, not a comma: `2.5`) or as the English words zero
to twenty. Matching ignores case and line breaks. The longest declared words win (`% of 1RM` before
`%`, `sets per exercise` before `sets`), and a number must come right before them: `sets per
exercise` alone, or `3 or more sets`, mention no dose. A number glued to a word or an identifier
(`PR-002`, `1RM`) is never read. Other qualifiers (`more than 3 sets`, `about 3 sets`) are not
understood: the number is read as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from avn_kb.model.knowledge import Intervention

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
_NUMBER = r"\d+(?:\.\d+)?|(?:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b"
# A number starts a mention only when it stands alone: not after a letter, digit, point, or a
# digit and comma (1,000), nor after a dash that follows a word (PR-002).
_ALONE = r"(?<![\w.])(?<!\w[-\u2010\u2011\u2013\u2014])(?<!\d,)"
_DASH = r"[-\u2010\u2011\u2013\u2014]"
_UPPER = ("up to", "at most", "no more than")
_LOWER = ("at least", "no fewer than", "no less than")


@dataclass(frozen=True)
class Mention:
    """One dose the text gives: the parameter, the range read (an end is None when the text bounds
    only the other one), and the words as written."""

    parameter: str
    low: float | None
    high: float | None
    text: str

    def agrees(self, dose: tuple[float, float]) -> bool:
        """Whether the structured range `dose` is what the text says (each end the text gives)."""
        return (self.low is None or self.low == dose[0]) and (self.high is None or self.high == dose[1])

    def describe(self) -> str:
        """`40-60`, `3`, `at most 3`, `at least 2`."""
        if self.low is None:
            return f"at most {self.high:g}"
        if self.high is None:
            return f"at least {self.low:g}"
        return f"{self.low:g}" if self.low == self.high else f"{self.low:g}-{self.high:g}"


def _words(phrase: str) -> str:
    return " ".join(phrase.split()).casefold()


def _pattern(phrases: list[str]) -> str:
    """Any of the phrases, longest first, any run of white space standing for a space."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in ordered)


class DoseReader:
    """Reads the doses of one intervention's parameters out of text; built once per intervention."""

    def __init__(self, intervention: Intervention) -> None:
        self.parameter_of: dict[str, str] = {}
        # Words two parameters declare, as (words, first parameter, other, index in the other's
        # list): a number before them could be either, so they are reported and not read.
        self.ambiguous: list[tuple[str, str, str, int]] = []
        for name, parameter in intervention.dose.items():
            for index, phrase in enumerate(parameter.written_as):
                key = _words(phrase)
                if self.parameter_of.setdefault(key, name) != name:
                    self.ambiguous.append((phrase, self.parameter_of[key], name, index))
        for phrase, *_ in self.ambiguous:
            self.parameter_of.pop(_words(phrase), None)
        phrases = _pattern(list(self.parameter_of))
        bound = "|".join(r"\s+".join(words.split()) for words in (*_UPPER, *_LOWER))
        number = f"(?:{_NUMBER})"
        self._regex = re.compile(
            rf"{_ALONE}(?:\bbetween\s+(?P<b_low>{number})(?:\s*(?P<b_first>{phrases}))?\s+and\s+(?P<b_high>{number})"
            rf"|(?:(?P<bound>{bound})\s+)?(?P<low>{number})(?:\s*(?P<first>{phrases}))?"
            rf"(?:\s*(?:{_DASH}|\bto\b|\bor\b)\s*(?P<high>{number}))?)"
            rf"\s*(?P<unit>{phrases})(?!\w)", re.IGNORECASE) if self.parameter_of else None

    def mentions(self, text: str) -> Iterator[Mention]:
        """Every dose the text gives, in order."""
        if self._regex is None:
            return
        position = 0
        while (match := self._regex.search(text, position)) is not None:
            parameter = self.parameter_of[_words(match["unit"])]
            first = match["b_first"] or match["first"]
            if first is not None and self.parameter_of[_words(first)] != parameter:
                # "3 sets to 10 repetitions": two mentions, not a range; read the second one next.
                end = match.end("b_first") if match["b_first"] else match.end("first")
                low = _value(match["b_low"] or match["low"])
                yield Mention(self.parameter_of[_words(first)], low, low, _shown(text[match.start():end]))
                position = end
                continue
            yield Mention(parameter, *_range(match), _shown(match[0]))
            position = match.end()


def _range(match: re.Match[str]) -> tuple[float | None, float | None]:
    if match["b_low"] is not None:
        ends = sorted((_value(match["b_low"]), _value(match["b_high"])))
        return ends[0], ends[1]
    low = _value(match["low"])
    if match["high"] is not None:
        ends = sorted((low, _value(match["high"])))
        return ends[0], ends[1]
    bound = _words(match["bound"] or "")
    if bound in _UPPER:
        return None, low
    if bound in _LOWER:
        return low, None
    return low, low


def _value(number: str) -> float:
    word = number.casefold()
    return float(NUMBER_WORDS.index(word)) if word in NUMBER_WORDS else float(number)


def _shown(text: str) -> str:
    return " ".join(text.split())


def readers(interventions: Mapping[str, Intervention]) -> dict[str, DoseReader]:
    """A reader for each intervention that declares how at least one of its dose parameters is written."""
    return {name: DoseReader(intervention) for name, intervention in interventions.items()
            if any(parameter.written_as for parameter in intervention.dose.values())}
