"""AVN303 redundancy, decided exactly: a recommendation that a wider one with the same action
covers wherever it applies (see docs/checks.md for how the samples and the search decide it).

Passing:  RT-001 consider resistive-training when {region: lower-limb};
          RT-002 consider resistive-training (another dose) when {site: knee}
Failing:  RT-001 consider resistive-training when {region: lower-limb};
          RT-009 consider resistive-training when {site: knee}   -> AVN303 on RT-009
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property, partial
from typing import Any

from avn_kb.lang import actions
from avn_kb.lang.compiled import Check, compiled
from avn_kb.lang.index import CandidateIndex, positions_of
from avn_kb.lang.pairs import allowed_values
from avn_kb.lang.real_cases import RealCases
from avn_kb.lang.search import CaseSearch, SearchTooLarge
from avn_kb.model.conditions import Condition, conjuncts, facts_of
from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Recommendation, Vocabulary
from avn_kb.validate.checks.context import CheckContext
from avn_kb.validate.checks.logic import SAMPLES, live, too_large, windows_overlap
from avn_kb.validate.units import SearchRun


def check_redundancy(ctx: CheckContext, run: SearchRun) -> Iterator[Finding]:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    search = CaseSearch(vocabulary, budget=run.budget)
    same: dict[Any, list[Recommendation]] = {}
    for rec in live(ctx):
        action = rec.action
        key = (action.kind, action.target, tuple(sorted(action.dose.items())), action.level, action.exercises)
        same.setdefault(key, []).append(rec)
    for group in same.values():
        if len(group) >= 2:
            yield from run.once("redundant in group", group, partial(_redundant, search, vocabulary, group))


def _redundant(search: CaseSearch, vocabulary: Vocabulary, group: list[Recommendation]) -> tuple[Finding, ...]:
    """AVN303 for the members of one group (the same action) that another member covers."""
    return tuple(_redundant_members(search, vocabulary, group))


def _redundant_members(search: CaseSearch, vocabulary: Vocabulary, group: list[Recommendation]) -> Iterator[Finding]:
    # A few complete cases on which each condition applies refute most candidate implications:
    # where `a` applies and `b` does not, `a` cannot imply `b`. The group's bitset index says at
    # once which members hold on a sample, so the candidates for "a implies b" are the members
    # holding on every sample of `a`, found without looking at pairs. Only those are searched.
    axes = search.axes_for([rec.when for rec in group])
    # None where finding a member's samples was itself too large a search (its own limit, or the
    # run's budget spent): whether another member covers it is then undecided, and said so. Its
    # bits below stay empty, so it is never taken as the narrow side; as the wide side it needs
    # only the other member's samples and the exact search, which decide or report as for any pair.
    samples: list[list[dict[str, Any]] | None] = []
    for rec in group:
        try:
            samples.append(search.complete_cases(rec.when, axes, count=SAMPLES))
        except SearchTooLarge as err:
            samples.append(None)
            yield too_large(rec, f"whether another recommendation giving the same action "
                                 f"({actions.describe(rec.action)}) covers {rec.id}", err)
    index = CandidateIndex(group, vocabulary)
    within = [_holding_on_all(index, cases or []) for cases in samples]
    pairs = sorted({(min(i, j), max(i, j)) for i, bits in enumerate(within) for j in positions_of(bits) if j != i})
    nearby = _Nearby(search.real, vocabulary, group, axes, index)
    for i, j in pairs:
        a, b = group[i], group[j]
        # No samples at all (not None: undecided) means the condition never applies: AVN302's case.
        if samples[i] == [] or samples[j] == [] or not windows_overlap(a, b):
            continue
        a_maybe = bool(within[i] >> j & 1) and not nearby.refutes(samples[i] or [], i, j)
        b_maybe = bool(within[j] >> i & 1) and not nearby.refutes(samples[j] or [], j, i)
        if not (a_maybe or b_maybe):
            continue
        try:
            a_in_b = a_maybe and search.implies(a.when, b.when)
            b_in_a = b_maybe and search.implies(b.when, a.when)
        except SearchTooLarge as err:
            yield too_large(b, f"whether {a.id} and {b.id} overlap", err, a)
            continue
        if a_in_b or b_in_a:
            narrow, wide = (a, b) if a_in_b else (b, a)
            yield issue("AVN303", narrow.where.path, narrow.where.pointer + ("id",),
                        f"{narrow.id} is redundant: {wide.id} (the wider one) gives the same action "
                        f"({actions.describe(wide.action)}) whenever {narrow.id} applies; merge or retire one",
                        ids=(narrow.id, wide.id))


class _Nearby:
    """Counterexamples to "a implies b" looked for next to a's samples: change one fact of a
    sample to a value that b's top-level demands exclude; if a still applies and b does not, a
    does not imply b. One derivation and two evaluations per try, against a whole search: most
    candidate implications that survive the samples fall here, and every counterexample is checked
    on the real condition, so nothing is refuted wrongly."""

    def __init__(self, real: RealCases, vocabulary: Vocabulary, group: list[Recommendation],
                 axes: list[tuple[str, list[Any]]], index: CandidateIndex) -> None:
        self.real = real
        self.vocabulary = vocabulary
        self.group = group
        self.checks = index.checks  # the group's conditions, compiled once by its index
        self.values = dict(axes)
        self.derived = set(vocabulary.derived)
        # A set fact's elements, for the tries that give it none or all of them.
        self.elements = {fact: sorted({element for value in values for element in value}, key=str)
                         for fact, values in axes if values and isinstance(values[0], list)}
        self._parts: dict[int, _Parts] = {}  # of the members tried so far
        self._bases: dict[int, list[dict[str, Any]]] = {}

    def refutes(self, samples: list[dict[str, Any]], narrow: int, wide: int) -> bool:
        """Whether a try next to one of the samples of `narrow` (the group's position; `samples`:
        its samples, the same list every time) is a case on which it applies and `wide` does not.
        `wide` holds on every one of those samples: the candidates are found so (_holding_on_all)."""
        narrow_check, wide_check = self.checks[narrow], self.checks[wide]
        narrow_parts, wide_parts, deciding = self._parts_of(narrow), self._parts_of(wide), self.real.deciding
        for sample, base in zip(samples, self._bases_of(narrow, samples)):
            for fact, value in self._excluded(wide_parts, base):
                if fact in deciding:
                    facts, real = self.real({**base, fact: value})
                    if real and narrow_check(facts) is True and wide_check(facts) is not True:
                        return True
                # A fact that decides no derived fact leaves them as on the sample, and the sample
                # real: both conditions hold there, so each holds on the try when its conjuncts
                # reading the fact do.
                elif not wide_parts.hold(sample, fact, value) and narrow_parts.hold(sample, fact, value):
                    return True
        return False

    def _bases_of(self, position: int, samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The samples of a member without their derived facts, made once: a member is the narrow
        one of many pairs."""
        bases = self._bases.get(position)
        if bases is None:
            bases = self._bases[position] = [{fact: value for fact, value in sample.items()
                                              if fact not in self.derived} for sample in samples]
        return bases

    def _parts_of(self, position: int) -> _Parts:
        parts = self._parts.get(position)
        if parts is None:
            parts = self._parts[position] = _Parts(self.vocabulary, self.group[position].when)
        return parts

    def _excluded(self, wide: _Parts, case: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """(fact, value) changes of the case that the wide condition's top-level demands rule
        out, then other values of the base facts it reads elsewhere (under `any` or `not`): for a
        set, none and all of its elements."""
        yield from self._against_demands(wide.demands, case)
        for fact in wide.elsewhere:
            values = self.values.get(fact, ())
            if fact in self.elements:
                yield fact, []
                yield fact, self.elements[fact]
            else:
                for value in values:
                    if value != case.get(fact):
                        yield fact, value

    def _against_demands(self, demands: dict[str, Any], case: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        for fact, demand in demands.items():
            if fact in self.derived:
                continue
            if isinstance(demand, frozenset):
                for value in self.values.get(fact, ()):
                    if value not in demand and value != case.get(fact):
                        yield fact, value
            elif isinstance(demand[0], frozenset):  # set: add an element it must lack, drop one it must have
                has, lacks = demand
                present = set(case.get(fact) or ())
                for element in sorted(lacks - present, key=str):
                    yield fact, sorted(present | {element}, key=str)
                for element in sorted(has & present, key=str):
                    yield fact, sorted(present - {element}, key=str)
            else:
                low, high = demand
                for value in self.values.get(fact, ()):
                    if (low is not None and value < low) or (high is not None and value > high):
                        yield fact, value


class _Parts:
    """What the nearby tries read of one member's condition: its top-level demands, the facts it
    reads, and its top-level conjuncts by the facts they read (compiled; `alone`: reading no
    other fact, so judged on the fact's value by itself)."""

    def __init__(self, vocabulary: Vocabulary, condition: Condition) -> None:
        self.vocabulary, self.condition = vocabulary, condition
        self.on_fact: dict[str, list[tuple[Check, bool]]] = {}
        for conjunct in conjuncts(condition):
            read = facts_of(conjunct)
            for fact in read:
                self.on_fact.setdefault(fact, []).append((compiled(conjunct), len(read) == 1))
        self.reads = frozenset(self.on_fact)

    @cached_property
    def demands(self) -> dict[str, Any]:
        """Asked only of the wider member of a pair."""
        return allowed_values(self.vocabulary, self.condition)

    @cached_property
    def elsewhere(self) -> list[str]:
        """The base facts it reads other than in its top-level demands, in order."""
        return sorted(self.reads - self.demands.keys() - self.vocabulary.derived.keys())

    def hold(self, case: dict[str, Any], fact: str, value: Any) -> bool:
        """Whether the condition, holding on `case`, holds on it with `fact` set to `value` (a
        fact no derived fact reads): whether each of its conjuncts reading the fact does, for the
        others read the case as it was."""
        changed = None
        for check, alone in self.on_fact.get(fact, ()):
            if alone:
                result = check({fact: value})
            else:
                if changed is None:
                    changed = {**case, fact: value}
                result = check(changed)
            if result is not True:
                return False
        return True


def _holding_on_all(index: CandidateIndex, cases: list[dict[str, Any]]) -> int:
    """The members of the index whose condition holds on every one of these complete cases."""
    if not cases:
        return 0
    bits = index.everyone
    for case in cases:
        bits &= index.truth(case, bits)[0]
    return bits
