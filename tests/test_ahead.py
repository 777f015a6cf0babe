"""The searching checks shared with a forked worker (avn_kb/validate/ahead.py): the same findings
as one process, whatever the worker answers in time, whatever it fails to answer, and whatever
the search budget leaves."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from avn_kb.load.knowledge import Loaded, load_knowledge
from avn_kb.model import conditions
from avn_kb.util import forked, lifetime
from avn_kb.validate import ahead
from avn_kb.validate.checks import CHECKS, CheckContext
from avn_kb.validate.runner import run_checks
from avn_kb.validate.units import LocalKey
from benchmarks.generate import generate
from tests.conftest import run_cli
from tests.test_hostile import search_heavy_with_redundancy_group

AS_OF = dt.date(2026, 12, 1)
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the worker is forked: POSIX only")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """A generated knowledge base with planted conflicts, plus a redundant copy of one
    recommendation and one that can never apply: every searching check finds something."""
    root = tmp_path_factory.mktemp("ahead") / "kb"
    generate(400, root, conflicts=4, seed=3)
    loaded = load_knowledge(root, "kb")
    first, second = loaded.kb.recommendations[:2]
    never = conditions.parse({"all": [{"phase": {"in": ["acute"]}}, {"not": {"phase": {"in": ["acute"]}}}]},
                             second.where.pointer + ("when",))
    extra = (replace(first, id=first.id + "-COPY"), replace(second, id=second.id + "-NEVER", when=never))
    loaded.kb = replace(loaded.kb, recommendations=loaded.kb.recommendations + extra)
    return loaded


def _codes(findings: list[Any]) -> set[str]:
    return {finding.code for finding in findings}


def _waiting_for_the_worker(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the parent wait for each unit the worker is still answering, so that it takes every
    one (deterministic); returns a list holding the count of units taken."""
    taken = [0]
    original = ahead.Worker.get

    def get(self: ahead.Worker, key: LocalKey) -> Any:
        while key not in self._units and self._worker.open:
            self._units.update(self._worker.frames())
            time.sleep(0.001)
        found = original(self, key)
        taken[0] += found is not None
        return found
    monkeypatch.setattr(ahead.Worker, "get", get)
    return taken


def test_the_worker_answers_units_and_the_findings_are_one_process_s(planted: Loaded,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    alone = run_checks(planted, tuple(CHECKS), AS_OF, jobs=1)
    assert {"AVN301", "AVN302", "AVN303"} <= _codes(alone)
    taken = _waiting_for_the_worker(monkeypatch)
    assert run_checks(planted, tuple(CHECKS), AS_OF, jobs=2) == alone
    assert taken[0] > 10  # the parent took the worker's units (a mutation dropping them fails here)


def test_the_worker_serves_every_shared_check_before_it_is_stopped(planted: Loaded,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """It answers the last check's units first: stopped after the first shared check, it would
    have helped with little but that one."""
    ran: list[str] = []
    for name in ahead.AHEAD:
        registered = CHECKS[name]
        assert registered.check is not None

        def spy(ctx: CheckContext, run: Any, name: str = name, check: Any = registered.check) -> Any:
            ran.append(name)
            yield from check(ctx, run)
        monkeypatch.setitem(CHECKS, name, replace(registered, check=spy))
    stopped_after: list[tuple[str, ...]] = []
    close = ahead.Worker.close

    def spied_close(self: ahead.Worker) -> None:
        stopped_after.append(tuple(ran))
        close(self)
    monkeypatch.setattr(ahead.Worker, "close", spied_close)
    run_checks(planted, tuple(CHECKS), AS_OF, jobs=2)
    assert stopped_after and stopped_after[0] == ahead.AHEAD


def test_without_waiting_the_findings_are_the_same(planted: Loaded) -> None:
    assert run_checks(planted, tuple(CHECKS), AS_OF, jobs=2) == run_checks(planted, tuple(CHECKS), AS_OF, jobs=1)


def test_a_spent_budget_refuses_what_one_process_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker has a budget of its own: what it answered is taken only where this run's budget
    left covers its steps. Here the conflicts before redundancy spend the run's budget, and the
    worker, answering redundancy first with all of its own, sends a unit this run cannot afford:
    it is refused here (AVN306) as one process refuses it."""
    kb = search_heavy_with_redundancy_group(tmp_path)
    loaded = load_knowledge(kb, "kb")
    alone = run_checks(loaded, tuple(CHECKS), AS_OF, jobs=1)
    assert any(f.code == "AVN306" and f.ids == ("RT-002",) for f in alone)
    taken = _waiting_for_the_worker(monkeypatch)
    assert run_checks(loaded, tuple(CHECKS), AS_OF, jobs=2) == alone
    assert taken[0] >= 1


def test_a_worker_that_dies_leaves_the_work_to_the_parent(planted: Loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = run_checks(planted, tuple(CHECKS), AS_OF, jobs=1)
    def dying(ctx: CheckContext, names: tuple[str, ...], write: int) -> None:
        os._exit(3)
    monkeypatch.setattr(ahead, "_answer", dying)
    _waiting_for_the_worker(monkeypatch)
    assert run_checks(planted, tuple(CHECKS), AS_OF, jobs=2) == alone


def test_a_worker_that_sends_garbage_is_not_believed(planted: Loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = run_checks(planted, tuple(CHECKS), AS_OF, jobs=1)

    def garbage(ctx: CheckContext, names: tuple[str, ...], write: int) -> None:
        os.write(write, b"\x00\x00\x00\x05\x80\x05not")  # a frame that is no pickle
    monkeypatch.setattr(ahead, "_answer", garbage)
    _waiting_for_the_worker(monkeypatch)
    assert run_checks(planted, tuple(CHECKS), AS_OF, jobs=2) == alone


def _context(loaded: Loaded, recommendations: int) -> CheckContext:
    kb = loaded.kb
    recs = (kb.recommendations * (recommendations // len(kb.recommendations) + 1))[:recommendations]
    return CheckContext(kb=replace(kb, recommendations=recs), as_of=AS_OF, unbuilt_ids=frozenset(),
                        unbuilt_citations=frozenset(), declared_names=frozenset(), unloaded_kinds=frozenset())


def test_only_a_command_on_a_mid_sized_knowledge_base_forks_by_itself(planted: Loaded,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    names = tuple(CHECKS)
    monkeypatch.setattr(forked, "usable_cores", lambda: 2)
    mid, small, large = _context(planted, 5_000), _context(planted, 500), _context(planted, 50_000)
    monkeypatch.setattr(lifetime, "process_ends_after_run", lambda: False)
    assert not ahead.worth_forking(mid, names, None, False)  # a library caller: the service, a test
    monkeypatch.setattr(lifetime, "process_ends_after_run", lambda: True)
    assert ahead.worth_forking(mid, names, None, False)
    assert not ahead.worth_forking(small, names, None, False)  # the fork would cost more than it saves
    assert not ahead.worth_forking(large, names, None, False)  # a second copy of a large model: memory
    assert ahead.worth_forking(large, names, 2, False)  # unless asked
    assert not ahead.worth_forking(mid, names, None, True)  # a warm run answers from the kept units
    assert not ahead.worth_forking(mid, names, 1, False)
    assert not ahead.worth_forking(mid, ("duplicate-ids",), 2, False)  # nothing to share
    monkeypatch.setattr(forked, "usable_cores", lambda: 1)
    assert not ahead.worth_forking(mid, names, None, False)


def test_a_process_with_another_thread_never_forks() -> None:
    """A fork copies only the calling thread: a lock another thread held would stay held in the
    worker forever."""
    assert forked.may_fork(2)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not forked.may_fork(2) and not forked.may_fork(None)
    finally:
        release.set()
        other.join()


def test_the_command_gives_the_same_report_with_one_or_two_jobs(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    generate(300, root, conflicts=3, seed=5)
    reports = [run_cli("validate", str(root), "--no-cache", "--as-of", AS_OF.isoformat(), "--format", "json",
                       "--jobs", jobs) for jobs in ("1", "2")]
    assert reports[0].exit_code == reports[1].exit_code == 1
    assert reports[0].output == reports[1].output and '"AVN301"' in reports[0].output
    refused = run_cli("validate", str(root), "--jobs", "0")
    assert refused.exit_code == 2 and "--jobs" in refused.output
