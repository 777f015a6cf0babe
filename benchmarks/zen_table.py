"""Compile a knowledge base into one GoRules JDM decision graph, for zen-engine to evaluate.

The graph is input -> expression node (derived facts) -> decision table (hit policy collect) ->
output. Each eligible recommendation (approved, in force on the day, not superseded: what the
resolver considers by default) becomes one or more rows whose output is its id; a case's answer
is the set of ids of the rows that match.

How conditions become rows:

- The condition is put in negation normal form (`not` pushed down to the tests by De Morgan) and
  expanded into a disjunction of conjunctions: one row per conjunction. So `any` (and `not` over
  `all`) gives several rows; `all` and several keys give one row.
- In a row, the tests on one fact become one cell of that fact's column. An enum or boolean test
  (negated or not) becomes the list of allowed values (`"subacute", "chronic"`): a negated test is
  written as the complement in the fact's declared domain, never as `!=`, because zen's
  `!= "acute"` holds when the fact is missing while the resolver's `not` is then unknown. Sets and
  numbers use the unary language with a null guard: `$ != null and contains($, "x")`,
  `$ != null and ($ < 3 or $ > 5)`. So a missing fact never matches, like the resolver's
  three-valued logic where a missing fact leaves a test unknown and the recommendation undecided:
  comparing the two engines treats undecided as not applying.
- Derived facts (region, collapse) are computed by an expression node from their declared cases,
  with the resolver's rule: the value whose cases hold when no other value's case holds, and a
  value given directly in the case wins.

What the table does not do and the resolver does (the resolver's answers carry more): overrides
(an overridden recommendation is still in the table's answer: the comparison uses the
recommendations whose condition holds, `applies` plus `overridden`), conflict flags, traces,
missing-fact lists, per-kg loads, and an outcome for every recommendation.
"""

from __future__ import annotations

from avn_kb.lang.derive import derivation_order

import datetime as dt
import json
from dataclasses import replace
from typing import Any, Iterator

from avn_kb.model.conditions import All, AnyOf, Condition, Not, Test
from avn_kb.model.knowledge import KnowledgeBase, Recommendation, Vocabulary

Literal = tuple[Test, bool]  # (test, negated)


def eligible(kb: KnowledgeBase, as_of: dt.date) -> list[Recommendation]:
    """Approved, in force on the day, not superseded by another such: the resolver's default set."""
    day = as_of.isoformat()
    in_force = [rec for rec in kb.recommendations if rec.status == "approved"
                and (rec.effective_from or "") <= day and (rec.effective_until is None or day <= rec.effective_until)]
    superseded = {old for rec in in_force for old in rec.supersedes}
    return [rec for rec in in_force if rec.id not in superseded]


def dnf(condition: Condition, negated: bool = False) -> list[list[Literal]]:
    """The condition as a disjunction of conjunctions of (negated) tests."""
    if isinstance(condition, Test):
        if negated and condition.op == "range" and condition.low is not None and condition.high is not None:
            # not(lo <= x <= hi) is x < lo or x > hi: two rows (zen's unary parser refuses not(a and b))
            return [[(replace(condition, high=None), True)], [(replace(condition, low=None), True)]]
        return [[(condition, negated)]]
    if isinstance(condition, Not):
        return dnf(condition.part, not negated)
    conjunctive = isinstance(condition, All) != negated  # not(any) is all(not)
    parts = [dnf(part, negated) for part in condition.parts]
    if not conjunctive:
        return [conj for part in parts for conj in part]
    rows: list[list[Literal]] = [[]]
    for part in parts:
        rows = [row + conj for row in rows for conj in part]
    return rows


def _quote(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


def _member(value: Any, values: frozenset[Any]) -> bool:
    # As the resolver: True == 1 in Python sets, but a boolean only matches a boolean.
    return any(value == v and isinstance(value, bool) == isinstance(v, bool) for v in values)


def _domain(vocabulary: Vocabulary, fact: str) -> tuple[Any, ...]:
    kind = vocabulary.fact_type(fact)
    return (True, False) if kind == "boolean" else tuple(vocabulary.fact_values(fact))


def cell(vocabulary: Vocabulary, fact: str, literals: list[Literal]) -> str | None:
    """The unary expression for one fact's column in one row; None when no value can match."""
    kind = vocabulary.fact_type(fact)
    if kind in ("enum", "boolean"):
        domain = _domain(vocabulary, fact)
        allowed = set(domain)
        for test, negated in literals:
            holds = {v for v in domain if _member(v, test.values) == (test.op == "in")}
            allowed &= (set(domain) - holds) if negated else holds
        if not allowed:
            return None
        return ", ".join(_quote(v) for v in domain if v in allowed)
    guards = ["$ != null"]
    for test, negated in literals:
        guards.append(_test_expression(test, "$", negated))
    return " and ".join(guards)


def _test_expression(test: Test, ref: str, negated: bool = False) -> str:
    """A standard-language expression for a set or number test on `ref` (known to be non-null)."""
    if test.op in ("has", "lacks"):
        (value,) = tuple(test.values)
        contains = f"contains({ref}, {_quote(value)})"
        return contains if (test.op == "has") != negated else f"not({contains})"
    bounds = []
    if test.low is not None:
        bounds.append(f"{ref} >= {_quote(test.low)}")
    if test.high is not None:
        bounds.append(f"{ref} <= {_quote(test.high)}")
    inside = " and ".join(bounds) or "true"
    return f"not({inside})" if negated else inside


def _expression(vocabulary: Vocabulary, condition: Condition) -> str:
    """A standard-language expression that is true when the condition holds (missing facts: false)."""
    rows = []
    for conj in dnf(condition):
        terms = []
        for test, negated in conj:
            kind = vocabulary.fact_type(test.fact)
            if kind in ("enum", "boolean"):
                allowed = cell(vocabulary, test.fact, [(test, negated)])
                terms.append(f"{test.fact} in [{allowed}]" if allowed else "false")
            else:
                terms.append(f"({test.fact} != null and {_test_expression(test, test.fact, negated)})")
        rows.append("(" + (" and ".join(terms) or "true") + ")")
    return " or ".join(rows) or "false"


def derived_expressions(vocabulary: Vocabulary) -> list[tuple[str, str]]:
    """(name, expression) for each derived fact, in dependency order."""
    out = []
    for derived in derivation_order(vocabulary):
        if derived.otherwise is not None:
            raise NotImplementedError(f"derived fact {derived.name} has `otherwise`: not compiled")
        by_value: dict[str, list[str]] = {}
        for value, when in derived.cases:
            by_value.setdefault(value, []).append(f"({_expression(vocabulary, when)})")
        holds = {value: " or ".join(parts) for value, parts in by_value.items()}
        expression = "null"
        for value in reversed(list(holds)):
            others = [f"({h})" for v, h in holds.items() if v != value]
            alone = f"({holds[value]})" + "".join(f" and not {o}" for o in others)
            expression = f"({alone}) ? {_quote(value)} : ({expression})"
        out.append((derived.name, f"{derived.name} != null ? {derived.name} : ({expression})"))
    return out


def rows_of(vocabulary: Vocabulary, rec: Recommendation) -> Iterator[dict[str, str]]:
    """The table rows of one recommendation: {fact: cell}."""
    for conj in dnf(rec.when):
        by_fact: dict[str, list[Literal]] = {}
        for test, negated in conj:
            by_fact.setdefault(test.fact, []).append((test, negated))
        row = {}
        for fact, literals in by_fact.items():
            expression = cell(vocabulary, fact, literals)
            if expression is None:
                break
            row[fact] = expression
        else:
            yield row


def decision_graph(kb: KnowledgeBase, as_of: dt.date) -> tuple[dict[str, Any], int]:
    """The JDM graph of the knowledge base and its number of table rows."""
    vocabulary = kb.vocabulary
    assert vocabulary is not None
    rows = [(rec.id, row) for rec in eligible(kb, as_of) for row in rows_of(vocabulary, rec)]
    facts = sorted({fact for _, row in rows for fact in row})
    columns = {fact: f"in-{fact}" for fact in facts}
    table = {
        "hitPolicy": "collect",
        "inputs": [{"id": columns[f], "name": f, "field": f} for f in facts],
        "outputs": [{"id": "out-id", "name": "id", "field": "id"}],
        "rules": [{"_id": f"r{i}", **{columns[f]: row.get(f, "") for f in facts}, "out-id": _quote(rec_id)}
                  for i, (rec_id, row) in enumerate(rows)],
    }
    expressions = [{"id": f"x-{name}", "key": name, "value": value} for name, value in derived_expressions(vocabulary)]
    nodes = [
        {"id": "input", "type": "inputNode", "name": "case", "position": {"x": 0, "y": 0}},
        {"id": "derive", "type": "expressionNode", "name": "derived facts", "position": {"x": 200, "y": 0},
         "content": {"expressions": expressions, "passThrough": True}},
        {"id": "table", "type": "decisionTableNode", "name": "recommendations", "position": {"x": 400, "y": 0},
         "content": table},
        {"id": "output", "type": "outputNode", "name": "ids", "position": {"x": 600, "y": 0}},
    ]
    edges = [{"id": f"e{i}", "type": "edge", "sourceId": a, "targetId": b}
             for i, (a, b) in enumerate((("input", "derive"), ("derive", "table"), ("table", "output")))]
    graph = {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}
    return graph, len(rows)


def check_cells(graph: dict[str, Any]) -> list[str]:
    """Cells zen refuses to compile (a refused cell silently never matches, so look first)."""
    import zen

    problems = []
    seen: set[str] = set()
    table = next(n for n in graph["nodes"] if n["type"] == "decisionTableNode")["content"]
    for rule in table["rules"]:
        for key, text in rule.items():
            if key in ("_id", "out-id") or not text or text in seen:
                continue
            seen.add(text)
            try:
                zen.compile_unary_expression(text)
            except Exception as err:  # noqa: BLE001 - zen raises a plain error for any refusal
                problems.append(f"{text!r}: {err}")
    for node in graph["nodes"]:
        for item in (node.get("content") or {}).get("expressions", ()):
            try:
                zen.compile_expression(item["value"])
            except Exception as err:  # noqa: BLE001
                problems.append(f"{item['key']}: {err}")
    return problems


def matched_ids(result: dict[str, Any]) -> set[str]:
    """The ids a zen evaluation of the graph returned."""
    rows = result.get("result") or []
    if isinstance(rows, dict):  # one match can come back as an object
        rows = [rows]
    return {row["id"] for row in rows}
