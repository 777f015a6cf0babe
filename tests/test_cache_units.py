"""Level 3 of the cache (avn_kb/validate/units.py): the searching checks' results per unit, reused
after an edit only where the edit cannot change them, with the run's search budget kept exact."""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from avn_kb.lang.domains import SearchBudget
from avn_kb.validate import cache as cache_module
from avn_kb.validate.units import SearchRun
from tests.cache_helpers import cached, cold
from tests.conftest import SHIPPED
from tests.test_hostile import _search_heavy_kb


def _run_with(previous: dict[bytes, tuple[object, int]] | None, left: int) -> SearchRun:
    return SearchRun(SearchBudget(left), None, previous)


def _spending(run: SearchRun, steps: int) -> Callable[[], str]:
    def spend() -> str:
        run.budget.left -= steps  # as a search does when it ends
        return "decided"
    return spend


def test_a_kept_unit_is_charged_the_steps_it_spent() -> None:
    first = _run_with({}, 10_000)
    assert first.once("question", (), _spending(first, 700)) == "decided"
    assert first.budget.left == 9_300 and first.computed == 1
    second = _run_with(first.used, 10_000)
    assert second.once("question", (), lambda: pytest.fail("a kept unit is computed again")) == "decided"
    assert second.budget.left == 9_300 and second.computed == 0  # the cold run's budget after it
    assert not second.changed()


def test_a_kept_unit_is_computed_again_when_the_budget_left_is_short() -> None:
    first = _run_with({}, 10_000)
    first.once("question", (), _spending(first, 700))
    short = _run_with(first.used, 500)  # a question of it could have been refused here
    assert short.once("question", (), lambda: "computed") == "computed"
    assert short.computed == 1


def test_a_unit_the_budget_refused_is_not_kept() -> None:
    run = _run_with({}, 10)

    def refused() -> str:
        return str(run.budget.spent())
    run.once("question", (), refused)
    assert run.used == {}


def test_questions_differ_by_what_they_hold() -> None:
    run = _run_with({}, 10_000)
    assert run.once(("links", ("A", "B")), (), lambda: 1) == 1
    assert run.once(("links", ("A",)), (), lambda: 2) == 2
    assert run.computed == 2


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_one_edited_condition_searches_only_the_units_it_is_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, kb)
    cache_dir = tmp_path / "cache"
    runs: list[SearchRun] = []
    write = cache_module.UnitCache.write

    def watched(self: cache_module.UnitCache, search: SearchRun) -> None:
        runs.append(search)
        write(self, search)
    monkeypatch.setattr(cache_module.UnitCache, "write", watched)
    cached(kb, "knowledge", cache_dir)
    filled = runs[-1].computed
    assert filled > 30  # every recommendation, group and target once
    rec = next(p for p in sorted((kb / "recommendations").glob("*.yaml")) if "phase: acute" in p.read_text())
    _edit(rec, "phase: acute", "phase: subacute")
    warm = cached(kb, "knowledge", cache_dir)
    # Its satisfiability, its group of the same action, the recommendations on its target.
    assert 1 <= runs[-1].computed <= 3, runs[-1].computed
    assert warm == cold(kb, "knowledge")


def test_warm_equals_cold_when_the_budget_runs_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Results kept under a large budget, reused under one that refuses questions: the units that
    would not fit are searched again and the findings (AVN306 included) are the cold run's."""
    kb = _search_heavy_kb(tmp_path, flags=16)
    cache_dir = tmp_path / "cache"
    cached(kb, "knowledge", cache_dir)
    monkeypatch.setattr(SearchBudget, "BASE", 20_000)
    monkeypatch.setattr(SearchBudget, "PER_RECOMMENDATION", 0)
    # A statement is in no unit's key: the report level misses, every unit is kept.
    _edit(kb / "recommendations" / "avoid-training.yaml", "statement: ", "statement: Edited. ")
    warm = cached(kb, "knowledge", cache_dir)
    expected = cold(kb, "knowledge")
    assert warm == expected
    assert any(f.code == "AVN306" and "budget" in f.message for f, _ in expected["findings"])


@pytest.mark.parametrize("table", [
    {b"k": ("result",)},  # not (result, steps)
    {b"k": ("result", -1)},  # steps that no search spends
    {b"k": ("result", True)},  # a bool is no step count
    {"k": ("result", 5)},  # keys are digests
    [("result", 5)],  # not a table
], ids=["short entry", "negative steps", "boolean steps", "text key", "list"])
def test_a_table_of_another_shape_is_a_miss(tmp_path: Path, table: object) -> None:
    from avn_kb.util.store import Store

    store = Store.open(tmp_path / "cache")
    assert store is not None
    units = cache_module.UnitCache(store, cache_module.units_key(tmp_path / "knowledge", "knowledge"))
    store.put(units.key, pickle.dumps(table))
    assert units.read() == {}


def test_links_an_id_has_from_a_duplicate_in_another_group_are_part_of_what_a_conflict_is_kept_under(
        tmp_path: Path) -> None:
    """RT-002 (avoid resistive training) conflicts with RT-001 unless a recommendation with its id
    overrides RT-001: here a duplicate RT-002 on another target, in another group. Editing only
    that duplicate changes the conflicts of the group it is not in: the warm run must see it."""
    from tests.test_checks_semantic import NWB, OF, append, of_rec, planted, precaution

    duplicate = of_rec("RT-002", "{site: femoral-head, arco_stage: II}", NWB) + "    overrides: [RT-001]\n"
    kb = planted(tmp_path, (precaution(), append(OF, duplicate)))
    cache_dir = tmp_path / "cache"
    conflict = "RT-001 and RT-002 both apply"
    resolved = cached(kb, "knowledge", cache_dir)
    assert conflict not in str(resolved) and resolved == cold(kb, "knowledge")
    _edit(kb / OF, "    overrides: [RT-001]\n", "")
    warm = cached(kb, "knowledge", cache_dir)
    assert conflict in str(warm) and warm == cold(kb, "knowledge")
