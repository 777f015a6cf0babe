"""The samples of a case search: a few complete cases on which a condition applies, spread
over the values of the axes, for the checks that refute most candidate implications on them
before any search (avn_kb/validate/checks/redundancy.py). Made directly where the condition's
parts each read one base fact, split where it reads derived facts (avn_kb/lang/split_samples.py),
and otherwise from the witnesses of a search of the whole condition, filled in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from avn_kb.lang.axes import Axes
from avn_kb.lang.compiled import compiled
from avn_kb.lang.domains import SearchLimits, SearchTooLarge
from avn_kb.lang.split_samples import MAX_STEPS, part_witnesses
from avn_kb.model.conditions import Condition, Test, conjuncts, facts_of, tests

if TYPE_CHECKING:
    from avn_kb.lang.search import CaseSearch


class Samples:
    """The samples of one case search (its vocabulary, its derivations, its remembered values)."""

    def __init__(self, search: CaseSearch) -> None:
        self.search = search

    def complete_cases(self, condition: Condition, axes: Axes, count: int) -> list[dict[str, Any]]:
        """Up to `count` cases on which `condition` applies, each giving a value to every fact of
        `axes` (a witness filled in with different values: by monotonicity it still applies).
        With derived facts included. Empty when the condition can never apply."""
        direct = self.direct_cases(condition, axes, count)
        if direct is not None:
            return direct
        split = self.split_cases(condition, axes, count)
        if split is not None:
            return split
        partials = []
        for partial in self.search.iter_cases([condition]):
            partials.append(partial)
            if len(partials) == count:
                break
        return self._filled_in(condition, axes, partials, count)

    def _filled_in(self, condition: Condition, axes: Axes, partials: list[dict[str, Any]],
                   count: int) -> list[dict[str, Any]]:
        """Up to `count` of the partial cases, filled in over the axes, on which the condition
        applies (each checked on it), with derived facts included."""
        check = compiled(condition)
        found: list[dict[str, Any]] = []
        for k in range(count if partials else 0):
            case = dict(partials[k % len(partials)])
            for fact, values in self._filling_order(axes):
                if fact in case or not values:
                    continue
                # Rotate through the values so that samples differ (consecutive k, distinct values);
                # skip values that would make the facts disagree (two staging systems giving
                # different collapse values) or a fact undefined.
                for j in range(len(values)):
                    case[fact] = values[(k + len(fact) + j) % len(values)]
                    if fact not in self.search.validity_inputs or self.search.real.is_real(case):
                        break
                else:
                    del case[fact]
            facts, real = self.search.real(case)
            if real and check(facts) is True and facts not in found:
                found.append(facts)
        return found

    def split_cases(self, condition: Condition, axes: Axes, count: int) -> list[dict[str, Any]] | None:
        """`count` samples made as avn_kb/lang/split_samples.py says, or None where that does not
        apply or does not find them (the search of the whole condition then decides)."""
        deciding = self.search.real.deciding
        alone: dict[str, list[Condition]] = {}
        searched: list[Condition] = []
        for part in conjuncts(condition):
            read = facts_of(part)
            fact = next(iter(read)) if len(read) == 1 else None
            if fact is not None and fact in self.search.vocabulary.facts and fact not in deciding:
                alone.setdefault(fact, []).append(part)
            else:
                searched.append(part)
        values = dict(axes)
        if not searched or not alone.keys() <= values.keys():
            return None
        witnesses = part_witnesses(self.search.vocabulary, searched, count, self._free_witnesses)
        if not witnesses or any(fact in alone for witness in witnesses for fact in witness):
            return None
        choices = []
        for fact, parts in alone.items():
            accepted = self.search.accepted(fact, values[fact], parts)
            if not accepted:
                return None
            choices.append((fact, accepted, max(1, len(accepted) // count)))
        partials = []
        for k in range(count):
            partial = dict(witnesses[k % len(witnesses)])
            for fact, accepted, stride in choices:  # spread as the direct samples are
                partial[fact] = accepted[(k * stride + len(fact)) % len(accepted)]
            partials.append(partial)
        found = self._filled_in(condition, axes, partials, count)
        return found if len(found) == count else None

    def _free_witnesses(self, parts: Sequence[Condition], count: int) -> list[dict[str, Any]]:
        """Up to `count` partial cases on which every part holds, from a search that draws nothing
        from the budget and stops early (avn_kb/lang/split_samples.py); none when it stops."""
        search = type(self.search)(self.search.vocabulary, SearchLimits(MAX_STEPS))
        search.real = self.search.real  # the same derivations, remembered once
        found: list[dict[str, Any]] = []
        try:
            for case in search.iter_cases(parts):
                found.append(case)
                if len(found) == count:
                    break
        except SearchTooLarge:
            return []
        return found

    def _filling_order(self, axes: Axes) -> Axes:
        """The axes with the facts that declare `defined_for` last: the facts their definitions
        read then vary freely from sample to sample (the site), and a defined fact is given where
        it is defined and left out elsewhere (the stage), rather than pinning every sample to the
        cases it is defined for."""
        return sorted(axes, key=lambda axis: axis[0] in self.search.definitions)

    def direct_cases(self, condition: Condition, axes: Axes, count: int) -> list[dict[str, Any]] | None:
        """The same samples without a search, for a conjunction whose parts each read one base
        fact (the usual condition): each fact takes, in turn, a value every part on it accepts, so
        facts are chosen independently, except that a derivation input takes a value on which the
        facts still agree. Every case is checked on the condition itself; None when the shortcut
        does not apply or does not find `count` cases (the search then decides)."""
        on_fact: dict[str, list[Condition]] = {}
        facts_declared = self.search.vocabulary.facts
        for part in conjuncts(condition):
            read = {part.fact} if isinstance(part, Test) else {t.fact for t in tests(part)}
            if len(read) != 1 or not read <= facts_declared.keys():
                return None
            on_fact.setdefault(next(iter(read)), []).append(part)
        if not on_fact.keys() <= {fact for fact, _ in axes}:
            return None
        choices = []
        # The facts the condition reads first: a fact it does not read then takes a value that
        # keeps the case real (or stays missing), instead of ruling out the value it needs (a
        # stage given before the site at which the stage is undefined). Among each, the filling
        # order (one sort by both: Python's sort is stable).
        defined = self.search.definitions
        for fact, values in sorted(axes, key=lambda axis: (axis[0] not in on_fact, axis[0] in defined)):
            accepted = self.search.accepted(fact, values, on_fact.get(fact, []))
            if not accepted:
                return None
            choices.append((fact, accepted, max(1, len(accepted) // count)))
        check = compiled(condition)
        found: list[dict[str, Any]] = []
        for k in range(count):
            # Spread the samples over each fact's accepted values (sets: from few elements to many).
            # Usually every fact's first value makes a real case, and then each step below would
            # have kept its first value (every part of a real case is real: monotonicity), so that
            # case is the sample, found with one derivation instead of one per derivation input.
            case = {fact: accepted[(k * stride + len(fact)) % len(accepted)] for fact, accepted, stride in choices}
            facts, real = self.search.real(case)
            if not real:
                filled = self._filled(choices, k, on_fact)
                if filled is None:
                    return None
                facts, real = self.search.real(filled)
            if not real or check(facts) is not True:
                return None
            if facts not in found:
                found.append(facts)
        return found if len(found) == count else None

    def _filled(self, choices: list[tuple[str, list[Any], int]], k: int,
                on_fact: dict[str, list[Condition]]) -> dict[str, Any] | None:
        """Sample `k` fact by fact: a derivation input takes the first value, in its turn, on which
        the facts so far still make a real case (or stays missing); None when a fact the
        condition reads has no such value."""
        case: dict[str, Any] = {}
        for fact, accepted, stride in choices:
            definition = self.search.definitions.get(fact)
            if definition is not None and definition(self.search.real(case)[0]) is False:
                # Undefined here, and so on every extension (monotonicity): every value would
                # make the case no case, so it stays missing without trying each.
                if fact in on_fact:
                    return None
                continue
            start = k * stride + len(fact)
            for j in range(len(accepted)):
                case[fact] = accepted[(start + j) % len(accepted)]
                if fact not in self.search.validity_inputs or self.search.real.is_real(case):
                    break
            else:
                if fact in on_fact:
                    return None
                del case[fact]
        return case
