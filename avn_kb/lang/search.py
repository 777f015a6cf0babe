"""Exact decisions over the declared fact domains (avn_kb.lang.domains says why its values cover
every case): can these conditions all apply to one case, and can this one apply while that one
does not? The search assigns one fact at a time and evaluates the conditions on the partial case
after each step; Kleene logic is monotone (true or false on a partial case stays so on every
extension), so a branch is cut as soon as it cannot lead to a witness."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from avn_kb.lang.axes import Axes, search_axes
from avn_kb.lang.compiled import Check, compiled
from avn_kb.lang.derive import definitions
from avn_kb.lang.domains import SearchBudget, SearchLimits, SearchTooLarge, expanded_tests
from avn_kb.lang.real_cases import RealCases
from avn_kb.lang.samples import Samples
from avn_kb.model.conditions import Condition, conjuncts, tests
from avn_kb.model.knowledge import Vocabulary

DEFAULT_LIMITS = SearchLimits()


class CaseSearch:
    """Searches the case space of one vocabulary."""

    def __init__(self, vocabulary: Vocabulary, limits: SearchLimits = DEFAULT_LIMITS,
                 budget: SearchBudget | None = None) -> None:
        self.vocabulary = vocabulary
        self.limits = limits
        self.budget = budget
        self.real = RealCases(vocabulary)
        self.samples = Samples(self)
        self._values_cache: dict[tuple[Any, ...], tuple[list[Any], list[Any]]] = {}
        # Facts with a `defined_for`, each with its compiled condition: a case giving one where the
        # condition is false is no case; where it is false the fact is complete without a value.
        self.definitions = {name: check for name, _, check in definitions(vocabulary)}
        # Facts whose values can make a case no real case: those derived facts read (the facts may
        # disagree), facts with a `defined_for` and those it reads (the fact may be undefined).
        # Only these are ever worth leaving out to find a witness.
        self.validity_inputs = {t.fact for d in vocabulary.derived.values() for _, when in d.cases
                                 for t in tests(when)}
        self.validity_inputs |= self.definitions.keys()
        self.validity_inputs |= {t.fact for _, condition, _ in definitions(vocabulary) for t in tests(condition)}

    def find(self, apply: Sequence[Condition], not_apply: Sequence[Condition] = ()) -> dict[str, Any] | None:
        """A case on which every condition of `apply` holds and none of `not_apply` does, or None
        when there is none. Cases are judged complete over the facts the conditions read."""
        return next(self.iter_cases(apply, not_apply), None)

    def iter_cases(self, apply: Sequence[Condition], not_apply: Sequence[Condition] = (),
                   axes: Axes | None = None) -> Iterator[dict[str, Any]]:
        """Every such case (distinct assignments of the facts read; partial when `not_apply` is
        empty and the rest cannot matter). `axes`: search_axes of the conditions, if known."""
        if axes is None:
            axes = search_axes(self.vocabulary, [*apply, *not_apply], complete=bool(not_apply))
        axes = self._consistent(axes, apply)
        if axes is None:
            return  # some fact has no value every condition that must hold accepts: no case at all
        # Facts on the axes only because a derived fact reading them could make the case disagree:
        # no condition reads them, so they may always stay missing, even when judging complete cases.
        read = {test.fact for test in expanded_tests(self.vocabulary, [*apply, *not_apply])}
        optional = frozenset(fact for fact, _ in axes if fact not in read)
        steps = [0]
        try:
            yield from self._walk(axes, 0, {}, [compiled(c) for c in apply],
                                  [compiled(c) for c in not_apply], steps, optional)
        finally:  # also when the caller stops early (find takes the first case): never raise here
            if self.budget is not None:
                self.budget.left -= steps[0]

    def _consistent(self, axes: Axes,
                    apply: Sequence[Condition]) -> Axes | None:
        """The axes without the values that a part of a condition which must hold rules out on its
        own: a conjunct reading one base fact is false for such a value whatever the other facts
        are, so no branch through it can lead to a case. Cut before the search instead of at every
        branch (two conditions disagreeing only on the last axis, a set of 256 subsets, otherwise
        walk every combination of the axes before it). None when a fact is left without a value."""
        accepts: dict[str, list[Check]] = {}
        for condition in apply:
            for part in conjuncts(condition):
                read = {t.fact for t in tests(part)}
                if len(read) == 1 and next(iter(read)) in self.vocabulary.facts:
                    accepts.setdefault(next(iter(read)), []).append(compiled(part))
        if not accepts:
            return axes
        narrowed = []
        for fact, values in axes:
            checks = accepts.get(fact)
            if checks:
                values = self._values_where(fact, values, tuple(checks), strict=False)
                if not values:
                    return None
            narrowed.append((fact, values))
        return narrowed

    def _walk(self, axes: Axes, depth: int, case: dict[str, Any], apply: list[Check],
              not_apply: list[Check], steps: list[int], optional: frozenset[str],
              known: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """`known`: the case's facts with the derived ones, when the step before already has
        them (the case is real)."""
        steps[0] += 1
        if steps[0] > self.limits.max_steps:
            raise SearchTooLarge(f"more than {self.limits.max_steps:,} partial cases")
        if self.budget is not None and steps[0] > self.budget.left and steps[0] > SearchBudget.FREE_STEPS:
            raise self.budget.spent()
        if known is not None:
            facts = known
        else:
            facts, real = self.real(case)
            if not real:
                return  # facts that disagree (or a fact undefined here) stay so on every extension: no real case
        results = [check(facts) for check in apply]
        if False in results:
            return
        if any(check(facts) is True for check in not_apply):
            return
        if not not_apply and all(r is True for r in results):
            yield dict(case)
            return
        if depth == len(axes):
            if all(r is True for r in results) and all(check(facts) is not True for check in not_apply) \
                    and self._complete(axes, case, facts, optional):
                yield dict(case)
            return
        fact, values = axes[depth]
        definition = self.definitions.get(fact)
        if definition is not None and definition(facts) is False:
            values = []  # undefined on this case: every value would make it no case
        # A fact that decides no derived fact and no definition leaves them as they are, and the
        # case real: its facts are this step's and the fact's value, without deriving again.
        deciding = fact in self.real.deciding
        for value in values:
            case[fact] = value
            yield from self._walk(axes, depth + 1, case, apply, not_apply, steps, optional,
                                  None if deciding else {**facts, fact: value})
            del case[fact]
        if fact in self.validity_inputs and (not not_apply or fact in optional or fact in self.definitions):
            # Giving this fact may make derived facts disagree, or the fact undefined, where leaving
            # it out does not: a witness may exist only with it missing. (A fact the conditions
            # read may be left out of a complete case only where it is undefined: see _complete.)
            yield from self._walk(axes, depth + 1, case, apply, not_apply, steps, optional, facts)

    def _complete(self, axes: Axes, case: dict[str, Any], facts: dict[str, Any],
                  optional: frozenset[str]) -> bool:
        """Whether the case gives every fact of the axes a value, except those no condition reads
        (`optional`) and those its other facts leave undefined (their `defined_for` is false)."""
        definitions = self.definitions
        return all(fact in case or fact in optional or (fact in definitions and definitions[fact](facts) is False)
                   for fact, _ in axes)

    def axes_for(self, conditions: Sequence[Condition]) -> Axes:
        """The facts these conditions read, each with the values that stand for all others."""
        return search_axes(self.vocabulary, conditions)

    def complete_cases(self, condition: Condition, axes: Axes,
                       count: int = 3) -> list[dict[str, Any]]:
        """Up to `count` cases on which `condition` applies, each giving a value to every fact of
        `axes` (avn_kb/lang/samples.py). With derived facts included. Empty when the condition can
        never apply."""
        return self.samples.complete_cases(condition, axes, count)

    def accepted(self, fact: str, values: list[Any], parts: list[Condition]) -> list[Any]:
        """The values of `fact` every part accepts (parts read only this fact)."""
        if not parts:
            return values
        return self._values_where(fact, values, tuple(compiled(part) for part in parts), strict=True)

    def _values_where(self, fact: str, values: list[Any], checks: tuple[Check, ...], strict: bool) -> list[Any]:
        """The values of `fact` on which every check (each reading only this fact) holds, with
        `strict`, or is not false; remembered by the checks, which every condition testing the fact
        alike shares (avn_kb/lang/compiled.py), and by the list of values."""
        # The entry keeps `values` alive, so its id cannot be reused by another list meanwhile.
        key = (fact, checks, id(values), strict)
        cached = self._values_cache.get(key)
        if cached is None:
            if strict:
                kept = [v for v in values if all(check({fact: v}) is True for check in checks)]
            else:
                kept = [v for v in values if all(check({fact: v}) is not False for check in checks)]
            cached = self._values_cache[key] = (values, kept)
        return cached[1]

    def satisfiable(self, condition: Condition) -> bool:
        # A direct sample is a real case on which the condition holds (checked): no search needed.
        axes = search_axes(self.vocabulary, [condition], complete=False)
        if self.samples.direct_cases(condition, axes, 1) or self.samples.split_cases(condition, axes, 1):
            return True
        return next(self.iter_cases([condition], axes=axes), None) is not None

    def implies(self, narrow: Condition, wide: Condition) -> bool:
        """Whether every complete case on which `narrow` applies is one on which `wide` applies."""
        return self.find([narrow], [wide]) is None
