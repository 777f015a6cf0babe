"""`derive.real_case` remembered per case, for the searches and the samples, which ask it of the
same partial cases again and again (every sample of a group of conditions over the same few
values, every branch of a search that passes the same assignments)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from avn_kb.lang.derive import real_case
from avn_kb.model.knowledge import Vocabulary
from avn_kb.util.memo import Bounded

MAX_REMEMBERED = 100_000  # cases; then it starts again, so memory stays bounded on any search


class RealCases:
    """`real_case(vocabulary, case)` for one vocabulary. The facts it returns are shared between
    the callers that ask of the same case: they read them and never change them."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._known: Bounded[tuple[Any, ...], tuple[dict[str, Any], bool]] = Bounded(MAX_REMEMBERED)

    def __call__(self, case: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        # In the case's order: the derived facts' dictionary keeps it, and witnesses show it.
        key = tuple((fact, ("set", *value)) if type(value) is list else (fact, value) for fact, value in case.items())
        found = self._known.get(key)
        return found if found is not None else self._known.keep(key, real_case(self.vocabulary, case))
