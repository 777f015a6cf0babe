"""`avn-kb export csl`: the bibliography as CSL-JSON, valid against the CSL-JSON schema
(tests/data/csl-data.json, see tests/data/README.md), the same facts as references.yaml field for
field with nothing added, and readable by a real citation processor (citeproc-py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from avn_kb.output.csl import CSL_FIELDS
from tests.conftest import MINI, SHIPPED, run_cli

CSL_SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "csl-data.json").read_text(encoding="utf-8"))


def exported(kb: Path) -> list[dict[str, Any]]:
    result = run_cli("export", "csl", "--kb", str(kb))
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def schema_errors(data: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft7Validator(CSL_SCHEMA).iter_errors(data)]


@pytest.mark.parametrize("kb", [MINI, SHIPPED], ids=["mini", "shipped"])
def test_export_is_valid_csl_json(kb: Path) -> None:
    assert schema_errors(exported(kb)) == []


def test_the_schema_refuses_what_is_not_csl() -> None:
    """The schema can fail: a date as a string and an unknown item type are refused."""
    broken = copy.deepcopy(exported(MINI))
    broken[0]["issued"] = "1996"
    broken[1]["type"] = "guideline"
    assert len(schema_errors(broken)) == 2


@pytest.mark.parametrize("kb", [MINI, SHIPPED], ids=["mini", "shipped"])
def test_every_entry_keeps_its_csl_fields_and_gains_none(kb: Path) -> None:
    """Read references.yaml independently: each item is exactly its entry's CSL fields, in order."""
    entries = yaml.safe_load((kb / "references.yaml").read_text(encoding="utf-8"))["references"]
    expected = [{k: entry[k] for k in CSL_FIELDS if k in entry} for entry in entries]
    assert exported(kb) == expected
    # The mapping covers every CSL field the bibliography uses: only avn-kb's own are left out.
    used = {key for entry in entries for key in entry}
    assert used - set(CSL_FIELDS) <= {"population", "topics", "covers", "design", "status", "note"}


def test_one_item_in_full() -> None:
    assert exported(MINI)[0] == {
        "id": "mont-1996", "type": "article-journal",
        "title": "Core decompression versus nonoperative management for osteonecrosis of the hip",
        "author": [{"family": "Mont", "given": "MA"}, {"family": "Carbone", "given": "JJ"},
                   {"family": "Fairbank", "given": "AC"}],
        "container-title": "Clin Orthop Relat Res", "issued": {"date-parts": [[1996]]}, "page": "169-178",
        "DOI": "10.1097/00003086-199603000-00020", "PMID": "8595753"}


def render_bibliography(data: list[dict[str, Any]]) -> list[str]:
    """The bibliography as citeproc-py formats it in the Harvard style it ships (Cite Them Right)."""
    citeproc = pytest.importorskip("citeproc", reason="citeproc-py is a test dependency (pip install '.[test]')")
    from citeproc.source.json import CiteProcJSON

    style = citeproc.CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = citeproc.CitationStylesBibliography(style, CiteProcJSON(data), citeproc.formatter.plain)
    for entry in data:
        bibliography.register(citeproc.Citation([citeproc.CitationItem(entry["id"])]))
    return [str(line) for line in bibliography.bibliography()]


def test_citeproc_renders_the_bibliography() -> None:
    lines = render_bibliography(exported(MINI))
    assert lines[0] == ("Mont, M., Carbone, J. and Fairbank, A. (1996) “Core decompression versus nonoperative "
                        "management for osteonecrosis of the hip”, Clin Orthop Relat Res, pp. 169–178. "
                        "Available at: https://doi.org/10.1097/00003086-199603000-00020.")


def test_citeproc_renders_every_shipped_reference_with_its_doi() -> None:
    data = exported(SHIPPED)
    lines = render_bibliography(data)
    assert len(lines) == len(data)
    # Harvard sorts by author; every DOI appears in exactly one line, with the title beside it.
    for entry in data:
        found = [line for line in lines if entry["title"][:40] in line]
        assert len(found) == 1, entry["id"]
        if "DOI" in entry:
            assert f"https://doi.org/{entry['DOI']}" in found[0], entry["id"]


def test_output_file_and_bad_input(tmp_path: Path) -> None:
    target = tmp_path / "references.json"
    result = run_cli("export", "csl", "--kb", str(MINI), "-o", str(target))
    assert (result.exit_code, result.stdout) == (0, "")
    assert json.loads(target.read_text(encoding="utf-8")) == exported(MINI)
    missing = run_cli("export", "csl", "--kb", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and missing.stderr.startswith("avn-kb export csl: ")


def test_knowledge_that_did_not_load_is_refused_unless_allowed(tmp_path: Path) -> None:
    """Like every export: exit 2 naming the problem; --allow-incomplete exports what loaded and says
    so on stderr (CSL-JSON, a bare array of items, has no place for a banner)."""
    import shutil

    kb = tmp_path / "broken"
    shutil.copytree(MINI, kb)
    (kb / "recommendations" / "offloading.yaml").write_text("topic: offloading\nrecommendations: [\n")
    refused = run_cli("export", "csl", "--kb", str(kb))
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.splitlines()[-1].startswith(f"avn-kb export csl: refusing to answer from {kb}")
    allowed = run_cli("export", "csl", "--kb", str(kb), "--allow-incomplete")
    assert allowed.exit_code == 0 and "answering from an incomplete knowledge base" in allowed.stderr
    assert json.loads(allowed.stdout) == exported(MINI)
