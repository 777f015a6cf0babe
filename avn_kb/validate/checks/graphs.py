"""The graphs between recommendations and between facts (cycle paths by networkx, see digraph.py):
AVN310 cycles in overrides, supersedes, derived-fact definitions or `defined_for` conditions (the
finding names the whole path), AVN311 links to recommendations that do not exist, AVN312 an
approved recommendation superseded by another approved one.

Passing:  RT-002 supersedes RT-001, and RT-001 is retired.
Failing:  PR-001 overrides PR-002 and PR-002 overrides PR-001 (AVN310: PR-001 -> PR-002 -> PR-001);
          overrides: [RT-999] with no RT-999 (AVN311).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from avn_kb.lang.derive import definitions, derivation_graph
from avn_kb.model.conditions import facts_of
from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Recommendation
from avn_kb.util.digraph import cycles, has_cycle
from avn_kb.validate.checks.context import CheckContext


def _link_graph(recs: tuple[Recommendation, ...], field: str, linked_only: bool = False) -> dict[str, set[str]]:
    """id -> the ids its `field` names. `linked_only`: only the recommendations that name some, which
    has the same cycles (a node no edge leaves is on none) and is a fraction of the size."""
    graph: dict[str, set[str]] = {}
    for rec in recs:
        links = getattr(rec, field)
        if links or not linked_only:
            graph.setdefault(rec.id, set()).update(links)
    return graph


def check_link_cycles(ctx: CheckContext) -> Iterator[Finding]:
    recs = {rec.id: rec for rec in ctx.kb.recommendations}
    for field in ("overrides", "supersedes"):
        if not has_cycle(_link_graph(ctx.kb.recommendations, field, linked_only=True)):
            continue
        for cycle in cycles(_link_graph(ctx.kb.recommendations, field)):
            rec = recs[cycle[0]]
            yield issue("AVN310", rec.where.path, rec.where.pointer + (field,),
                        f"cycle in {field}: {' -> '.join(cycle)}; remove one link so the order is clear",
                        ids=tuple(cycle[:-1]))


def check_derivation_cycles(ctx: CheckContext) -> Iterator[Finding]:
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    for cycle in cycles(derivation_graph(vocabulary)):
        derived = (vocabulary.derived.get(cycle[0])
                   or next(vocabulary.derived[n] for n in cycle if n in vocabulary.derived))
        yield issue("AVN310", derived.where.path, derived.where.pointer,
                    f"cycle in derived facts: {' -> '.join(cycle)}; a derived fact cannot depend on itself")


def check_definition_cycles(ctx: CheckContext) -> Iterator[Finding]:
    """A fact whose `defined_for` reads the fact itself, directly or through other definitions and
    derivations: the cases a fact exists in must be told by facts that do not depend on it. Cycles
    of derivations alone are reported by check_derivation_cycles."""
    vocabulary = ctx.kb.vocabulary
    if vocabulary is None:
        return
    graph = derivation_graph(vocabulary)
    definition_edges = set()
    for name, condition, _ in definitions(vocabulary):
        for fact in facts_of(condition):
            graph.setdefault(fact, set()).add(name)
            definition_edges.add((fact, name))
    declared = {fact.name: fact for fact in vocabulary.every_fact()}
    for cycle in cycles(graph):
        edges = list(itertools.pairwise(cycle))
        if not any(edge in definition_edges for edge in edges):
            continue
        owner = declared[next(b for a, b in edges if (a, b) in definition_edges)]
        yield issue("AVN310", owner.where.path, owner.where.pointer + ("defined_for",),
                    f"cycle in defined_for: {' -> '.join(cycle)}; the cases a fact is defined for must be "
                    "told by facts that do not depend on it")


def check_dangling_links(ctx: CheckContext) -> Iterator[Finding]:
    known = {rec.id for rec in ctx.kb.recommendations} | ctx.unbuilt_ids
    for rec in ctx.kb.recommendations:
        for field in ("overrides", "supersedes"):
            for index, other in enumerate(getattr(rec, field)):
                if other not in known:
                    yield issue("AVN311", rec.where.path, rec.where.pointer + (field, index),
                                f"{rec.id} {field} {other}, which does not exist: correct the id or remove it",
                                ids=(rec.id, other))


def check_superseded_still_approved(ctx: CheckContext) -> Iterator[Finding]:
    recs = {rec.id: rec for rec in ctx.kb.recommendations}
    for rec in ctx.kb.recommendations:
        if rec.status != "approved":
            continue
        for old_id in rec.supersedes:
            old = recs.get(old_id)
            if old is not None and old.status == "approved":
                yield issue("AVN312", old.where.path, old.where.pointer + ("status",),
                            f"{old_id} is superseded by {rec.id} but is still approved: retire it "
                            "(status: retired with a retired_reason)", ids=(old_id, rec.id))
