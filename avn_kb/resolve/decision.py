"""How the resolver decides, by position, for one case: which recommendations apply, which are
overridden and by whom, which stay undecided because an overrider is undecided (the fail-safe
rule: docs/format.md section 14), and which applying ones contradict each other or give two
doses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from avn_kb.lang import actions
from avn_kb.lang.index import positions_of
from avn_kb.model.knowledge import Action, Recommendation
from avn_kb.resolve.index import Index, OverridePlan
from avn_kb.util.digraph import predecessors, topological_order


@dataclass(frozen=True)
class Decision:
    """What `resolve` decided, by position: the applying and the undecided recommendations
    (ascending, final: neither overridden), the overridden ones with their winners, the ones
    left undecided by an undecided overrider (with those overriders' ids), the open ones that
    an applying recommendation would override, and the applying ones in conflict with others."""

    holds: int  # bitset: the recommendations whose own condition holds
    open_: int  # bitset: those whose own condition is open (what the decision was made from, with holds)
    applies: list[int]
    undecided_bits: int  # the undecided ones as a bitset: a case has hundreds, rarely all listed
    overridden: dict[int, tuple[str, ...]]
    pending: dict[int, tuple[str, ...]]
    would_lose: dict[int, tuple[str, ...]]
    conflicts: dict[int, tuple[str, ...]]
    doses_differ: dict[int, tuple[tuple[str, tuple[str, ...]], ...]]

    @cached_property
    def undecided(self) -> list[int]:
        """The undecided recommendations, ascending."""
        return positions_of(self.undecided_bits)



def settle(index: Index, holds: int, open_: int) -> Decision:
    """Final outcomes under overrides, right whatever the missing facts turn out to be.

    R applies only when its condition holds and every recommendation overriding it is known not
    to apply (it does not apply, or is itself overridden). One that applies beats R: R is
    overridden. One that is undecided leaves R undecided, pending it. A recommendation whose
    condition is open stays undecided (overriders it would lose to are kept for the reason).
    Walk the overrides graph from the top so that each overrider is settled before what it
    overrides. Links on a cycle (reported by the validator) are ignored."""
    applies, undecided = positions_of(holds), open_
    alive = holds | open_
    plan = index.overrides
    if plan is not None:
        return _settle_planned(index, plan, holds, open_, applies, undecided)
    overriders = index.overriding & alive
    graph: dict[str, set[str]] = {}
    recs, position = index.recommendations, index.position
    for i in positions_of(overriders):
        targets = {other for other in recs[i].overrides if other in position and alive >> position[other] & 1}
        if targets:
            graph[recs[i].id] = targets
    if not graph:
        return _decided(index, holds, open_, applies, undecided, {}, {}, {})
    blocked = index.on_override_cycles()
    if blocked:
        graph = {a: {b for b in targets if not (a in blocked and b in blocked)} for a, targets in graph.items()}
    order = topological_order(graph) or []
    beaten_by = predecessors(graph)
    overridden: dict[int, tuple[str, ...]] = {}
    pending: dict[int, tuple[str, ...]] = {}
    would_lose: dict[int, tuple[str, ...]] = {}

    def settled_applies(p: int) -> bool:
        return bool(holds >> p & 1) and p not in overridden and p not in pending

    for rec_id in order:
        j = position[rec_id]
        rivals = sorted(beaten_by.get(rec_id, ()))
        if not rivals:
            continue
        winners = tuple(w for w in rivals if settled_applies(position[w]))
        open_rivals = tuple(w for w in rivals if position[w] not in overridden and not settled_applies(position[w]))
        if holds >> j & 1:
            if winners:
                overridden[j] = winners
            elif open_rivals:
                pending[j] = open_rivals
        else:
            if winners:
                would_lose[j] = winners
            if open_rivals:
                pending[j] = open_rivals
    return _finish(index, holds, open_, applies, undecided, overridden, pending, would_lose)


def _settle_planned(index: Index, plan: OverridePlan, holds: int, open_: int, applies: list[int],
                    undecided: int) -> Decision:
    """`settle` on the overrides graph prepared once per index: the same walk, over only the
    alive recommendations with an alive overrider, in the whole graph's topological order (any
    order settling each overrider first gives the same outcomes)."""
    alive = holds | open_
    rival_bits, rivals_of, rank = plan.rival_bits, plan.rivals, plan.rank
    targets = [j for j in positions_of(alive & plan.targeted) if rival_bits[j] & alive]
    overridden: dict[int, tuple[str, ...]] = {}
    pending: dict[int, tuple[str, ...]] = {}
    would_lose: dict[int, tuple[str, ...]] = {}
    if not targets:
        return _decided(index, holds, open_, applies, undecided, overridden, pending, would_lose)
    targets.sort(key=rank.__getitem__)
    for j in targets:
        winners: list[str] = []
        open_rivals: list[str] = []
        for rival, p in rivals_of[j]:
            if not alive >> p & 1:
                continue
            if holds >> p & 1 and p not in overridden and p not in pending:
                winners.append(rival)
            elif p not in overridden:
                open_rivals.append(rival)
        if holds >> j & 1:
            if winners:
                overridden[j] = tuple(winners)
            elif open_rivals:
                pending[j] = tuple(open_rivals)
        else:
            if winners:
                would_lose[j] = tuple(winners)
            if open_rivals:
                pending[j] = tuple(open_rivals)
    return _finish(index, holds, open_, applies, undecided, overridden, pending, would_lose)


def _finish(index: Index, holds: int, open_: int, applies: list[int], undecided: int,
            overridden: dict[int, tuple[str, ...]], pending: dict[int, tuple[str, ...]],
            would_lose: dict[int, tuple[str, ...]]) -> Decision:
    """The decision once the overrides are walked: overridden and pending ones do not apply, and
    a pending one whose condition holds is undecided."""
    final_applies = [i for i in applies if i not in overridden and i not in pending]
    final_undecided = undecided
    for i in pending:
        if holds >> i & 1:
            final_undecided |= 1 << i
    return _decided(index, holds, open_, final_applies, final_undecided, overridden, pending, would_lose)


def _decided(index: Index, holds: int, open_: int, applies: list[int], undecided: int,
             overridden: dict[int, tuple[str, ...]], pending: dict[int, tuple[str, ...]],
             would_lose: dict[int, tuple[str, ...]]) -> Decision:
    """The decision, with the conflicts and the differing doses among what finally applies."""
    recs = index.recommendations
    return Decision(holds, open_, applies, undecided, overridden, pending, would_lose,
                    conflicts_among(recs, applies), doses_differing(recs, applies))


def conflicts_among(recs: tuple[Recommendation, ...], applying: list[int]) -> dict[int, tuple[str, ...]]:
    """For each applying recommendation whose action contradicts another applying one on the
    same target, the ids of those others."""
    by_target: dict[str, list[int]] = {}
    for i in applying:
        by_target.setdefault(recs[i].action.target, []).append(i)
    clashes: dict[int, list[str]] = {}
    for group in by_target.values():
        if len(group) < 2 or not _may_clash([recs[i].action for i in group]):
            continue
        for n, i in enumerate(group):
            for j in group[n + 1:]:
                if actions.contradiction(recs[i].action, recs[j].action):
                    clashes.setdefault(i, []).append(recs[j].id)
                    clashes.setdefault(j, []).append(recs[i].id)
    return {i: tuple(others) for i, others in clashes.items()}


def doses_differing(recs: tuple[Recommendation, ...],
                  applying: list[int]) -> dict[int, tuple[tuple[str, tuple[str, ...]], ...]]:
    """For each applying recommendation whose dose for a parameter differs from (but overlaps)
    another applying one's on the same target, the others with the parameters that differ."""
    by_target: dict[str, list[int]] = {}
    for i in applying:
        if recs[i].action.dose and recs[i].action.stance == "for":
            by_target.setdefault(recs[i].action.target, []).append(i)
    found: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
    for group in by_target.values():
        if len(group) < 2 or len({tuple(sorted(recs[i].action.dose.items())) for i in group}) < 2:
            continue  # one dose for all of them: nothing differs (the common case, in one pass)
        for n, i in enumerate(group):
            for j in group[n + 1:]:
                differ = actions.dose_differences(recs[i].action, recs[j].action)
                if differ:
                    found.setdefault(i, []).append((recs[j].id, differ))
                    found.setdefault(j, []).append((recs[i].id, differ))
    return {i: tuple(others) for i, others in found.items()}


def _may_clash(group: list[Action]) -> bool:
    """False when no two of these actions on one target can contradict: one stance, at most one
    level, and for each dose parameter every range overlapping every other (intervals meet
    pairwise exactly when the highest low is at most the lowest high), in one pass."""
    stances = {action.stance for action in group}
    if len(stances) > 1:
        return True
    if stances == {"against"}:
        return False
    if len({action.level for action in group if action.level is not None}) > 1:
        return True
    lows: dict[str, float] = {}
    highs: dict[str, float] = {}
    for action in group:
        for name, (low, high) in action.dose.items():
            lows[name] = max(lows.get(name, low), low)
            highs[name] = min(highs.get(name, high), high)
    return any(lows[name] > highs[name] for name in lows)
