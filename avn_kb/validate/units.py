"""Incremental validation, level 3: the results of the searching checks, kept per unit of work
(one file's recommendations for satisfiability and for the exercises they prescribe where those
load the affected part, the recommendations on one target for conflicts and for gaps, one group of
recommendations with the same action for redundancy) and keyed by a digest of everything that unit reads: the
vocabulary, the recommendations in it (their ids, where they are written, conditions, actions,
statuses, effective periods and links) and the kind of question. After an edit of one
recommendation only the units it is in are computed again.

Exactly equal to a cold run, search budget included. The searching checks share one SearchBudget
per run, in registry order, so whether a question is decided can depend on what the questions
before it spent. A unit is kept with the partial cases it visited, and only if the budget refused
none of its questions (so its result is what an unbounded search gives). It is reused only when
the budget left covers all of those steps (then no question of the unit could have been refused
in this run either), and those steps are charged again: the budget after the unit, and so every
later question, is what the cold run sees. Otherwise the unit is computed again.

The table lives in one entry of the cache's store (avn_kb/util/store.py: verified, never followed
through a link), named by the tool and the knowledge directory; it holds the units the last run
used, so it stays the size of the knowledge base. Two racing runs each write a table of exact
results: whichever rename wins, every entry in it is still right for its key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from avn_kb.lang.domains import SearchBudget
from avn_kb.model.knowledge import Recommendation, Vocabulary
from avn_kb.util.canonical import digest
from avn_kb.util.memo import remembered

T = TypeVar("T")
Entry = tuple[object, int]  # a unit's result and the partial cases its questions visited
_DIGEST = "_avn_kb_unit_digest"
# A unit named within this process (and a process forked from it: the same objects at the same
# addresses): its question and which recommendations it is about, for the units answered ahead.
LocalKey = tuple[str, int, int, int]


class Ahead(Protocol):
    """Units a worker process answered (avn_kb/validate/ahead.py)."""

    def get(self, key: LocalKey) -> Entry | None:
        """The unit's result and steps, if the worker has sent it by now (never waits)."""


def recommendation_digest(rec: Recommendation) -> bytes:
    """A digest of what the searching checks read of `rec` (kept on it; avn_kb/validate/cache.py
    stores it with the loaded file, so an unchanged file does not compute it again)."""
    found: bytes | None = rec.__dict__.get(_DIGEST)  # asked once per unit a recommendation is in
    if found is None:
        found = remembered(rec, _DIGEST, lambda: digest((
            rec.id, rec.where, rec.when, rec.action, rec.status, rec.effective_from, rec.effective_until,
            rec.overrides, rec.supersedes)))
    return found


class KeptUnits(Protocol):
    """Where a run's table is kept between runs (avn_kb/validate/cache.py)."""

    def read(self) -> dict[bytes, Entry] | None:
        """The table the run before kept (empty when there is none), or None to keep nothing."""

    def write(self, search: SearchRun) -> None:
        """Keep the units this run used, for the next."""


class SearchRun:
    """What the searching checks of one run share: its search budget and the level-3 table.
    Without a stored table (`previous` None) nothing is looked up and nothing kept: `once` only
    computes.

    Units may also be answered ahead by a worker process (avn_kb/validate/ahead.py): the worker's
    run collects its units as `deferred` and computes them in its own order; this run takes what
    the worker answered (`ahead`) under the same rule as a kept table's: only when the budget left
    covers the steps the unit spent, which are charged again."""

    def __init__(self, budget: SearchBudget, vocabulary: Vocabulary | None = None,
                 previous: dict[bytes, Entry] | None = None) -> None:
        self.budget = budget
        self.enabled = previous is not None
        self.previous = previous or {}
        self.used: dict[bytes, Entry] = {}
        self.computed = 0
        self.ahead: Ahead | None = None
        self.deferred: list[tuple[LocalKey, Callable[[], object]]] | None = None  # a worker's run
        self._ordinals: dict[str, int] = {}
        self._questions: dict[str, hashlib._Hash] = {}
        self._vocabulary = digest(vocabulary) if self.enabled and vocabulary is not None else b""

    def once(self, question: object, recs: Sequence[Recommendation], compute: Callable[[], T]) -> T:
        """`compute()`, or its result kept from a run before for the same question about the
        same recommendations (see the module docstring for why the budget stays exact).
        `question` names the check and holds whatever else the result reads (plain data)."""
        budget = self.budget
        if self.sharing:
            local = self._local_key(question, recs)
            if self.deferred is not None:  # a worker's run: computed later, in its own order
                if local is not None:
                    self.deferred.append((local, compute))
                return ()  # type: ignore[return-value]  # only checks that yield units' findings are deferred
            ahead = self.ahead.get(local) if self.ahead is not None and local is not None else None
            if ahead is not None and ahead[1] <= budget.left:
                budget.left -= ahead[1]
                if self.enabled:
                    self.used[self._key(question, recs)] = ahead
                found: T = ahead[0]  # type: ignore[assignment]  # answered by this same call site
                return found
        if not self.enabled:
            return compute()
        key = self._key(question, recs)
        entry = self.previous.get(key)
        if entry is not None and entry[1] <= budget.left:
            budget.left -= entry[1]
            self.used[key] = entry
            result: T = entry[0]  # type: ignore[assignment]  # stored by this same call site
            return result
        result, kept = self._charged(compute)
        self.computed += 1
        if kept is not None:
            self.used[key] = kept
        return result

    def _charged(self, compute: Callable[[], T]) -> tuple[T, Entry | None]:
        """`compute()`, and what to keep of it: its result and the steps it spent, or None when the
        budget refused one of its questions (then an unbounded search might answer otherwise)."""
        budget = self.budget
        left, refusals = budget.left, budget.refusals
        result = compute()
        return result, ((result, left - budget.left) if budget.refusals == refusals else None)

    def answered_deferred(self) -> Iterator[tuple[LocalKey, Entry]]:
        """A worker's run: its deferred units computed from the last, each that its budget refused
        nothing with what to keep of it."""
        for key, compute in reversed(self.deferred or ()):
            kept = self._charged(compute)[1]
            if kept is not None:
                yield key, kept

    def _local_key(self, question: object, recs: Sequence[Recommendation]) -> LocalKey | None:
        """The unit's name within this process and its forks: its question's name, which of the
        units asking it this is (the worker and this run ask them in the same order), and its first
        recommendation and size, which must agree too."""
        name = question if isinstance(question, str) else question[0] if isinstance(question, tuple) else None
        if not isinstance(name, str):
            return None
        ordinal = self._ordinals.get(name, 0)
        self._ordinals[name] = ordinal + 1
        return (name, ordinal, id(recs[0]) if recs else 0, len(recs))

    @property
    def sharing(self) -> bool:
        """Whether this run shares its units with a worker (either side): then every unit must be
        asked through `once`."""
        return self.deferred is not None or self.ahead is not None

    def _key(self, question: object, recs: Sequence[Recommendation]) -> bytes:
        # A plain name is asked once per recommendation: the hash of the vocabulary and its digest
        # is made once per run and copied.
        prefix = self._questions.get(question) if isinstance(question, str) else None
        if prefix is None:
            prefix = hashlib.sha256(self._vocabulary + digest(question))
            if isinstance(question, str):
                self._questions[question] = prefix
        hasher = prefix.copy()
        hasher.update(b"".join([recommendation_digest(rec) for rec in recs]))  # as one update per digest hashes them
        return hasher.digest()

    def changed(self) -> bool:
        """Whether the table to keep differs from the one read."""
        return self.used.keys() != self.previous.keys()
