"""`derive.real_case` remembered per case, for the searches and the samples, which ask it of the
same partial cases again and again (every sample of a group of conditions over the same few
values, every branch of a search that passes the same assignments).

Remembered by the part of the case that decides the derivation (`deciding_facts`), not by the
whole case: the derived facts and whether the case is real read only those facts, and a search or
a set of samples varies the others far more often (the comorbidities, the pain score) than the few
a derivation reads (the site and the stages). So nearly every case is derived without deriving
anything, and its key is a few values, not every fact it gives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from avn_kb.lang.derive import definitions, real_case
from avn_kb.model.conditions import facts_of
from avn_kb.model.knowledge import Vocabulary
from avn_kb.util.memo import Bounded

MAX_REMEMBERED = 100_000  # cases; then it starts again, so memory stays bounded on any search

Derivation = tuple[tuple[tuple[str, Any], ...], bool]  # the derived facts a case adds, and whether it is real


class RealCases:
    """`real_case(vocabulary, case)` for one vocabulary, its derivation remembered by the facts that
    decide it (`deciding_facts`). The facts it returns are the caller's own."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.deciding = deciding_facts(vocabulary)
        self._deciding = sorted(self.deciding)
        self._derivations: Bounded[tuple[Any, ...], Derivation] = Bounded(MAX_REMEMBERED)

    def __call__(self, case: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        added, real = self._derivation(case)
        # The case's own facts in its order (witnesses show it), then what its derivation adds.
        facts = dict(case)
        if None in facts.values():
            facts = {fact: value for fact, value in case.items() if value is not None}
        facts.update(added)
        return facts, real

    def is_real(self, case: Mapping[str, Any]) -> bool:
        """`self(case)[1]`, without copying the case's facts."""
        return self._derivation(case)[1]

    def _derivation(self, case: Mapping[str, Any]) -> Derivation:
        values = list(map(case.get, self._deciding))
        # With the types: True, 1 and 1.0 are equal in a key, and a derivation compares the very
        # values. A set's list as a tuple, to be hashed.
        types = tuple(map(type, values))
        hashable = [tuple(value) if type(value) is list else value for value in values] if list in types else values
        key = (*hashable, *types)
        derivation = self._derivations.get(key)
        if derivation is None:
            part = {fact: value for fact, value in zip(self._deciding, values) if value is not None}
            derived, real = real_case(self.vocabulary, part)
            added = tuple((fact, value) for fact, value in derived.items() if fact not in part)
            derivation = self._derivations.keep(key, (added, real))
        return derivation


def deciding_facts(vocabulary: Vocabulary) -> frozenset[str]:
    """The facts that `real_case` reads to derive the derived facts and to judge whether a case is
    real: those the derived facts' cases test, the derived facts themselves (a case may give one,
    which must then agree), and the facts that declare a `defined_for` with those it tests. The
    other facts of a case are only copied into its facts."""
    found = set(vocabulary.derived)
    for derived in vocabulary.derived.values():
        for _, when in derived.cases:
            found |= facts_of(when)
    for name, condition, _ in definitions(vocabulary):
        found.add(name)
        found |= facts_of(condition)
    return frozenset(found)
