"""Warm equals cold: random edits of random recommendations of a copy of the shipped knowledge
base, validated with the cache that the run before the edit filled (so the unedited files come
from the per-file level and the report from none), must give exactly what a run without any
cache gives, in every format, with every witness; and the run after that (the report level) too."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cache_helpers import AS_OF, cached, cold
from tests.conftest import SHIPPED
from tests.test_properties import examples

Edit = Callable[[dict[str, Any]], None]


def _set(key: str, value: Any) -> Edit:
    def edit(rec: dict[str, Any]) -> None:
        rec[key] = value
    return edit


def _drop(key: str) -> Edit:
    def edit(rec: dict[str, Any]) -> None:
        rec.pop(key, None)
    return edit


def _cite(ref: str) -> Edit:
    def edit(rec: dict[str, Any]) -> None:
        rec["citations"] = [{"ref": ref}]
    return edit


def _when(fact: str, value: Any) -> Edit:
    def edit(rec: dict[str, Any]) -> None:
        rec["when"] = {fact: value}
    return edit


def _review_due(day: dt.date) -> Edit:
    def edit(rec: dict[str, Any]) -> None:
        if isinstance(rec.get("review"), dict):
            rec["review"]["next_review_due"] = day
    return edit


# Edits an editor makes, good and bad: each changes findings of some check family.
EDITS: list[Edit] = [
    _set("status", "draft"), _set("status", "retired"), _set("status", "approved"),
    _set("version", "2.0"), _set("version", "9.9.9"),
    _set("statement", "Consider 3 sets of 10 repetitions daily."),
    _set("certainty", "high"), _set("population", "no-such-population"),
    _set("action", {"kind": "avoid", "target": "low-impact-conditioning"}),
    _set("action", {"kind": "recommend", "target": "no-such-intervention"}),
    _set("supersedes", ["MO-001"]), _set("links", [{"to": "XX-999", "rel": "see-also"}]),
    _drop("strength"), _drop("citations"), _drop("review"),
    _cite("no-such-reference"), _cite("mont-1996"),
    _when("site", "knee"), _when("phase", "acute"), _when("no_such_fact", 3),
    _when("collapse", "post-collapse"), _when("platelet_count", {"lt": 20}),
    # Never applies (AVN302), and the same condition as many others (AVN303 within its group).
    _set("when", {"all": [{"site": "knee"}, {"site": "femoral-head"}]}), _when("region", "lower-limb"),
    _review_due(dt.date(2020, 1, 1)), _review_due(dt.date(2030, 1, 1)),
]


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[str, int, str]]:
    """(file, recommendation index, edit) several times; an index past the end duplicates the
    recommendation before (a duplicate id), a negative one deletes it."""
    files = sorted(p.name for p in (SHIPPED / "recommendations").glob("*.yaml"))
    count = draw(st.integers(1, 3))
    return [(draw(st.sampled_from(files)), draw(st.integers(-1, 12)),
             draw(st.sampled_from(["edit", "delete", "duplicate", "tab", "truncate"])))
            for _ in range(count)]


def _apply(kb: Path, change: tuple[str, int, str], edit: Edit) -> None:
    path = kb / "recommendations" / change[0]
    if change[2] in ("tab", "truncate"):
        text = path.read_text(encoding="utf-8")
        cut = len(text) // 3
        path.write_text(text[:cut] + "\t" + text[cut:] if change[2] == "tab" else text[:cut], encoding="utf-8")
        return
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return  # an earlier edit broke the file: it stays broken
    if not isinstance(document, dict) or not isinstance(document.get("recommendations"), list):
        return  # an earlier edit broke the file: it stays broken
    recs = document["recommendations"]
    if not recs:
        return  # an earlier edit deleted the last one
    index = change[1] % len(recs)
    if change[2] == "delete":
        del recs[index]
    elif change[2] == "duplicate":
        recs.append(dict(recs[index]))
    else:
        edit(recs[index])
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


# Edits of what every recommendation shares (the per-recommendation checks' findings are kept
# under a digest of it): (file, text, replacement).
SHARED_EDITS = [
    ("kb.yaml", "locator_required: false", "locator_required: true"),
    ("kb.yaml", "reviewers_required: 1", "reviewers_required: 2"),
    ("references.yaml", "    population: peripheral-artery-disease\n",
     "    population: avn\n    covers: [pain-monitoring]\n"),
    ("references.yaml", "topics: [staging]", "topics: [staging, offloading, resistive-training]"),
    ("vocabulary.yaml", "  avn-femoral-head:\n", "  avn-hip:\n    label: Hip\n    parent: avn\n  avn-femoral-head:\n"),
]


@settings(max_examples=examples(12))
@given(edits(), st.lists(st.sampled_from(EDITS), min_size=3, max_size=3),
       st.sampled_from([AS_OF, dt.date(2031, 1, 1)]), st.sampled_from([None, *SHARED_EDITS]))
def test_warm_findings_equal_cold_after_random_edits(changes: list[tuple[str, int, str]], chosen: list[Edit],
                                                     day: dt.date, shared: tuple[str, str, str] | None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        kb, store = Path(scratch) / "knowledge", Path(scratch) / "cache"
        shutil.copytree(SHIPPED, kb)
        cached(kb, "knowledge", store, day)  # fills both levels for the unedited knowledge base
        stored = set(store.glob("f*"))
        for change, edit in zip(changes, chosen, strict=False):
            _apply(kb, change, edit)
        if shared is not None:
            path = kb / shared[0]
            text = path.read_text(encoding="utf-8")
            assert shared[1] in text, shared
            path.write_text(text.replace(shared[1], shared[2], 1), encoding="utf-8")
        expected = cold(kb, "knowledge", day)
        assert cached(kb, "knowledge", store, day) == expected
        # Only the edited files were loaded again (and stored); the others came from the cache.
        assert len(set(store.glob("f*")) - stored) <= len({change[0] for change in changes}) + (shared is not None)
        reports = {entry.name: entry.stat().st_ino for entry in store.glob("r*")}
        assert cached(kb, "knowledge", store, day) == expected  # the whole report from the report level
        # Read, not computed and stored again (a store replaces the file: another inode).
        assert {entry.name: entry.stat().st_ino for entry in store.glob("r*")} == reports
        # Review dates are judged by the day: another day is another report.
        later = dt.date(2031, 1, 1) if day == AS_OF else AS_OF
        assert cached(kb, "knowledge", store, later) == cold(kb, "knowledge", later)


@settings(max_examples=examples(5), deadline=None)
@given(st.integers(1, 10_000),
       st.lists(st.tuples(st.integers(0, 3), st.integers(-1, 40), st.sampled_from(["edit", "delete", "duplicate"])),
                min_size=1, max_size=3),
       st.lists(st.sampled_from(EDITS), min_size=3, max_size=3))
def test_warm_findings_equal_cold_on_generated_knowledge_bases(seed: int, picks: list[tuple[int, int, str]],
                                                               chosen: list[Edit]) -> None:
    """The same on generated knowledge bases of 120 recommendations in four files, with planted
    conflicts and redundancy: the edited recommendations' units are searched again, the others
    come from level 3 with the budget they spent."""
    from benchmarks.generate import generate

    with tempfile.TemporaryDirectory() as scratch:
        kb, store = Path(scratch) / "knowledge", Path(scratch) / "cache"
        for conflicts in (4, 3, 2, 1, 0):  # as many planted conflicts as the draw has hosts for
            try:
                generate(120, kb, conflicts=conflicts, seed=seed, per_file=30)
                break
            except ValueError:
                shutil.rmtree(kb, ignore_errors=True)
        files = sorted(p.name for p in (kb / "recommendations").glob("*.yaml"))
        cached(kb, "knowledge", store)
        for (file, index, kind), edit in zip(picks, chosen, strict=False):
            _apply(kb, (files[file % len(files)], index, kind), edit)
        assert cached(kb, "knowledge", store) == cold(kb, "knowledge")
