"""Generate a synthetic knowledge base of N recommendations with the shapes of the shipped one.

    python benchmarks/generate.py --n 10000 --out /tmp/kb-10k [--conflicts 10] [--seed 1]

The manifest, vocabulary and bibliography are copied from benchmarks/base/, a frozen copy of the
shipped knowledge base as released in 0.1.0 (with its dose words): the generator's dimensions (an `etiology` enum, a
one-repetition-maximum band) are those of that vocabulary, and a fixed base keeps measurements
comparable while the shipped content changes. Every recommendation is a variant of one of the
base recommendations (taken in turn, so statuses, topics, targets,
evidence and citations keep the shipped proportions); what varies is its condition, its dose,
and its links. Recommendations go into files of at most --per-file entries, one topic per file,
named `<topic>-NNN.yaml`, with ids `<TOPIC CODE><file letters>-NNN` (e.g. `RTAB-042`).

Why the result validates with 0 errors and 0 warnings (the shipped citations that need an
acceptance keep it, as in the base):

- Actions that contradict never meet. Per intervention, each class of action (for it, against
  it, and each level) gets a disjoint class path: against in the acute phase, for outside it (as
  `phase: acute` / `not: {phase: acute}` / `not_in` / `in`), and different levels on disjoint
  groups of etiologies. A few recommendations (8%) take the opposite stance so that most
  interventions have both classes. Every dose of one intervention is the same (that of its first
  dosed template): two recommendations that can meet must not give different doses (AVN307).
- Nothing is redundant. Inside a class, recommendations with the same action fix the same number
  k of independent dimensions (site, phase, etiology, haematological malignancy, collapse, a pain
  band, a one-repetition-maximum band, and four comorbidity pairs written with any/all/not), each
  a different set of (dimension, option) pairs, so no condition implies another. k is 2 below
  3,000 recommendations, 3 below 30,000, 4 above (more where a group needs it), so that a case
  meets a moderate share of the recommendations.
- Overrides as in the shipped file (PR-005 over RT-001): a quarter of the approved, dosed
  recommendations get an exception, a narrower `do` with exercises of its own and
  `overrides: [its base]` (a `do` no template on a dosed intervention has, so that no base gives
  the same action; exceptions that do share an action fix as many dimensions as each other, each
  a different set, so none is redundant); some approved ones `supersedes` a retired one on the
  same target.
- Each intervention the manifest's policy says always needs a decision gets three `do` catch-alls,
  one per phase (no AVN304).

With --conflicts K, K dosed recommendations get `rest_seconds: [60, 90]` and a planted neighbour
inside their condition with `rest_seconds: [120, 180]` and no override: exactly K AVN301.

--prose compact (the default) keeps every field and the shipped citations but cuts each piece of
prose to its first sentence and at most 50-140 characters: about 1.4 kB per recommendation
(14 MB for 10,000; the issue's baseline file was 7.4 MB). --prose full keeps the shipped text,
whose figures (RT-001's "40-60% of one-repetition maximum") a planted conflict's dose does not
carry: with --conflicts, full prose also gives AVN308 on the planted recommendations.
Output is a function of the arguments only: the same seed gives the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import shutil
import string
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "benchmarks" / "base"
COPIED = ("kb.yaml", "vocabulary.yaml", "references.yaml")
EXCEPTION_RATE = 0.25
FLIP_RATE = 0.08
SUPERSEDE_RATE = 0.5
PHASES = ("acute", "subacute", "chronic")


# ---------------------------------------------------------------- conditions

@dataclass(frozen=True)
class Dimension:
    """A way to narrow a condition: `count` mutually exclusive options, each written as a clause.
    Dimensions are independent of each other (site and region never both: region is derived
    from site), so a condition that leaves a dimension free never implies one that fixes it."""

    name: str
    count: int
    weight: float


class Conditions:
    """Writes condition clauses in the ways editors write them (bare value, is, in, not_in, not,
    any, all, min/max)."""

    def __init__(self, vocabulary: dict[str, Any], rng: random.Random) -> None:
        self.rng = rng
        facts = vocabulary["facts"]
        self.values = {name: tuple(facts[name]["values"]) for name in ("site", "phase", "etiology")}
        self.values["collapse"] = tuple(vocabulary["derived"]["collapse"]["values"])
        comorbidities = list(facts["comorbidities"]["values"])
        self.pairs = [tuple(comorbidities[i:i + 2]) for i in range(0, len(comorbidities) - 1, 2)]
        self.pain = [(0, 3), (4, 6), (7, 8), (9, 10)]
        self.rm = [(0, 60), (60.5, 120), (120.5, 200), (200.5, 300), (300.5, 500)]
        self.dimensions = [Dimension("site", 6, 3), Dimension("phase", 3, 2), Dimension("etiology", 7, 2),
                           Dimension("hematologic_malignancy", 2, 1), Dimension("collapse", 2, 1),
                           Dimension("pain_score", len(self.pain), 1), Dimension("one_rep_max_kg", len(self.rm), 1)]
        self.dimensions += [Dimension(f"pair:{a}+{b}", 2, 0.5) for a, b in self.pairs]

    def clause(self, dimension: str, option: int) -> tuple[str, Any]:
        if dimension in self.values:
            return self.enum(dimension, [self.values[dimension][option]])
        if dimension == "hematologic_malignancy":
            value = option == 0
            return (dimension, value if self.rng.random() < 0.7 else {"is": value})
        if dimension == "pain_score":
            return (dimension, _bounds(self.pain[option], (0, 10)))
        if dimension == "one_rep_max_kg":
            return (dimension, _bounds(self.rm[option], (0.0, 500.0)))
        a, b = dimension.split(":")[1].split("+")
        either = [{"comorbidities": {"has": a}}, {"comorbidities": {"has": b}}]
        if option == 0:
            return ("any", either)
        return self.rng.choice((("not", {"any": either}),
                                ("all", [{"comorbidities": {"lacks": a}}, {"comorbidities": {"lacks": b}}])))

    def enum(self, fact: str, group: list[str]) -> tuple[str, Any]:
        """A test that `fact` is one of `group`, written one of the ways editors write it."""
        domain = self.values[fact]
        rest = [v for v in domain if v not in group]
        roll = self.rng.random()
        if len(group) == 1 and roll < 0.45:
            return (fact, group[0])
        if len(group) == 1 and roll < 0.55:
            return (fact, {"is": group[0]})
        if rest and len(rest) <= len(group) and roll < 0.75:
            return (fact, {"not_in": rest})
        if rest and len(rest) <= 2 and roll < 0.9:
            return ("not", {fact: rest[0] if len(rest) == 1 else {"in": rest}})
        return (fact, {"in": group})


def condition(clauses: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """Clauses as a condition mapping; a clause whose key repeats goes under `all`."""
    mapping: dict[str, Any] = {}
    repeated: list[dict[str, Any]] = []
    for key, value in clauses:
        if key in mapping:
            repeated.append({key: value})
        else:
            mapping[key] = value
    if repeated:  # a new list: clause values may be shared between recommendations
        mapping["all"] = [*mapping.get("all", []), *repeated]
    return mapping


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _bounds(interval: tuple[float, float], domain: tuple[float, float]) -> dict[str, Any]:
    low, high = interval
    bounds: dict[str, Any] = {}
    if low > domain[0]:
        bounds["min"] = _number(low)
    if high < domain[1]:
        bounds["max"] = _number(high)
    return bounds


def capacity(counts: list[int], k: int) -> int:
    """How many distinct conditions fix exactly k of dimensions with these option counts."""
    ways = [1] + [0] * k
    for count in counts:
        for size in range(k, 0, -1):
            ways[size] += ways[size - 1] * count
    return ways[k]


# ---------------------------------------------------------------- recommendations

@dataclass
class Planned:
    """One recommendation to write: its template, its role, and what is filled in later."""

    template: dict[str, Any]
    topic: str
    role: str = "base"  # base, exception, planted, catch-all
    base: Planned | None = None
    action: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    path: tuple[tuple[str, Any], ...] = ()  # the clauses of its class (see assign_conditions)
    fixed: frozenset[tuple[str, int]] = frozenset()  # (dimension, option) pairs
    clauses: tuple[tuple[str, Any], ...] = ()
    rec_id: str = ""
    supersedes: str | None = None
    phase: str | None = None


def load_templates(shipped: Path) -> list[tuple[str, dict[str, Any]]]:
    """The shipped recommendations as (topic, raw mapping), in file and list order."""
    templates = []
    for path in sorted((shipped / "recommendations").glob("*.yaml")):
        document = _dates_as_text(yaml.safe_load(path.read_text(encoding="utf-8")))
        templates.extend((document["topic"], rec) for rec in document["recommendations"])
    return templates


def _dates_as_text(value: Any) -> Any:
    """PyYAML reads 2026-11-24 as a date; the knowledge format means the text."""
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _stance(kind: str) -> str:
    return "against" if kind == "avoid" else "for"


def intervention_doses(templates: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Target -> the dose of its first dosed template: the one dose every recommendation on that
    target gives (a copy each: planted conflicts add to a host's)."""
    doses: dict[str, dict[str, Any]] = {}
    for _, template in templates:
        if "dose" in template["action"]:
            doses.setdefault(template["action"]["target"], template["action"]["dose"])
    return doses


def _dose_of(target: str, doses: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: list(value) if isinstance(value, list) else value for name, value in doses[target].items()}


def _key(action: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two actions the same for the redundancy check."""
    dose = tuple(sorted((k, tuple(v)) for k, v in (action.get("dose") or {}).items()))
    return (action["kind"], action["target"], dose, action.get("level"), tuple(action.get("exercises", ())))


def plan(n: int, conflicts: int, templates: list[tuple[str, dict[str, Any]]], required: list[str],
         vocabulary: dict[str, Any], rng: random.Random) -> list[Planned]:
    """What to write, in order: catch-alls, then variants of the templates in turn, each maybe
    followed by an exception (planted conflicts come later: see plant_conflicts)."""
    planned: list[Planned] = []
    for target in required:
        topic, template = next((t, r) for t, r in templates
                               if r["action"]["target"] == target and r["status"] == "approved")
        planned.extend(Planned(template, topic, role="catch-all", phase=phase, status="approved",
                               action={"kind": "do", "target": target}) for phase in PHASES)
    if n < len(planned) + 2 * conflicts:
        raise ValueError(f"--n {n} is too small for {conflicts} conflicts")
    budget = n - len(planned) - conflicts
    doses = intervention_doses(templates)
    index = 0
    while budget > 0:
        topic, template = templates[index % len(templates)]
        index += 1
        base = Planned(template, topic, status=template["status"],
                       action=_variant(template, vocabulary, required, doses, rng))
        planned.append(base)
        budget -= 1
        if budget > 0 and _can_host(base) and rng.random() < EXCEPTION_RATE:
            planned.append(Planned(template, topic, role="exception", base=base, status="approved"))
            budget -= 1
    bases = {_key(p.action) for p in planned if p.role != "exception"}
    for item in planned:
        if item.role == "exception":
            assert item.base is not None
            item.action = _exception_action(item.base.action["target"], vocabulary, doses, bases, rng)
    return planned


def _exception_action(target: str, vocabulary: dict[str, Any], doses: dict[str, dict[str, Any]],
                      bases: set[tuple[Any, ...]], rng: random.Random) -> dict[str, Any]:
    """`do` the target at its dose with two exercises: an action no base has (a base with the same
    action could be implied by the exception, AVN303)."""
    exercises = vocabulary["interventions"][target]["exercises"]
    for _ in range(100):
        action = {"kind": "do", "target": target, "dose": _dose_of(target, doses),
                  "exercises": sorted(rng.sample(exercises, 2))}
        if _key(action) not in bases:
            return action
    raise ValueError(f"every exception to {target} would repeat the action of a recommendation it narrows")


def _can_host(item: Planned) -> bool:
    """Exceptions and planted conflicts sit on approved recommendations for a dosed intervention."""
    return item.role == "base" and item.status == "approved" and item.action["kind"] != "avoid" \
        and "dose" in item.action


def _variant(template: dict[str, Any], vocabulary: dict[str, Any], required: list[str],
             doses: dict[str, dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """The template's action with the intervention's dose, its exercises varied, and now and then
    the opposite stance (never on an intervention that always needs a decision: its catch-alls say do)."""
    action = {"kind": template["action"]["kind"], "target": template["action"]["target"]}
    intervention = vocabulary["interventions"][action["target"]]
    if "dose" in template["action"]:
        action["dose"] = _dose_of(action["target"], doses)
    for key in ("level", "exercises"):
        if key in template["action"]:
            action[key] = template["action"][key]
    if "exercises" in action and rng.random() < 0.5:
        action["exercises"] = sorted(rng.sample(intervention["exercises"], rng.randint(1, 3)))
    if action["target"] not in required and template["status"] != "retired" and rng.random() < FLIP_RATE:
        action = {"kind": "consider" if action["kind"] == "avoid" else "avoid", "target": action["target"]}
    return action


def assign_conditions(planned: list[Planned], conditions: Conditions, n: int, rng: random.Random) -> None:
    """Give every recommendation its clauses.

    Actions that contradict (for against against, different levels) are kept apart by a class
    path: against in the acute phase, for outside it, and different levels on disjoint groups of
    etiologies. Inside a class, recommendations with the same action fix the same number k of
    dimensions, each a different set of (dimension, option) pairs: no two are nested, so none is
    redundant. k grows with N so that a case still meets a moderate share of recommendations.
    """
    by_target: dict[str, list[Planned]] = {}
    for item in planned:
        if item.role == "base":
            by_target.setdefault(item.action["target"], []).append(item)
    k_least = 2 if n < 3000 else 3 if n < 30000 else 4
    for target in sorted(by_target):
        items = by_target[target]
        classes = sorted({(_stance(i.action["kind"]), i.action.get("level") or "") for i in items})
        paths = _class_paths(classes, conditions, rng)
        groups: dict[tuple[Any, ...], list[Planned]] = {}
        for item in items:
            cls = (_stance(item.action["kind"]), item.action.get("level") or "")
            item.path = paths[cls]
            groups.setdefault((cls, _key(item.action)), []).append(item)
        for members in groups.values():
            used = _path_dimensions(members[0].path)
            free = [d for d in conditions.dimensions if d.name not in used]
            counts = [d.count for d in free]
            k = k_least
            while k < len(free) and capacity(counts, k) < 3 * len(members):
                k += 1
            seen: set[frozenset[tuple[str, int]]] = set()
            for item in members:
                item.fixed = _fresh(free, k, seen, rng)
    taken: dict[tuple[Any, ...], list[frozenset[tuple[str, int]]]] = {}
    for item in planned:
        if item.role == "exception":
            assert item.base is not None
            item.path = item.base.path
            item.fixed = _exception_cell(item, conditions, taken.setdefault(_key(item.action), []), rng)
    for item in planned:
        _write_clauses(item, conditions, rng)


def _exception_cell(item: Planned, conditions: Conditions, same: list[frozenset[tuple[str, int]]],
                    rng: random.Random) -> frozenset[tuple[str, int]]:
    """The base's (dimension, option) pairs and one more, such that no exception with the same
    action (in `same`, which gets this one) has a set containing it or contained in it: otherwise
    one of the two would imply the other (AVN303)."""
    assert item.base is not None
    used = {d for d, _ in item.base.fixed} | _path_dimensions(item.path)
    free = [d for d in conditions.dimensions if d.name not in used]
    for extra in rng.sample(free, len(free)):
        for option in rng.sample(range(extra.count), extra.count):
            fixed = item.base.fixed | {(extra.name, option)}
            if not any(fixed <= other or other <= fixed for other in same):
                same.append(fixed)
                return fixed
    raise ValueError(f"no condition for an exception to {item.base.rec_id or 'a base'} is free of the others")


def _write_clauses(item: Planned, conditions: Conditions, rng: random.Random) -> None:
    if item.role == "catch-all":
        item.clauses = (conditions.enum("phase", [item.phase or ""]),)
    else:
        order = sorted(item.fixed, key=lambda pair: rng.random())
        item.clauses = item.path + tuple(conditions.clause(d, o) for d, o in order)


def plant_conflicts(planned: list[Planned], count: int, conditions: Conditions, rng: random.Random) -> None:
    """Give `count` hosts `rest_seconds: [60, 90]` and insert after each a neighbour with
    `rest_seconds: [120, 180]` on one cell of the host's condition that no other host covers:
    exactly one AVN301 each. Hosts are approved, dosed, have no exception, and none covers
    another host wherever that one applies (else the conflict could not be kept to one)."""
    taken = {id(p.base) for p in planned if p.role == "exception"}
    candidates = [p for p in planned if _can_host(p) and id(p) not in taken]
    rng.shuffle(candidates)
    hosts: list[Planned] = []
    for candidate in candidates:
        if len(hosts) == count:
            break
        if not any(h.fixed <= candidate.fixed or candidate.fixed <= h.fixed for h in hosts):
            hosts.append(candidate)
    if len(hosts) < count:
        raise ValueError(f"only {len(hosts)} recommendations can host a planted conflict; lower --conflicts")
    for host in hosts:
        host.action["dose"]["rest_seconds"] = [60, 90]
        planted = Planned(host.template, host.topic, role="planted", base=host, status="approved", path=host.path,
                          action={"kind": "consider", "target": host.action["target"],
                                  "dose": {"rest_seconds": [120, 180]}})
        planted.fixed = _planted_cell(host, hosts, conditions, rng)
        _write_clauses(planted, conditions, rng)
        planned.insert(planned.index(host) + 1, planted)


def _planted_cell(host: Planned, hosts: list[Planned], conditions: Conditions,
                  rng: random.Random) -> frozenset[tuple[str, int]]:
    """A single cell of the case space inside the host's condition and outside every other
    host's: the planted recommendation contradicts the hosts only (their rest_seconds), so it
    then conflicts with its own host and nothing else."""
    used = _path_dimensions(host.path)
    fixed_dims = {d for d, _ in host.fixed}
    others = [h.fixed for h in hosts if h is not host]
    for _ in range(10_000):
        cell = host.fixed | {(d.name, rng.randrange(d.count)) for d in conditions.dimensions
                             if d.name not in used and d.name not in fixed_dims}
        if not any(other <= cell for other in others):
            return cell
    raise ValueError(f"no cell of {host.rec_id or 'a host'} is free of the other hosts; lower --conflicts")


def _path_dimensions(path: tuple[tuple[str, Any], ...]) -> set[str]:
    """The dimensions a class path fixes (written as `phase: ...` or `not: {phase: ...}`)."""
    names = set()
    for key, value in path:
        names.add(next(iter(value)) if key == "not" else key)
    return names


def _class_paths(classes: list[tuple[str, str]], conditions: Conditions,
                 rng: random.Random) -> dict[tuple[str, str], tuple[tuple[str, Any], ...]]:
    if len(classes) == 1:
        return {classes[0]: ()}
    paths: dict[tuple[str, str], tuple[tuple[str, Any], ...]] = {}
    phases = list(conditions.values["phase"])
    against = [c for c in classes if c[0] == "against"]
    for_classes = [c for c in classes if c[0] == "for"]
    for cls in against:
        paths[cls] = (conditions.enum("phase", ["acute"]),)
    outside = (conditions.enum("phase", phases[1:]),) if against else ()
    if len(for_classes) == 1:
        paths[for_classes[0]] = outside
    else:
        etiologies = list(conditions.values["etiology"])
        rng.shuffle(etiologies)
        share = len(etiologies) // len(for_classes)
        for index, cls in enumerate(for_classes):
            group = etiologies[index * share:] if index == len(for_classes) - 1 else \
                etiologies[index * share:(index + 1) * share]
            paths[cls] = outside + (conditions.enum("etiology", sorted(group)),)
    return paths


def _fresh(free: list[Dimension], k: int, seen: set[frozenset[tuple[str, int]]],
           rng: random.Random) -> frozenset[tuple[str, int]]:
    weights = [d.weight for d in free]
    while True:
        chosen: list[Dimension] = []
        while len(chosen) < k:
            pick = rng.choices(free, weights)[0]
            if pick not in chosen:
                chosen.append(pick)
        fixed = frozenset((d.name, rng.randrange(d.count)) for d in chosen)
        if fixed not in seen:
            seen.add(fixed)
            return fixed


def _letters(number: int, width: int = 2) -> str:
    letters = ""
    for _ in range(width):
        number, digit = divmod(number, 26)
        letters = string.ascii_uppercase[digit] + letters
    return letters


def assign_ids(planned: list[Planned], per_file: int) -> dict[str, list[list[Planned]]]:
    """Group into files of at most `per_file` per topic and number them; returns topic -> files."""
    files: dict[str, list[list[Planned]]] = {}
    for item in planned:
        topic_files = files.setdefault(item.topic, [[]])
        if len(topic_files[-1]) == per_file:
            topic_files.append([])
        topic_files[-1].append(item)
    digits = max(3, len(str(per_file)))
    for topic, topic_files in files.items():
        code = item_code(topic_files[0][0].template["id"])
        for number, items in enumerate(topic_files):
            for position, item in enumerate(items, start=1):
                item.rec_id = f"{code}{_letters(number)}-{position:0{digits}d}"
    return files


def item_code(template_id: str) -> str:
    return template_id.split("-")[0][:3]


def link_supersessions(planned: list[Planned], rng: random.Random) -> None:
    """An approved recommendation may supersede the last retired one on its target in its file."""
    last_retired: dict[tuple[str, str], Planned] = {}
    for item in planned:
        key = (item.rec_id.split("-")[0], item.action["target"])
        if item.role == "base" and item.status == "retired":
            last_retired[key] = item
        elif item.role == "base" and item.status == "approved" and key in last_retired:
            if rng.random() < SUPERSEDE_RATE:
                item.supersedes = last_retired.pop(key).rec_id


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def _short(text: str, limit: int) -> str:
    """The first sentence, cut at a word boundary to at most `limit` characters."""
    sentence = _first_sentence(text)
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:-") + "."


# Characters kept per prose field in compact mode (full mode keeps the shipped text).
COMPACT = {"title": 60, "statement": 140, "plain_language": 100, "reason": 80, "summary": 80, "rationale": 100,
           "retired_reason": 100, "note": 50, "locator": 50}


def recommendation(item: Planned, prose: str) -> dict[str, Any]:
    """The raw mapping of one recommendation."""
    template, action, status = item.template, item.action, item.status

    def text(value: str, key: str) -> str:
        return value if prose == "full" else _short(value, COMPACT.get(key, 100))

    title = {"exception": "Exception: ", "planted": "Planted conflict: ", "catch-all": "Default: "}.get(item.role, "")
    rec: dict[str, Any] = {
        "id": item.rec_id, "version": template["version"], "status": status,
        "title": text(title + template["title"], "title"),
        "statement": text(template["statement"], "statement"),
        "plain_language": text(template["plain_language"], "plain_language"),
        "population": template["population"], "when": condition(item.clauses), "action": action,
        "strength": {"level": template["strength"]["level"], "direction": _stance(action["kind"])},
        "certainty": template["certainty"],
        "evidence": {k: text(v, k) if isinstance(v, str) else v for k, v in template["evidence"].items()},
        "citations": [{k: v if k == "ref" else text(v, k) for k, v in c.items()} for c in template["citations"]],
    }
    if template.get("rationale"):
        rec["rationale"] = text(template["rationale"], "rationale")
    if item.role == "exception" and item.base is not None:
        rec["overrides"] = [item.base.rec_id]
    if item.supersedes:
        rec["supersedes"] = [item.supersedes]
    if status == "approved":
        rec["effective"] = dict(template.get("effective") or {"from": "2026-11-24"})
        review = dict(template.get("review") or {})
        rec["review"] = review if "approved_on" in review else {
            "approved_on": "2026-11-20", "last_reviewed": "2026-11-20",
            "reviewers": ["rev-ortho-1", "rev-methods-1"], "next_review_due": "2028-11-20"}
    elif template.get("review"):
        rec["review"] = dict(template["review"])
    if status == "retired":
        rec["retired_reason"] = text(template["retired_reason"], "retired_reason")
    # The shipped citations that need an acceptance keep it (the shipped shape); others are dropped.
    accepted = [a for a in template.get("accepted", ()) if a["code"] == "AVN210"]
    if accepted:
        rec["accepted"] = [{"code": a["code"], "reason": text(a["reason"], "reason")} for a in accepted]
    return rec


# ---------------------------------------------------------------- YAML in the shipped style

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_NOT_PLAIN = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_FOLDED_KEYS = {"statement", "plain_language", "rationale", "reason", "summary", "retired_reason"}


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(_number(value))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) or (_PLAIN.match(value) and value.lower() not in _NOT_PLAIN
                                                     and not re.fullmatch(r"[0-9.]+", value)):
        return value
    return json.dumps(value, ensure_ascii=False)


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def block(key: str, value: Any, indent: int) -> list[str]:
    """`key: value` in block style, with prose folded and small mappings in flow style."""
    pad = " " * indent
    if isinstance(value, str) and key in _FOLDED_KEYS and len(value) > 60:
        lines = textwrap.wrap(value, width=max(40, 100 - indent - 2), break_on_hyphens=False, break_long_words=False)
        return [f"{pad}{key}: >-", *(f"{pad}  {line}" for line in lines)]
    if isinstance(value, dict) and value and len(flow(value)) <= 70:
        return [f"{pad}{key}: {flow(value)}"]
    if isinstance(value, dict):
        if not value:
            return [f"{pad}{key}: {{}}"]
        out = [f"{pad}{key}:"]
        for k, v in value.items():
            out.extend(block(k, v, indent + 2))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = [f"{pad}{key}:"]
        for item in value:
            lines = [line for k, v in item.items() for line in block(k, v, indent + 4)]
            out.append(f"{pad}  - {lines[0].lstrip()}")
            out.extend(lines[1:])
        return out
    return [f"{pad}{key}: {flow(value)}"]


def render_file(topic: str, recs: list[dict[str, Any]]) -> str:
    lines = ["# yaml-language-server: $schema=../../schema/recommendations.schema.json",
             f"# Synthetic benchmark data generated by benchmarks/generate.py: not clinical guidance.",
             f"topic: {topic}", "", "recommendations:"]
    for rec in recs:
        body = [line for key, value in rec.items() for line in block(key, value, 4)]
        lines.append("  - " + body[0].lstrip())
        lines.extend(body[1:])
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- entry point

def generate(n: int, out: Path, conflicts: int = 0, seed: int = 1, per_file: int = 500,
             prose: str = "compact", shipped: Path = SHIPPED) -> dict[str, Any]:
    """Write the knowledge base to `out` (replacing its recommendations/); returns a summary."""
    rng = random.Random(seed)
    vocabulary = yaml.safe_load((shipped / "vocabulary.yaml").read_text(encoding="utf-8"))
    manifest = yaml.safe_load((shipped / "kb.yaml").read_text(encoding="utf-8"))
    required = [d if isinstance(d, str) else d["target"]
                for d in (manifest.get("policy") or {}).get("decision_required", ())]
    planned = plan(n, conflicts, load_templates(shipped), required, vocabulary, rng)
    conditions = Conditions(vocabulary, rng)
    assign_conditions(planned, conditions, n, rng)
    plant_conflicts(planned, conflicts, conditions, rng)
    files = assign_ids(planned, per_file)
    link_supersessions(planned, rng)
    out.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copyfile(shipped / name, out / name)
    target_dir = out / "recommendations"
    if target_dir.exists():
        shutil.rmtree(target_dir)
    target_dir.mkdir()
    total_bytes = 0
    for topic, topic_files in files.items():
        for number, items in enumerate(topic_files, start=1):
            content = render_file(topic, [recommendation(item, prose) for item in items])
            path = target_dir / f"{topic}-{number:03d}.yaml"
            path.write_text(content, encoding="utf-8")
            total_bytes += len(content.encode("utf-8"))
    roles = {role: sum(1 for p in planned if p.role == role) for role in ("base", "exception", "planted", "catch-all")}
    return {"recommendations": len(planned), "files": sum(len(f) for f in files.values()), "bytes": total_bytes,
            "roles": roles, "planted": [p.rec_id for p in planned if p.role == "planted"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, required=True, help="number of recommendations")
    parser.add_argument("--out", type=Path, required=True, help="directory to write (created if needed)")
    parser.add_argument("--conflicts", type=int, default=0, help="planted conflicts (each one AVN301)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-file", type=int, default=500, help="recommendations per file (at most)")
    parser.add_argument("--prose", choices=("compact", "full"), default="compact")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.n, args.out, args.conflicts, args.seed, args.per_file, args.prose)
    except ValueError as err:
        print(f"generate.py: {err}", file=sys.stderr)
        return 2
    print(f"{args.out}: {summary['recommendations']:,} recommendations in {summary['files']} files, "
          f"{summary['bytes'] / 1e6:.1f} MB ({', '.join(f'{k} {v}' for k, v in summary['roles'].items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
