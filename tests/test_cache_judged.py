"""Level 3 for the plain checks (avn_kb/validate/kept_findings.py): each per-recommendation
check's findings kept per recommendation, under a digest of what the recommendations share, so that
after an edit only the edited recommendation is judged again, and after an edit of what they share
(bibliography, manifest, vocabulary, day) every one is."""

from __future__ import annotations

import datetime as dt
import pickle
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import Recommendation
from avn_kb.util.store import Store
from avn_kb.validate import cache as cache_module
from avn_kb.validate.checks import CHECKS, CheckContext, Judge
from avn_kb.validate.kept_findings import Table, judge_each
from tests.cache_helpers import AS_OF, cached, cold
from tests.conftest import SHIPPED


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, root)
    return root


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """The ids of the recommendations check `name` judges from now on."""
    judged: list[str] = []
    registered = CHECKS[name]
    assert registered.judge_of is not None
    real = registered.judge_of

    def judge_of(ctx: CheckContext) -> Judge:
        judge = real(ctx)

        def counted(rec: Recommendation) -> Iterator[Finding]:
            judged.append(rec.id)
            return judge(rec)
        return counted
    monkeypatch.setitem(CHECKS, name, replace(registered, judge_of=judge_of))
    return judged


def _codes(view: dict[str, object]) -> list[str]:
    return [finding.code for finding, _ in view["findings"]]  # type: ignore[attr-defined]


def test_an_edit_judges_only_the_edited_recommendation(kb: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    judged = _counting(monkeypatch, "certainty")
    store = tmp_path / "cache"
    cached(kb, "knowledge", store)
    assert len(judged) == 50  # the shipped knowledge base, every recommendation once
    judged.clear()
    path = kb / "recommendations" / "precautions.yaml"
    first = next(line.split("id:")[1].strip() for line in path.read_text(encoding="utf-8").splitlines()
                 if line.lstrip().startswith("- id:"))
    _edit(path, "statement: ", "statement: Edited. ")
    warm = cached(kb, "knowledge", store)
    assert judged == [first]
    assert warm == cold(kb, "knowledge")


def test_a_changed_field_is_judged_again(kb: Path, tmp_path: Path) -> None:
    """Certainty is no field the searching checks read: the digest of the whole recommendation
    must still change with it, or the warm run would miss the finding."""
    store = tmp_path / "cache"
    cached(kb, "knowledge", store)
    path = kb / "recommendations" / "resistive-training.yaml"
    text = path.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.strip().startswith("certainty:"))
    _edit(path, old, old.split("certainty:")[0] + "certainty: high")
    expected = cold(kb, "knowledge")
    assert cached(kb, "knowledge", store) == expected
    assert "AVN207" in _codes(expected)


@pytest.mark.parametrize(("file", "old", "new", "code"), [
    # A reference cited by seven recommendations now covers only one intervention: AVN210.
    ("references.yaml", "    population: peripheral-artery-disease\n",
     "    population: peripheral-artery-disease\n    covers: [pain-monitoring]\n", "AVN210"),
    # The policy now wants a locator on every citation: AVN208 on unedited recommendations.
    ("kb.yaml", "locator_required: false", "locator_required: true", "AVN208"),
    ("kb.yaml", "reviewers_required: 1", "reviewers_required: 3", "AVN401"),
], ids=["bibliography", "locator policy", "reviewers policy"])
def test_an_edit_of_what_they_share_judges_every_recommendation_again(
        kb: Path, tmp_path: Path, file: str, old: str, new: str, code: str) -> None:
    store = tmp_path / "cache"
    before = cached(kb, "knowledge", store)
    _edit(kb / file, old, new)
    expected = cold(kb, "knowledge")
    assert _codes(expected).count(code) > _codes(before).count(code)
    assert cached(kb, "knowledge", store) == expected


def test_the_day_is_part_of_what_they_share(kb: Path, tmp_path: Path) -> None:
    store = tmp_path / "cache"
    cached(kb, "knowledge", store, AS_OF)
    later = dt.date(2035, 1, 1)
    expected = cold(kb, "knowledge", later)
    assert "AVN403" in _codes(expected)  # reviews fall due
    assert cached(kb, "knowledge", store, later) == expected


def test_a_judge_is_given_no_other_recommendation(kb: Path) -> None:
    """What a judge may read is what the table's key covers: not the other recommendations, the
    golden cases or the --base knowledge base."""
    from avn_kb.load.knowledge import load_knowledge

    loaded = load_knowledge(kb, "knowledge")
    ctx = CheckContext(kb=loaded.kb, as_of=AS_OF, base=loaded.kb, base_ref="HEAD")
    shared = ctx.shared()
    assert (shared.kb.recommendations, shared.kb.cases, shared.base, shared.base_ref) == ((), (), None, None)
    assert (shared.kb.vocabulary, shared.kb.references, shared.kb.manifest) == (
        loaded.kb.vocabulary, loaded.kb.references, loaded.kb.manifest)


class _Memory:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table
        self.writes = 0

    def read(self) -> Table | None:
        return self.table

    def write(self, table: Table) -> None:
        self.table, self.writes = table, self.writes + 1


def test_a_table_kept_for_other_judges_or_another_context_is_not_used(kb: Path) -> None:
    from avn_kb.load.knowledge import load_knowledge

    recs = load_knowledge(kb, "knowledge").kb.recommendations
    calls: list[str] = []

    def judge(rec: Recommendation) -> Iterator[Finding]:
        calls.append(rec.id)
        return iter(())
    memory = _Memory()
    judge_each(recs, {"a": judge}, memory, b"context")
    assert len(calls) == len(recs) and memory.writes == 1
    judge_each(recs, {"a": judge}, memory, b"context")
    assert len(calls) == len(recs) and memory.writes == 1  # all kept, nothing new to write
    judge_each(recs, {"a": judge}, memory, b"another context")
    assert len(calls) == 2 * len(recs)
    judge_each(recs, {"a": judge, "b": judge}, memory, b"another context")
    assert len(calls) == 4 * len(recs)


@pytest.mark.parametrize("table", [
    (b"context", ("a",), {b"k": ((), ())}, frozenset()),  # two judges' findings for one judge
    (b"context", ("a",), {b"k": (("not a finding",),)}, frozenset()),
    (b"context", ("a",), {"k": ()}, frozenset()),  # keys are digests
    (b"context", "a", {b"k": ()}, frozenset()),  # names are a tuple
    (b"context", ("a",), {b"k": ()}, {b"k"}),  # the verdict's refusals are a frozenset
    (b"context", ("a",), {b"k": ()}, frozenset({"k"})),
    (b"context", ("a",), {b"k": ()}),  # no refusals
    [b"context", ("a",), {}, frozenset()],  # not a table
], ids=["long entry", "not findings", "text key", "names as text", "refusals as set", "refusal as text",
        "short", "list"])
def test_a_findings_table_of_another_shape_is_a_miss(tmp_path: Path, table: object) -> None:
    store = Store.open(tmp_path / "cache")
    assert store is not None
    kept = cache_module.FindingsCache(store, cache_module.units_key(tmp_path / "knowledge", "knowledge", b"judged"))
    store.put(kept.key, pickle.dumps(table))
    assert kept.read() is None


@pytest.mark.parametrize("table", [
    {(b"d", ("recommendations", 0), False): (0, 1)},  # lines and columns start at 1
    {(b"d", ("recommendations", 0), 1): (3, 1)},  # at the key is a bool
    {(b"d", 3, 1): (3,)},
    {("d", 3, 1): (3, 4)},  # the text's digest is bytes
    {(b"d", ("recommendations", 0.5), False): (3, 4)},
    [(b"d", 3, 1)],
], ids=["line 0", "key not bool", "short place", "text digest", "float step", "list"])
def test_a_places_table_of_another_shape_is_a_miss(tmp_path: Path, table: object) -> None:
    store = Store.open(tmp_path / "cache")
    assert store is not None
    places = cache_module.PlacesCache(store, cache_module.units_key(tmp_path / "knowledge", "knowledge", b"located"))
    store.put(places.key, pickle.dumps(table))
    assert places.read() is None
    store.put(places.key, pickle.dumps({(b"d", ("recommendations", 0), False): (3, 4), (b"d", 3, 4): (3, 9)}))
    assert places.read() == {(b"d", ("recommendations", 0), False): (3, 4), (b"d", 3, 4): (3, 9)}


def test_a_file_edited_above_a_finding_is_located_again(kb: Path, tmp_path: Path) -> None:
    store = tmp_path / "cache"
    cached(kb, "knowledge", store)
    path = kb / "recommendations" / "resistive-training.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("recommendations:\n", "recommendations:\n# a comment that moves every line\n\n", 1),
                    encoding="utf-8")
    assert cached(kb, "knowledge", store) == cold(kb, "knowledge")


def test_a_kept_malformed_condition_stays_out_of_the_searches(kb: Path, tmp_path: Path) -> None:
    """Whether each condition is well formed is kept in the table too: an unedited recommendation
    whose condition names no declared fact must stay out of the logic checks in a warm run."""
    _edit(kb / "recommendations" / "resistive-training.yaml", "      region: lower-limb\n      collapse: pre-collapse\n",
          "      no_such_fact: 3\n      collapse: pre-collapse\n")
    store = tmp_path / "cache"
    first = cached(kb, "knowledge", store)
    assert first == cold(kb, "knowledge") and "AVN121" in _codes(first)
    _edit(kb / "recommendations" / "precautions.yaml", "statement: ", "statement: Edited. ")
    assert cached(kb, "knowledge", store) == cold(kb, "knowledge")
