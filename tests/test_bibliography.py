"""Every identifier in the shipped bibliography is one the verified list gives for that very
publication: a made-up DOI in a clinical knowledge base is worse than none."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SHIPPED

VERIFIED = Path(__file__).resolve().parent / "data" / "verified-references.yaml"
# Later checks of entries already listed: free-text findings, not bibliographic records.
CHECKS = "checks_on_listed_entries"


def _sections() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load(VERIFIED.read_text(encoding="utf-8"))


def _verified() -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for name, entries in _sections().items() if name != CHECKS for entry in entries}


def _checks() -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in _sections().get(CHECKS, [])}


def _confirmed_by_check(key: str, field: str, value: str) -> bool:
    """A later check confirmed this identifier: its finding states the value and does not list
    the field as still unconfirmed."""
    check = _checks().get(key)
    if check is None or field in check.get("still_unconfirmed", []):
        return False
    # The whole identifier, not a piece of a longer one.
    return re.search(rf"(?<![\w./]){re.escape(value)}(?![\w/])", check["finding"]) is not None


def _shipped() -> list[dict[str, Any]]:
    return yaml.safe_load((SHIPPED / "references.yaml").read_text(encoding="utf-8"))["references"]


@pytest.mark.parametrize("ref", _shipped(), ids=lambda r: r["id"])
def test_identifiers_match_the_verified_record(ref: dict[str, Any]) -> None:
    verified = _verified()
    assert ref["id"] in verified, f"{ref['id']} is not in the verified list"
    record = verified[ref["id"]]
    for ours, theirs in (("DOI", "doi"), ("PMID", "pmid"), ("PMCID", "pmcid")):
        if ours not in ref:
            continue
        if theirs in record and theirs not in record.get("unconfirmed", []):
            assert str(record[theirs]) == ref[ours], f"{ref['id']} {ours}"
        else:
            assert _confirmed_by_check(ref["id"], theirs, ref[ours]), f"{ref['id']} {ours} is not confirmed"
    assert "unconfirmed" not in str(record.get("title", ""))


def test_every_check_is_about_a_listed_entry() -> None:
    assert set(_checks()) <= set(_verified())


@pytest.mark.parametrize(("key", "field", "value", "confirmed"), [
    ("cochrane-cd004344", "pmid", "31803937", True),               # stated by the 2019 check
    ("cochrane-cd004344", "doi", "10.1002/14651858.CD004344.pub7", True),
    ("cochrane-cd004344", "pmid", "3180393", False),               # only part of the stated number
    ("neumayr-2006", "pmid", "2573", False),                       # in the finding, but pmid still unconfirmed
    ("hamburg-2011", "pmid", "87", False),                         # no check of this entry at all
])
def test_a_check_confirms_only_what_its_finding_states(key: str, field: str, value: str, confirmed: bool) -> None:
    assert _confirmed_by_check(key, field, value) is confirmed


def test_unconfirmed_publication_is_not_cited() -> None:
    assert "mccartney-1998" not in {ref["id"] for ref in _shipped()}


@pytest.mark.parametrize("ref", _shipped(), ids=lambda r: r["id"])
def test_an_author_list_is_cut_short_exactly_where_the_verified_record_says_et_al(ref: dict[str, Any]) -> None:
    """The verified record's "et al." is kept as the CSL marker name {literal: others}, last, so the
    formatted reference ends its authors with "et al."; a complete list has no marker."""
    record = _verified().get(ref["id"])
    if record is None or not record.get("authors"):
        pytest.skip(f"{ref['id']}: no author list in the verified record")
    cut = record["authors"][-1].strip() == "et al."
    names = ref.get("author", [])
    markers = [i for i, name in enumerate(names) if name.get("literal") == "others"]
    assert markers == ([len(names) - 1] if cut else [])
