"""`avn-kb query --batch` answers JSON lines on a fast path (avn_kb.cli.batch_answers): each
distinct case's encoded answer remembered for the run, the compact line built without the parts
the header says. It must write exactly what the plain path writes (every line resolved, its full
answer built, then compacted and encoded), byte for byte and problem for problem, whatever the
lines: generated cases, many repeated (so that remembered answers are used), undecided ones,
cases that differ only in a number's type or the order of their facts, options on the line, and
lines that cannot be used."""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avn_kb.cli.batch_answers import Answered, Answers, BatchOutput, Defaults
from avn_kb.load.cases import check_case
from avn_kb.model.conditions import parse
from avn_kb.model.knowledge import Vocabulary
from avn_kb.validate.readiness import Readiness, load_for_answers
from tests.conftest import MINI, SHIPPED
from tests.strategies import (
    DERIVED,
    DERIVED_VALUES,
    ENUMS,
    NUMBER_FACT,
    SET_FACT,
    SET_VALUES,
    GeneratedKB,
    knowledge_bases,
)

COUNT = 900  # lines a batch: a few hundred distinct cases, most of them used several times
READY = {kb: load_for_answers(kb, str(kb)) for kb in (SHIPPED, MINI)}


def _value(vocabulary: Vocabulary, name: str, rng: random.Random) -> Any:
    """A value for the fact, mostly one it allows, now and then one it refuses."""
    kind = vocabulary.fact_type(name)
    if rng.random() < 0.04:
        return rng.choice(["nonsense", 3, None, [1], {"a": 1}, True])
    if kind in ("enum", "set"):
        values = list(vocabulary.fact_values(name))
        return rng.choice(values) if kind == "enum" else rng.sample(values, rng.randint(0, min(3, len(values))))
    if kind == "boolean":
        return rng.random() < 0.5
    fact = vocabulary.facts[name]
    low, high = fact.low if fact.low is not None else 0, fact.high if fact.high is not None else 100
    number = rng.choice([low, high, rng.randint(int(low), int(min(high, low + 300)))])
    # The same number as an int and as a float are different cases to remember (1 and 1.0 are
    # written differently in the answer's echo of the case).
    return float(number) if rng.random() < 0.3 else number


def _case(vocabulary: Vocabulary, rng: random.Random) -> dict[str, Any]:
    """Mostly a case the vocabulary accepts (so that most lines are answered, many undecided)."""
    names = [fact.name for fact in vocabulary.every_fact()]
    valid = rng.random() < 0.9
    for _ in range(50):
        chosen = rng.sample(names, rng.randint(0, min(8, len(names))))
        if "site" not in chosen and rng.random() < 0.8:
            chosen.insert(0, "site")
        case = {name: _value(vocabulary, name, rng) for name in chosen}
        if not valid or not check_case(vocabulary, case, "x"):
            return case
    return {}


def _line(case: dict[str, Any], rng: random.Random, number: int) -> str:
    """The case as a batch line: bare or in an envelope, with or without options."""
    options: dict[str, Any] = {}
    if rng.random() < 0.7:
        options["id"] = rng.choice([f"p{number}", f"p{number} \u00e9\"\\", ""]) if rng.random() < 0.1 else f"p{number}"
    if rng.random() < 0.15:
        options["as_of"] = rng.choice(["2026-06-01", "2027-03-01", "2030-01-01", "2027-02-30"])
    if rng.random() < 0.2:
        options["audience"] = rng.choice(["patient", "clinician", "nurse"])
    if rng.random() < 0.5:
        return json.dumps({**options, "facts": case}, ensure_ascii=rng.random() < 0.5)
    return json.dumps({**options, **case}, separators=(",", ":") if rng.random() < 0.3 else None)


def _batch(ready: Readiness, seed: int, count: int) -> bytes:
    """`count` lines: generated cases (each used many times, reordered, with other ids and
    options) and lines that cannot be used."""
    vocabulary = ready.kb.vocabulary
    assert vocabulary is not None
    rng = random.Random(seed)
    cases = [_case(vocabulary, rng) for _ in range(count // 6)]
    # Reordered and retyped twins: a remembered answer must not be used for them.
    for case in rng.sample(cases, len(cases) // 5):
        cases.append(dict(reversed(list(case.items()))))
        cases.append({k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in case.items()})
    broken = ['{"site": ', '["knee"]', '{"site": "knee", "site": "talus"}', '{"site": NaN}', "   ",
              '{"facts": {"site": "knee"}, "phase": "chronic"}', '{"facts": "site=knee"}', "{}", '"text"']
    lines: list[bytes] = []
    for number in range(1, count + 1):
        if rng.random() < 0.06:
            lines.append(rng.choice(broken).encode())
        elif rng.random() < 0.01:
            lines.append(b'{"site": "knee\xff"}')  # not UTF-8
        else:
            lines.append((_line(rng.choice(cases), rng, number) + ("\r" if rng.random() < 0.05 else "")).encode())
    return b"\n".join(lines) + b"\n"


SETTINGS = [  # (knowledge base, defaults, compact)
    (SHIPPED, Defaults(dt.date(2026, 12, 1), ("approved",), "clinician", False, False), True),
    (SHIPPED, Defaults(dt.date(2026, 12, 1), ("approved",), "clinician", False, False), False),
    (SHIPPED, Defaults(dt.date(2027, 6, 1), ("approved", "draft"), "patient", False, True), True),
    (SHIPPED, Defaults(dt.date(2026, 12, 1), ("approved",), "clinician", True, False), True),
    (SHIPPED, Defaults(None, ("approved",), "clinician", False, False), True),
    (MINI, Defaults(dt.date(2027, 1, 15), ("approved",), "clinician", True, True), False),
]


@pytest.mark.parametrize("kb, defaults, compact", SETTINGS, ids=[f"{kb.name}-{n}" for n, (kb, _, _) in enumerate(SETTINGS)])
def test_the_fast_path_writes_exactly_what_the_plain_path_writes(kb: Path, defaults: Defaults, compact: bool) -> None:
    ready = READY[kb]
    data = _batch(ready, seed=len(str(defaults)) + compact, count=COUNT)
    out = BatchOutput("json", compact, None)
    fast, plain = Answers(ready, "b.jsonl", defaults, out), Answers(ready, "b.jsonl", defaults, out, memo=False)
    # In blocks, as a batch is read, the fast one remembering across them.
    cut = data.index(b"\n", len(data) // 2) + 1
    first_lines = data[:cut].count(b"\n")
    fast_parts = [fast.block(1, data[:cut]), fast.block(first_lines + 1, data[cut:])]
    plain_whole = plain.block(1, data)
    assert b"".join(part.data for part in fast_parts) == plain_whole.data
    assert [e for part in fast_parts for e in part.errors] == plain_whole.errors
    assert sum(part.lines for part in fast_parts) == plain_whole.lines == COUNT
    # The batch was what it is meant to be: answers remembered and used, undecided answers and
    # lines refused among them.
    assert fast.memo is not None and 50 < len(fast.memo) < COUNT - len(plain_whole.errors) - 100
    written = [json.loads(line) for line in plain_whole.data.decode().splitlines()]
    outcomes = {item["outcome"] for answer in written for item in answer["recommendations"]}
    assert {"applies", "undecided"} <= outcomes
    assert len(plain_whole.errors) > 60 and any("not UTF-8" in e for e in plain_whole.errors)
    assert len(written) > COUNT * 2 // 3


def test_cases_that_differ_only_in_how_a_number_is_written_are_answered_each_as_itself() -> None:
    ready = READY[SHIPPED]
    vocabulary = ready.kb.vocabulary
    assert vocabulary is not None
    base = {"site": "femoral-head", "arco_stage": "II", "phase": "chronic", "causes": [], "red_flags": [],
            "hematologic_malignancy": False, "comorbidities": []}
    variants = [{**base, "estimated_one_rep_max_kg": 60}, {**base, "estimated_one_rep_max_kg": 60.0},
                {**base, "estimated_one_rep_max_kg": 60.5}, {"estimated_one_rep_max_kg": 60, **base}]
    assert all(check_case(vocabulary, v, "x") == [] for v in variants)
    lines = [json.dumps({"id": f"p{n}", "facts": v}) for n, v in enumerate(variants * 2)]
    defaults = Defaults(dt.date(2026, 12, 1), ("approved",), "clinician", False, False)
    answers = Answers(ready, "b.jsonl", defaults, BatchOutput("json", True, None))
    written = answers.block(1, "\n".join(lines).encode()).data.decode().splitlines()
    assert answers.memo is not None and len(answers.memo) == 4
    echoed = [line.split('"case": ', 1)[1].split(', "derived"', 1)[0] for line in written]
    assert echoed[:4] == [json.dumps(v) for v in variants] and echoed[4:] == echoed[:4]
    assert [json.loads(line)["id"] for line in written] == [f"p{n}" for n in range(8)]


def _presentations(ready: Readiness, rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Valid cases, as a clinic's patients present: the golden cases, each with one fact left out,
    and generated ones; without a one-repetition maximum."""
    vocabulary = ready.kb.vocabulary
    assert vocabulary is not None
    golden = [dict(case.facts) for case in ready.kb.cases]
    found = golden + [{k: v for k, v in facts.items() if k != gone} for facts in golden for gone in facts]
    while len(found) < count:
        found.append(_case(vocabulary, rng))
    found = [{k: v for k, v in case.items() if k != "estimated_one_rep_max_kg"} for case in found]
    return [case for case in rng.sample(found, count) if case and not check_case(vocabulary, case, "x")]


@pytest.mark.parametrize("compact", [True, False])
def test_patients_who_share_a_presentation_share_its_template_and_get_their_own_loads(compact: bool) -> None:
    """Answers rendered once per presentation (avn_kb.output.answers.templates), each patient's
    facts and loads filled in: byte for byte the plain path's, however the patients differ in
    what decides nothing but their loads (the one-repetition maximum: given or not, an int or a
    float, out of range), in a value read only through a derived fact (the platelet count, through
    its tier) and in the order they give their facts."""
    ready = READY[SHIPPED]
    rng = random.Random(17 + compact)
    presentations = _presentations(ready, rng, 20)
    lines = []
    for number in range(1, 1201):
        case = dict(rng.choice(presentations))
        strength = rng.choice([None, rng.randint(5, 200), round(rng.uniform(5, 200), 2), 100000, -3])
        if strength is not None:
            case["estimated_one_rep_max_kg"] = strength
        if rng.random() < 0.5:  # a laboratory value, read only through its tier
            case["platelet_count"] = rng.choice([rng.randint(0, 400), round(rng.uniform(0, 400), 1)])
        if rng.random() < 0.3:
            case = dict(rng.sample(list(case.items()), len(case)))
        lines.append(json.dumps({"id": f"p{number}", "facts": case}))
    data = ("\n".join(lines) + "\n").encode()
    defaults = Defaults(dt.date(2026, 12, 1), ("approved",), "clinician", False, False)
    out = BatchOutput("json", compact, None)
    fast, plain = Answers(ready, "b.jsonl", defaults, out), Answers(ready, "b.jsonl", defaults, out, memo=False)
    fast_answered, plain_answered = fast.block(1, data), plain.block(1, data)
    assert fast_answered.data == plain_answered.data
    assert fast_answered.errors == plain_answered.errors and plain_answered.errors  # out of range: refused
    written = [json.loads(line) for line in plain_answered.data.decode().splitlines()]
    loads = [item["load_kg"] for answer in written for item in answer["recommendations"] if "load_kg" in item]
    assert len({json.dumps(load) for load in loads}) > 15  # patients' own loads, not one shared
    assert fast.templates is not None and 0 < len(fast.templates) <= len(written) // 3


ADVERSARIAL_EDITS = [  # (what the mini vocabulary says, what the adversarial one says instead)
    # ARCO defined only at the femoral head: decided empty elsewhere, which may decide `collapse`.
    ("    values: [I, II, IIIA, IIIB, IV]\n",
     "    values: [I, II, IIIA, IIIB, IV]\n    defined_for: {site: femoral-head}\n"
     "  imaging_reviewed:\n    type: boolean\n    label: Imaging reviewed\n"),
    # `collapse` decided on the first pass by a fact no recommendation reads, or by its otherwise.
    ("        when: {arco_stage: {in: [I, II]}}\n",
     "        when:\n          any:\n            - {arco_stage: {in: [I, II]}}\n"
     "            - {imaging_reviewed: true}\n"),
    ("        when: {arco_stage: {in: [IIIA, IIIB, IV]}}\n",
     "        when: {arco_stage: {in: [IIIA, IIIB, IV]}}\n    otherwise: pre-collapse\n"),
    # A derived fact that reads derived facts, and one that reads a number (read by no recommendation).
    ("interventions:\n",
     "  loading_risk:\n    label: Loading risk\n    values: [high, low]\n    cases:\n"
     "      - value: high\n        when: {collapse: post-collapse, region: lower-limb}\n"
     "      - value: low\n        when:\n          any:\n            - {collapse: pre-collapse}\n"
     "            - {region: upper-limb}\n"
     "  pain_band:\n    label: Pain band\n    values: [mild, severe]\n    cases:\n"
     "      - value: mild\n        when: {pain_score: {max: 4}}\n"
     "      - value: severe\n        when: {pain_score: {min: 5}}\n"
     "interventions:\n"),
    # Exercises whose `loads` read a fact and a derived fact.
    ("    exercises: [leg-press, bench-press]\n",
     "    exercises:\n      - id: leg-press\n        loads: {region: lower-limb}\n"
     "      - id: bench-press\n        loads:\n          any:\n            - {site: humeral-head}\n"
     "            - {comorbidities: {has: osteoporosis}}\n"),
]


def _adversarial(root: Path) -> Readiness:
    """The mini knowledge base at `root` (a copy) with ADVERSARIAL_EDITS made to its vocabulary."""
    vocabulary = root / "vocabulary.yaml"
    text = vocabulary.read_text()
    for old, new in ADVERSARIAL_EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    vocabulary.write_text(text)
    ready = load_for_answers(root, str(root))
    assert not ready.problems
    return ready


def _both_paths(ready: Readiness, defaults: Defaults, out: BatchOutput, data: bytes) -> tuple[Answered, Answered]:
    """The batch `data` answered in one block by the fast path and by the plain one."""
    return (Answers(ready, "b.jsonl", defaults, out).block(1, data),
            Answers(ready, "b.jsonl", defaults, out, memo=False).block(1, data))


def test_derived_facts_are_listed_in_the_order_each_case_derives_them(mini_copy: Path) -> None:
    """A derived fact may be decided on the first pass of derivation for one case and only once a
    fact the case cannot give is decided empty for another (here `collapse`, through its
    `otherwise` once `arco_stage`, defined only at the femoral head, is empty at the knee). Both
    cases then derive the same facts with the same values and share every condition's truth, but
    list their derived facts in different orders: a template rendered for one must not give the
    other its order (the plain path writes each case's own)."""
    ready = _adversarial(mini_copy)
    data = (b'{"id": "a", "site": "knee", "imaging_reviewed": false}\n'
            b'{"id": "b", "site": "knee", "imaging_reviewed": true}\n')
    defaults = Defaults(dt.date(2026, 12, 1), ("approved",), "clinician", False, False)
    for compact in (True, False):
        out = BatchOutput("json", compact, None)
        fast, plain = _both_paths(ready, defaults, out, data)
        assert fast.errors == plain.errors == []
        derived = [list(json.loads(line)["derived"]) for line in plain.data.decode().splitlines()]
        assert [names[:2] for names in derived] == [["region", "collapse"], ["collapse", "region"]]
        assert fast.data == plain.data


def _adversarial_case(vocabulary: Vocabulary, rng: random.Random) -> dict[str, Any]:
    """A case of the adversarial kind: derived facts given (agreeing, disagreeing or None), facts
    given as None, numbers as int, float, -0.0 or bool, sets reordered or with duplicates, unknown
    facts, in any order."""
    case = _case(vocabulary, rng)
    for name, derived in vocabulary.derived.items():
        if rng.random() < 0.1:
            case[name] = rng.choice([*derived.values, None])
    for name in list(case):
        roll = rng.random()
        value = case[name]
        if roll < 0.08:
            case[name] = None
        elif roll < 0.16 and isinstance(value, (int, float)) and not isinstance(value, bool):
            case[name] = rng.choice([-0.0, 0, 0.0, float(value), int(value), True])
        elif roll < 0.24 and isinstance(value, list) and value:
            case[name] = rng.sample(value, len(value)) + ([value[0]] if rng.random() < 0.5 else [])
    if rng.random() < 0.03:
        case["not_a_fact"] = 1
    return dict(rng.sample(list(case.items()), len(case)))


def test_the_fast_path_writes_what_the_plain_path_writes_on_an_adversarial_vocabulary(mini_copy: Path) -> None:
    """Fast and plain paths byte for byte on the adversarial vocabulary (facts defined only at some
    sites, derived facts reading derived facts and facts no recommendation reads, an otherwise,
    exercises whose loads read facts) with adversarial cases, under every presentation option."""
    ready = _adversarial(mini_copy)
    vocabulary = ready.kb.vocabulary
    assert vocabulary is not None
    for seed in range(8):
        rng = random.Random(seed)
        cases = [_adversarial_case(vocabulary, rng) for _ in range(80)]
        data = ("\n".join(_line(rng.choice(cases), rng, n) for n in range(1, 401)) + "\n").encode()
        defaults = Defaults(rng.choice([dt.date(2026, 12, 1), dt.date(2028, 3, 1)]),
                            rng.choice([("approved",), ("approved", "draft")]), rng.choice(["clinician", "patient"]),
                            seed % 4 == 3, seed % 2 == 1)
        out = BatchOutput("json", seed % 3 != 0, None)
        fast, plain = _both_paths(ready, defaults, out, data)
        assert fast.data == plain.data, seed
        assert fast.errors == plain.errors, seed
        assert plain.data.count(b"\n") > 100, seed  # many lines answered, not refused


def test_a_line_with_half_a_surrogate_pair_is_refused_on_both_paths() -> None:
    """A \\u escape of half a surrogate pair alone decodes to a string that is no text: an answer
    echoing it cannot be written as UTF-8, and both paths stopped the whole run with an internal
    error (UnicodeEncodeError). The line is refused, as itself, and the others answered; a whole
    pair (an emoji) and an escaped backslash are text."""
    ready = READY[SHIPPED]
    data = (b'{"id": "\\ud800", "site": "knee"}\n{"site\\udc00": "knee"}\n'
            b'{"facts": {"site": "knee", "causes": ["\\udfff"]}}\n'
            b'{"id": "\\ud83d\\ude00", "site": "knee"}\n{"id": "\\\\ud800", "site": "knee"}\n')
    defaults = Defaults(dt.date(2026, 12, 1), ("approved",), "clinician", False, False)
    for compact in (True, False):
        out = BatchOutput("json", compact, None)
        fast, plain = _both_paths(ready, defaults, out, data)
        assert fast.data == plain.data and fast.errors == plain.errors
        assert [error.split(":")[1] for error in plain.errors] == ["1", "2", "3"]
        assert all("half of a surrogate pair" in error for error in plain.errors)
        assert [json.loads(line)["id"] for line in plain.data.decode().splitlines()] == ["\U0001f600", "\\ud800"]


@given(generated=knowledge_bases(), data=st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_fast_path_writes_what_the_plain_path_writes_on_generated_knowledge_bases(
        generated: GeneratedKB, data: st.DataObject) -> None:
    """Generated knowledge bases (tests/strategies: overrides, supersession, statuses, a derived
    fact with or without otherwise), where one fact may be defined only where another has a value
    and a dose may be per kilogram of the number fact, with cases of values inside and outside
    their domains, None, derived facts given, numbers written as int, float, -0.0 or true; each
    case several times, reordered: the fast path writes the plain path's bytes and problems."""
    kb = generated.kb
    vocabulary = kb.vocabulary
    assert vocabulary is not None
    facts = dict(vocabulary.facts)
    if data.draw(st.booleans(), label="e2 defined only where e1 is a"):
        facts["e2"] = replace(facts["e2"], defined_for=parse({"e1": "a"}))
    interventions = dict(vocabulary.interventions)
    if data.draw(st.booleans(), label="reps per kg of n"):
        t2 = interventions["t2"]
        interventions["t2"] = replace(t2, dose={"reps": replace(t2.dose["reps"], per_kg_of=NUMBER_FACT)})
    kb = replace(kb, vocabulary=replace(vocabulary, facts=facts, interventions=interventions))
    vocabulary = kb.vocabulary
    assert vocabulary is not None
    values: dict[str, st.SearchStrategy[Any]] = {
        name: st.sampled_from([*ENUMS[name], None, "z"]) for name in ENUMS if name in vocabulary.facts}
    values[SET_FACT] = st.lists(st.sampled_from([*SET_VALUES, "z"]), max_size=3)
    values[NUMBER_FACT] = st.sampled_from([0, 0.0, -0.0, 2, 2.0, 2.5, 5, 8, 8.0, 10, 11, True, None])
    if vocabulary.derived:
        values[DERIVED] = st.sampled_from([*DERIVED_VALUES, None])
    case = st.lists(st.sampled_from(sorted(values)), unique=True, max_size=len(values)).flatmap(
        lambda names: st.fixed_dictionaries({name: values[name] for name in names}))
    cases = data.draw(st.lists(case, min_size=1, max_size=6), label="cases")
    lines = [json.dumps({"id": f"p{n}", "facts": facts})
             for n, facts in enumerate([*cases, *(dict(reversed(list(c.items()))) for c in cases), *cases])]
    batch = ("\n".join(lines) + "\n").encode()
    ready = Readiness(kb, ())
    day = data.draw(st.sampled_from([dt.date(2026, 12, 1), dt.date(2040, 1, 1)]), label="day")
    statuses = data.draw(st.sampled_from([("approved",), ("approved", "draft")]), label="statuses")
    explain, show_all = data.draw(st.booleans(), label="explain"), data.draw(st.booleans(), label="all")
    for compact in (True, False):
        defaults = Defaults(day, statuses, "clinician", explain, show_all)
        out = BatchOutput("json", compact, None)
        fast = Answers(ready, "b.jsonl", defaults, out).block(1, batch)
        plain = Answers(ready, "b.jsonl", defaults, out, memo=False).block(1, batch)
        assert fast.data == plain.data
        assert fast.errors == plain.errors
