"""`avn-kb export fhir`: the Bundle validates against the `fhir.resources` models of its release
(R5, and R4B for R4: the PlanDefinition, ActivityDefinition and Bundle elements used are the same
in R4 and R4B), and each part of the mapping in docs/interop.md holds on a known recommendation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from avn_kb.cli.editorial import export
from avn_kb.load.knowledge import load_knowledge
from avn_kb.output.fhir import bundle as fhir
from avn_kb.output.fhir import parts
from tests.conftest import MINI, ROOT, SHIPPED

pytest.importorskip("fhir.resources", reason="fhir.resources is a test dependency (pip install '.[test]')")
from fhir.resources.bundle import Bundle as BundleR5  # noqa: E402
from fhir.resources.R4B.bundle import Bundle as BundleR4B  # noqa: E402

MODELS: dict[str, Any] = {"R4": BundleR4B, "R5": BundleR5}
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}


def run_export(*args: str) -> Result:
    return CliRunner().invoke(export, ["fhir", *args], catch_exceptions=False)


def exported(kb: Path, version: str) -> dict[str, Any]:
    result = run_export("--kb", str(kb), "--version", version)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def resource(bundle: dict[str, Any], kind: str, rid: str) -> dict[str, Any]:
    found = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind
             and e["resource"]["id"] == rid]
    assert len(found) == 1, f"{kind}/{rid} appears {len(found)} times"
    return found[0]


@pytest.mark.parametrize("kb", [MINI, SHIPPED], ids=["mini", "shipped"])
@pytest.mark.parametrize("version", fhir.VERSIONS)
def test_bundle_validates_and_every_action_resolves(kb: Path, version: str) -> None:
    bundle = exported(kb, version)
    MODELS[version].model_validate(bundle)
    recommendations = load_knowledge(kb, str(kb)).kb.recommendations
    assert bundle["type"] == "collection"
    kinds = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]]
    assert kinds == [pair for r in recommendations
                     for pair in (("PlanDefinition", r.id), ("ActivityDefinition", f"{r.id}-activity"))]
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == entry["resource"]["url"]
        assert entry["resource"]["status"] in PUBLICATION_STATUS
        if entry["resource"]["resourceType"] == "PlanDefinition":
            assert entry["resource"]["action"][0]["definitionCanonical"] in full_urls


def test_the_other_release_model_rejects_the_bundle() -> None:
    """The models are strict: an R4 artifact URL is not an element of R5 (a failing validation is
    possible, so the passing one above means something)."""
    with pytest.raises(ValueError, match="relatedArtifact.0.url"):
        BundleR5.model_validate(exported(MINI, "R4"))


def test_plan_definition_of_a_recommendation_r4() -> None:
    plan = resource(exported(MINI, "R4"), "PlanDefinition", "OF-001")
    assert plan["url"] == "https://avn-kb.org/fhir/PlanDefinition/OF-001"
    assert (plan["version"], plan["name"], plan["status"]) == ("1.0.0", "OF_001", "active")
    assert plan["type"]["coding"] == [{"system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
                                       "code": "eca-rule", "display": "ECA Rule"}]
    assert plan["approvalDate"] == "2026-01-10" and "lastReviewDate" not in plan and "effectivePeriod" not in plan
    assert plan["reviewer"] == [{"name": "rev-a (orthopaedic surgeon)"}, {"name": "rev-b (physiotherapist)"}]
    assert plan["relatedArtifact"] == [{
        "type": "citation", "label": "mont-1996",
        "citation": "Mont MA, Carbone JJ, Fairbank AC. Core decompression versus nonoperative management for "
                    "osteonecrosis of the hip. Clin Orthop Relat Res. 1996:169-178. "
                    "doi:10.1097/00003086-199603000-00020 PMID 8595753",
        "display": "Core decompression versus nonoperative management for osteonecrosis of the hip",
        "url": "https://doi.org/10.1097/00003086-199603000-00020"}]
    action = plan["action"][0]
    assert action["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/cqf-strengthOfRecommendation", "valueCodeableConcept": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/recommendation-strength", "code": "weak",
                        "display": "Weak"}]}},
        {"url": "http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence", "valueCodeableConcept": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/evidence-quality", "code": "low",
                        "display": "Low quality"}]}},
        {"url": "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-directionOfRecommendation",
         "valueCodeableConcept": {"coding": [{
             "system": "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-recommendation-direction-cs", "code": "for",
             "display": "For"}]}}]
    # R4's schema allows three languages only: the element has no value, says why and names ours.
    assert action["condition"] == [{"kind": "applicability", "expression": {
        "description": "site is femoral-head and collapse is pre-collapse",
        "_language": {"extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unsupported"},
            {"url": "https://avn-kb.org/fhir/StructureDefinition/condition-language",
             "valueCode": "text/x-avn-kb-condition+json"}]},
        "expression": '{"site":"femoral-head","collapse":"pre-collapse"}'}}]
    assert action["definitionCanonical"] == "https://avn-kb.org/fhir/ActivityDefinition/OF-001-activity"


def test_activity_definition_carries_the_action() -> None:
    activity = resource(exported(MINI, "R4"), "ActivityDefinition", "RT-001-activity")
    assert {k: activity[k] for k in ("title", "description", "kind", "intent", "doNotPerform", "status")} == {
        "title": "do Resistive training", "kind": "ServiceRequest", "intent": "proposal", "doNotPerform": False,
        "description": "do resistive-training (intensity_pct_1rm 40-60; repetitions 10-15; sets 1-3; "
                       "exercises leg-press)", "status": "active"}
    assert activity["code"]["coding"][0]["code"] == "resistive-training"


def test_r5_links_the_citation_through_its_document() -> None:
    plan = resource(exported(MINI, "R5"), "PlanDefinition", "OF-001")
    artifact = plan["relatedArtifact"][0]
    assert "url" not in artifact
    assert artifact["document"] == {"url": "https://doi.org/10.1097/00003086-199603000-00020"}
    assert plan["action"][0]["condition"][0]["expression"] == {
        "description": "site is femoral-head and collapse is pre-collapse", "language": "text/x-avn-kb-condition+json",
        "expression": '{"site":"femoral-head","collapse":"pre-collapse"}'}


# (version, recommendation, its relatedArtifacts other than citations)
SUCCESSION = [
    ("R4", "OF-001", [("predecessor", "OF-004")]),
    ("R4", "OF-004", [("successor", "OF-001"), ("successor", "OF-002")]),
    ("R5", "OF-001", [("replaces", "OF-004")]),
    ("R5", "OF-004", [("replaced-with", "OF-001"), ("replaced-with", "OF-002")]),
]


@pytest.mark.parametrize("version, rec_id, expected", SUCCESSION)
def test_supersedes_both_ways_on_the_shipped_knowledge_base(version: str, rec_id: str,
                                                            expected: list[tuple[str, str]]) -> None:
    plan = resource(exported(SHIPPED, version), "PlanDefinition", rec_id)
    found = [(a["type"], a["label"]) for a in plan["relatedArtifact"] if a["type"] != "citation"]
    assert found == expected
    assert all(a["resource"] == f"https://avn-kb.org/fhir/PlanDefinition/{a['label']}"
               for a in plan["relatedArtifact"] if a["type"] != "citation")


def test_shipped_dates_and_an_avoid_action() -> None:
    bundle = exported(SHIPPED, "R4")
    plan = resource(bundle, "PlanDefinition", "PR-001")
    assert (plan["approvalDate"], plan["lastReviewDate"], plan["effectivePeriod"]) == (
        "2026-12-01", "2026-12-01", {"start": "2026-12-01"})
    assert plan["action"][0]["extension"][2]["valueCodeableConcept"]["coding"][0]["code"] == "against"
    assert resource(bundle, "ActivityDefinition", "PR-001-activity")["doNotPerform"] is True
    assert resource(bundle, "PlanDefinition", "OF-004")["status"] == "retired"


@pytest.mark.parametrize("status, expected", [
    ("draft", "draft"), ("submitted", "draft"), ("under-review", "draft"), ("approved", "active"),
    ("retired", "retired")])
def test_lifecycle_status_mapping(tmp_path: Path, status: str, expected: str) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    path = kb / "recommendations" / "offloading.yaml"
    reason = "\n    retired_reason: Replaced." if status == "retired" else ""
    path.write_text(path.read_text().replace("status: approved", f"status: {status}{reason}", 1))
    bundle = exported(kb, "R5")
    assert resource(bundle, "PlanDefinition", "OF-001")["status"] == expected
    assert resource(bundle, "ActivityDefinition", "OF-001-activity")["status"] == expected


def test_knowledge_text_is_escaped_in_the_narrative(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    path = kb / "recommendations" / "offloading.yaml"
    path.write_text(path.read_text().replace("title: Protected weight bearing before collapse",
                                             'title: "Weight <script>alert(1)</script> & \\"more\\""'))
    bundle = exported(kb, "R5")
    BundleR5.model_validate(bundle)
    div = resource(bundle, "PlanDefinition", "OF-001")["text"]["div"]
    assert "<script>" not in div
    assert "Weight &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;" in div


def test_output_file_and_base_url(tmp_path: Path) -> None:
    target = tmp_path / "bundle.json"
    result = run_export("--kb", str(MINI), "--base-url", "https://example.org/fhir/", "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    bundle = json.loads(target.read_text())
    assert bundle["entry"][0]["fullUrl"] == "https://example.org/fhir/PlanDefinition/OF-001"


@pytest.mark.parametrize("args, message", [
    (["--kb", "nowhere"], "avn-kb export fhir: 'nowhere' does not exist"),
    (["--kb", str(MINI), "--base-url", "avn-kb.org"], "avn-kb export fhir: --base-url 'avn-kb.org' is not an absolute"),
    (["--kb", str(MINI), "--version", "R6"], "Usage: "),
])
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = run_export(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and "Traceback" not in result.output


def test_docs_cite_every_url_the_export_uses() -> None:
    docs = (ROOT / "docs" / "interop.md").read_text(encoding="utf-8")
    urls = [parts.STRENGTH_EXTENSION, parts.QUALITY_EXTENSION, parts.DIRECTION_EXTENSION, parts.STRENGTH_SYSTEM,
            parts.QUALITY_SYSTEM, parts.DIRECTION_SYSTEM, parts.PLAN_TYPE_SYSTEM, parts.USAGE_CONTEXT_SYSTEM,
            parts.CONDITION_LANGUAGE, parts.DATA_ABSENT_EXTENSION, parts.CONDITION_LANGUAGE_EXTENSION,
            *(url for urls in parts.PROFILES.values() for url in urls)]
    assert [url for url in urls if url not in docs] == []


NOTICE = ("Demonstration content, written by software agents from published sources. No clinician or "
          "clinical board has reviewed it. Not for use in the care of patients.")


PUBLISHER = "the avn-kb developers (software agents, not a clinical body)"


@pytest.mark.parametrize("version", fhir.VERSIONS)
def test_every_resource_carries_the_manifests_notice_and_publisher(version: str) -> None:
    """A PlanDefinition or ActivityDefinition taken out of the Bundle keeps the notice: it is
    experimental, says the notice as its usage and has the Bundle's notice tag; it names the
    manifest's publisher and, in R4, the CPG and CRMI profiles it follows."""
    bundle = exported(SHIPPED, version)
    MODELS[version].model_validate(bundle)
    tag = {"system": "https://avn-kb.org/fhir/notice", "code": "notice", "display": NOTICE}
    assert bundle["meta"] == {"tag": [tag]}
    for entry in bundle["entry"]:
        found = entry["resource"]
        meta = {"tag": [tag], **({"profile": parts.PROFILES[found["resourceType"]]} if version == "R4" else {})}
        assert (found["experimental"], found["usage"], found["meta"], found["publisher"]) == (
            True, NOTICE, meta, PUBLISHER), found["id"]
        assert found["text"]["status"] == "generated", found["id"]


def test_without_a_notice_no_resource_is_marked_experimental() -> None:
    """experimental is always there (CRMI Shareable requires it) and false without a notice; a
    manifest without a publisher gives none."""
    bundle = exported(MINI, "R4")
    assert "meta" not in bundle
    for entry in bundle["entry"]:
        found = entry["resource"]
        assert found["experimental"] is False and found["meta"] == {"profile": parts.PROFILES[found["resourceType"]]}
        assert not {"usage", "publisher"} & set(found), found["id"]


def test_the_activity_narrative_is_its_title_and_description() -> None:
    activity = resource(exported(MINI, "R5"), "ActivityDefinition", "RT-001-activity")
    assert activity["text"] == {"status": "generated", "div": (
        '<div xmlns="http://www.w3.org/1999/xhtml"><p><b>do Resistive training (RT-001, approved, version 1.0.0)'
        '</b></p><p>do resistive-training (intensity_pct_1rm 40-60; repetitions 10-15; sets 1-3; exercises '
        'leg-press)</p></div>')}


def test_a_notice_added_to_a_manifest_marks_each_resource(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    manifest = kb / "kb.yaml"
    manifest.write_text(manifest.read_text() + "notice: >-\n  Example only.\n  Not for care.\n")
    bundle = exported(kb, "R5")
    BundleR5.model_validate(bundle)
    plan = resource(bundle, "PlanDefinition", "OF-001")
    activity = resource(bundle, "ActivityDefinition", "OF-001-activity")
    assert (plan["experimental"], plan["usage"]) == (True, "Example only. Not for care.")
    assert (activity["experimental"], activity["usage"]) == (True, "Example only. Not for care.")
    assert activity["meta"]["tag"] == [{"system": "https://avn-kb.org/fhir/notice", "code": "notice",
                                        "display": "Example only. Not for care."}]
