"""The benchmark's phases of a validation (benchmarks/measure.py) run the runner's own steps: a
rename there must fail here, not twenty minutes into `make bench`."""

from __future__ import annotations

import datetime as dt

from benchmarks.measure import validation_phases
from tests.conftest import SHIPPED


def test_the_phases_of_a_validation_run_each_step_of_the_runner() -> None:
    phases = validation_phases(SHIPPED, dt.date(2026, 12, 1), 30)  # accepted findings among them
    names = [phase.name for phase in phases]
    assert all(phase.finished for phase in phases)
    assert any(name.startswith("check ") for name in names)
    assert names[-1].startswith("locate findings") and not phases[-1].detail.startswith("0 findings")
