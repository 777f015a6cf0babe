"""Every finding code has a positive and a negative fixture.

The table (tests/fixtures_per_code/: loading and terms, references to lifecycle, versions) holds for
each code in avn_kb/model/codes.py at least one POSITIVE row, an input that gives that finding, and
one NEGATIVE row, the nearest passing variant, that does not. Each row is run through the runner
`avn-kb validate` uses (avn_kb/validate/runner.py) and the findings, as the JSON report gives them,
must be exactly those the row lists, every field compared; the exit code follows. A code added to
codes.py without both rows fails here, naming the code; so does a row about a code that does not
exist."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from avn_kb.model.codes import CODES
from avn_kb.output.findings.json_report import as_data
from avn_kb.validate.runner import validate
from tests.conftest import run_cli
from tests.fixtures_per_code import checks, loading, versions
from tests.fixtures_per_code.rows import Fixture, expected_report, fixture_kb, missing_fixtures

TABLE: list[Fixture] = [*loading.ROWS, *checks.ROWS, *versions.ROWS]


def test_every_code_has_a_positive_and_a_negative_fixture() -> None:
    assert missing_fixtures(TABLE, set(CODES)) == []


def test_the_table_check_names_what_is_missing() -> None:
    # The check above must be able to fail: without AVN101's rows, with a row for an unknown
    # code and with a row twice, it says so.
    without = [f for f in TABLE if f.code != "AVN101"]
    stray = Fixture("AVN999", "no-such-code", (), ())
    assert missing_fixtures([*without, stray, without[0]], set(CODES)) == [
        "AVN101: no positive fixture", "AVN101: no negative fixture",
        "AVN999-no-such-code: AVN999 is not in avn_kb/model/codes.py",
        f"{without[0].label}: two rows of this name"]


@pytest.mark.parametrize("fixture", [pytest.param(f, id=f.label) for f in TABLE])
def test_fixture_gives_exactly_its_findings(tmp_path: Path, fixture: Fixture) -> None:
    kb = fixture_kb(tmp_path, fixture)
    report = validate(kb, str(kb), dt.date.fromisoformat(fixture.as_of), base=None if fixture.base is None else "HEAD")
    assert as_data(report)["findings"] == expected_report(kb, fixture.expected)
    assert report.exit_code(strict=False) == fixture.exit_code


# One row of each family, and a version row, through `avn-kb validate --format json` itself.
THROUGH_THE_CLI = ("AVN101-link-leaving-the-directory", "AVN126-stage-at-another-site", "AVN306-question-too-large",
                   "AVN403-due-yesterday", "AVN412-draft-removed", "AVN412-draft-retired")


@pytest.mark.parametrize("fixture", [pytest.param(f, id=f.label) for f in TABLE if f.label in THROUGH_THE_CLI])
def test_fixture_through_the_cli(tmp_path: Path, fixture: Fixture) -> None:
    kb = fixture_kb(tmp_path, fixture)
    base = () if fixture.base is None else ("--base", "HEAD")
    result = run_cli("validate", str(kb), "--format", "json", "--as-of", fixture.as_of, *base)
    assert json.loads(result.stdout)["findings"] == expected_report(kb, fixture.expected)
    assert result.exit_code == fixture.exit_code


def test_every_row_named_for_the_cli_exists() -> None:
    assert set(THROUGH_THE_CLI) <= {f.label for f in TABLE}
