"""Every identifier in the shipped bibliography is one the verified list gives for that very
publication: a made-up DOI in a clinical knowledge base is worse than none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SHIPPED

VERIFIED = Path(__file__).resolve().parent / "data" / "verified-references.yaml"


def _verified() -> dict[str, dict[str, Any]]:
    sections = yaml.safe_load(VERIFIED.read_text(encoding="utf-8"))
    return {entry["key"]: entry for entries in sections.values() for entry in entries}


def _shipped() -> list[dict[str, Any]]:
    return yaml.safe_load((SHIPPED / "references.yaml").read_text(encoding="utf-8"))["references"]


@pytest.mark.parametrize("ref", _shipped(), ids=lambda r: r["id"])
def test_identifiers_match_the_verified_record(ref: dict[str, Any]) -> None:
    verified = _verified()
    assert ref["id"] in verified, f"{ref['id']} is not in the verified list"
    record = verified[ref["id"]]
    for ours, theirs in (("DOI", "doi"), ("PMID", "pmid"), ("PMCID", "pmcid")):
        if ours in ref:
            assert str(record.get(theirs)) == ref[ours], f"{ref['id']} {ours}"
            assert theirs not in record.get("unconfirmed", [])
    assert "unconfirmed" not in str(record.get("title", ""))


def test_unconfirmed_publication_is_not_cited() -> None:
    assert "mccartney-1998" not in {ref["id"] for ref in _shipped()}
