"""The clinician page as library code (avn_kb/output/page): the GET query read into a case by the
rules of `--set` (every fact type; blank, "not known" and "none of these"; each problem on its
field), and the page rendered from the answer's data (the notice first, escaping, the form built
from the vocabulary with derived facts shown and not asked, undecided advice asking for its missing
facts with links that fill the form, doses with loads in kg, numbered citations, the flags, and a
policy that allows no script)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from avn_kb.load.cases import CaseError, case_from_options
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.answers.data import as_data
from avn_kb.output.page import CONTENT_SECURITY_POLICY, PageOptions, form_facts, page_options, render_page
from avn_kb.output.page.query import NOTHING_GIVEN
from avn_kb.resolve.resolver import resolve
from tests.conftest import SHIPPED

DAY = dt.date(2026, 12, 2)
SITES = "femoral-head, knee, talus, humeral-head, elbow, lunate"
CAUSES = "corticosteroid, alcohol, trauma, sickle-cell-disease, hematologic-malignancy-treatment, other-systemic, other"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(SHIPPED, "knowledge").kb


FACTS = [
    # (query, facts)
    ([("site", "femoral-head")], {"site": "femoral-head"}),
    ([("site", ""), ("phase", "chronic")], {"phase": "chronic"}),  # "not known": missing
    ([("causes", "alcohol"), ("causes", "trauma")], {"causes": ["alcohol", "trauma"]}),
    ([("causes", "_none")], {"causes": []}),  # "none of these": the empty set
    ([("phase", "chronic")], {"phase": "chronic"}),  # no box ticked: causes missing, never empty
    ([("hematologic_malignancy", "true")], {"hematologic_malignancy": True}),
    ([("hematologic_malignancy", "false")], {"hematologic_malignancy": False}),
    ([("hematologic_malignancy", ""), ("phase", "acute")], {"phase": "acute"}),  # "not known"
    ([("platelet_count", "19.9")], {"platelet_count": 19.9}),
    ([("platelet_count", " 50 ")], {"platelet_count": 50}),
    ([("estimated_one_rep_max_kg", ""), ("site", "knee")], {"site": "knee"}),
    ([("site", "femoral-head"), ("arco_stage", "II"), ("as-of", "2026-01-01"), ("include-status", "draft")],
     {"site": "femoral-head", "arco_stage": "II"}),  # the page's own options are not facts
]


@pytest.mark.parametrize(("query", "facts"), FACTS)
def test_form_facts_types_every_kind_of_fact(kb: KnowledgeBase, query: list[tuple[str, str]],
                                            facts: dict[str, Any]) -> None:
    assert form_facts(kb, query) == (facts, [])


PROBLEMS = [
    # (query, (where, message, fact) of each problem)
    ([("platelet_count", "abc")], [("--set", "platelet_count: 'abc' is not a number (10^9/L)", "platelet_count")]),
    ([("platelet_count", "-5")], [("--set", "platelet_count: -5 is outside 0-2000 10^9/L", "platelet_count")]),
    ([("pain_score", "2.5")], [("--set", "pain_score: 2.5 is not a whole number", "pain_score")]),
    ([("site", "moon")], [("--set", f"site: 'moon' is not one of: {SITES}", "site")]),
    ([("causes", "moon")], [("--set", f"causes: 'moon' not among: {CAUSES}", "causes")]),
    ([("hematologic_malignancy", "maybe")],
     [("--set", "hematologic_malignancy: 'maybe' is not true or false", "hematologic_malignancy")]),
    ([("causes", "_none"), ("causes", "alcohol")],
     [("causes", 'Causes and risk factors found: "none" is ticked together with alcohol: untick "none" or the '
                 "others", "causes")]),
    ([("causes", "_none"), ("causes", "trauma"), ("pain_score", "11")],  # every problem at once
     [("causes", 'Causes and risk factors found: "none" is ticked together with trauma: untick "none" or the '
                 "others", "causes"), ("--set", "pain_score: 11 is outside 0-10 NRS 0-10", "pain_score")]),
    ([("site", "knee"), ("site", "talus")], [("--set", "site is given twice (knee, talus): give it once", "site")]),
    ([("site", "knee"), ("arco_stage", "II")],
     [("--set", "arco_stage is given (II) but is defined only where site is femoral-head, and this case has site "
                "knee: remove arco_stage or give the fact defined for such cases", "arco_stage")]),
    ([("site", "knee"), ("knee_osteonecrosis_type", "spontaneous"), ("causes", "alcohol")],
     [("--set", "the facts give systemic_cause more than one value (absent, present): correct the facts that "
                "disagree", "causes")]),
    ([("site", ""), ("hematologic_malignancy", ""), ("platelet_count", "")], [("the form", NOTHING_GIVEN, None)]),
]


@pytest.mark.parametrize(("query", "expected"), PROBLEMS)
def test_form_facts_names_the_field_of_each_problem(kb: KnowledgeBase, query: list[tuple[str, str]],
                                                   expected: list[tuple[str, str, str | None]]) -> None:
    assert form_facts(kb, query) == (None, [CaseError(*problem) for problem in expected])


def test_an_unknown_fact_is_a_problem_naming_it(kb: KnowledgeBase) -> None:
    facts, problems = form_facts(kb, [("colour", "blue")])
    assert facts is None
    assert [(p.fact, p.message.split(";")[0]) for p in problems] == [("colour", "unknown fact 'colour'")]


def test_an_empty_query_asks_nothing(kb: KnowledgeBase) -> None:
    assert form_facts(kb, []) == (None, [])
    assert form_facts(kb, [("as-of", "2026-01-01")]) == (None, [])


@pytest.mark.parametrize(("query", "settings"), [
    ([("site", "knee"), ("ficat_stage", "II"), ("causes", "_none"), ("red_flags", "catching"),
      ("red_flags", "new-limp"), ("platelet_count", "25"), ("hematologic_malignancy", "true")],
     ("site=knee", "ficat_stage=II", "causes=", "red_flags=catching,new-limp", "platelet_count=25",
      "hematologic_malignancy=true")),
    ([("site", "femoral-head"), ("arco_stage", "IIIA"), ("other_joint_pain", "false"), ("pain_score", "4")],
     ("site=femoral-head", "arco_stage=IIIA", "other_joint_pain=false", "pain_score=4")),
])
def test_form_facts_is_what_set_gives(kb: KnowledgeBase, query: list[tuple[str, str]],
                                      settings: tuple[str, ...]) -> None:
    assert kb.vocabulary is not None
    expected, errors = case_from_options(kb.vocabulary, settings)
    assert errors == [] and form_facts(kb, query) == (expected, [])


def test_page_options() -> None:
    options, problems = page_options([("as-of", "2027-03-04"), ("include-status", "draft"), ("site", "knee")])
    assert (options.as_of, options.statuses, problems) == (dt.date(2027, 3, 4), ("approved", "draft"), [])
    assert options.query == (("as-of", "2027-03-04"), ("include-status", "draft"), ("site", "knee"))
    options, problems = page_options([("as-of", "2026-13-01"), ("include-status", "bogus")])
    assert (options.as_of, options.statuses) == (None, ("approved",))
    assert problems == [
        CaseError("as-of", "'2026-13-01' is not a date: write it as YYYY-MM-DD", "as-of"),
        CaseError("include-status", "'bogus' is not a status; statuses: draft, submitted, under-review, approved, "
                                    "retired", "include-status")]


def page_for(kb: KnowledgeBase, query: list[tuple[str, str]]) -> str:
    """What the service does for GET /?query: read, resolve when there is a case, render."""
    facts, problems = form_facts(kb, query)
    options, more = page_options(query)
    problems += more
    data = None
    if facts is not None and not problems:
        data = as_data(kb, resolve(kb, facts, as_of=options.as_of or DAY, statuses=options.statuses), show_all=True)
    return render_page(kb, facts, data, problems, options)


def article(page: str, rec_id: str) -> str:
    match = re.search(rf'<article class="rec outcome-[a-z-]+" id="rec-{rec_id}">.*?</article>', page, re.DOTALL)
    assert match, rec_id
    return match.group(0)


CASE = [("site", "femoral-head"), ("arco_stage", "II"), ("phase", "chronic"), ("estimated_one_rep_max_kg", "60")]


def test_the_notice_comes_first(kb: KnowledgeBase) -> None:
    assert kb.manifest is not None and kb.manifest.notice
    for query in ([], CASE, [("platelet_count", "abc")]):
        page = page_for(kb, query)
        body = page[page.index("<body>"):]
        first = re.search(r'<p class="notice" role="note">(.*?)</p>', body)
        assert first and first.group(1) == " ".join(kb.manifest.notice.split())
        assert body.index('class="notice"') < body.index("<h1>") < body.index("<form")


def test_undecided_advice_asks_for_its_missing_facts_with_links_that_fill_the_form(kb: KnowledgeBase) -> None:
    page = page_for(kb, CASE)
    undecided = page[page.index('id="group-undecided"'):page.index('id="group-not-applicable"')]
    card = article(undecided, "PR-007")
    href = "?" + urlencode(CASE)
    assert (f'Would be decided by: <a class="ask" href="{href.replace("&", "&amp;")}#field-red_flags">'
            "Red flags for a subchondral fracture or rapid progression</a>.") in card
    # The link is the same case again, with the missing fact's field in view.
    target = re.search(r'href="\?([^"#]*)#field-red_flags"', card)
    assert target and parse_qsl(target.group(1).replace("&amp;", "&"), keep_blank_values=True) == CASE
    assert 'id="field-red_flags"' in page
    overall = re.search(r'<div class="missing-overall">.*?</div>', undecided, re.DOTALL)
    assert overall and (f'<li><a class="ask" href="{href.replace("&", "&amp;")}#field-other_joint_pain">Pain in '
                        'another joint than the affected one</a> <span class="deciding">would decide 1</span></li>'
                        ) in overall.group(0)
    card = article(undecided, "RT-001")
    assert "Would give way to" in card and '#field-platelet_count">Latest platelet count</a>' in card


def test_the_form_is_filled_in_again_and_shows_problems_beside_their_field(kb: KnowledgeBase) -> None:
    page = page_for(kb, [("site", "talus"), ("platelet_count", "abc"), ("causes", "alcohol")])
    field = re.search(r'<div class="field field-number has-problem" id="field-platelet_count">.*?</div>', page,
                      re.DOTALL)
    assert field, "the field is marked"
    assert 'value="abc"' in field.group(0)
    assert "platelet_count: &#x27;abc&#x27; is not a number (10^9/L)" in field.group(0)
    summary = re.search(r'<div class="form-problems" id="form-problems" role="alert">.*?</div>', page, re.DOTALL)
    assert summary and ('<li><a href="#field-platelet_count">platelet_count: &#x27;abc&#x27; is not a number '
                        "(10^9/L)</a></li>") in summary.group(0)
    assert '<option value="talus" selected>' in page
    assert '<input type="checkbox" name="causes" value="alcohol" checked>' in page
    assert 'id="answer-heading"' not in page  # no answer from a case that cannot be read


def test_derived_facts_are_shown_with_their_value_and_not_asked(kb: KnowledgeBase) -> None:
    assert kb.vocabulary is not None
    page = page_for(kb, CASE)
    for name in kb.vocabulary.derived:
        assert f'name="{name}"' not in page
        assert f'id="field-{name}"' in page
    collapse = re.search(r'id="field-collapse">.*?</div>', page, re.DOTALL)
    assert collapse
    assert '<strong class="derived-value">no collapse of the articular surface yet</strong>' in collapse.group(0)
    # A fact defined only in some cases says which.
    arco = re.search(r'id="field-arco_stage">.*?</div>', page, re.DOTALL)
    assert arco and "Only when site is femoral-head." in arco.group(0)


def test_every_fact_of_the_vocabulary_is_asked_in_its_way(kb: KnowledgeBase) -> None:
    page = page_for(kb, [])
    assert '<select name="site" id="in-site"><option value="" selected>not known</option>' in page
    assert '<input type="checkbox" name="causes" value="_none">' in page
    assert '<input type="radio" name="hematologic_malignancy" value="" checked> not known' in page
    assert '<span class="unit">10^9/L, 0 to 2000</span>' in page
    assert '<span class="unit">NRS 0-10, 0 to 10, whole number</span>' in page
    assert 'id="answer-heading"' not in page


def test_doses_show_the_load_in_kg_and_citations_resolve(kb: KnowledgeBase) -> None:
    full = [("site", "femoral-head"), ("other_affected_sites", "_none"), ("arco_stage", "II"), ("phase", "chronic"),
            ("causes", "_none"), ("hematologic_malignancy", "false"), ("comorbidities", "_none"),
            ("red_flags", "_none"), ("other_joint_pain", "false"), ("estimated_one_rep_max_kg", "60")]
    page = page_for(kb, full)
    card = article(page, "RT-001")
    assert card.startswith('<article class="rec outcome-applies"')
    assert ("<dt>Dose: <code>intensity_pct_1rm</code></dt><dd>40–60 % of the estimated one-repetition maximum "
            '<strong class="load">= 24–36 kg</strong></dd>') in card
    cited = set(re.findall(r'href="#ref-(\d+)"', page))
    listed = re.findall(r'<li id="ref-(\d+)" value="\d+">', page)
    assert cited and cited == set(listed) and listed == [str(n) for n in range(1, len(listed) + 1)]
    assert re.search(r'<li id="ref-1" value="1">[^<]+<a href="https://doi\.org/10\.[^"]+" rel="noreferrer">doi:', page)


def test_not_applicable_advice_is_folded_away(kb: KnowledgeBase) -> None:
    page = page_for(kb, CASE)
    assert '<details class="group group-not-applicable" id="group-not-applicable"><summary>' in page
    assert '<section class="group group-applies" id="group-applies">' in page


def test_flags_conflicts_two_doses_and_overdue_reviews(kb: KnowledgeBase) -> None:
    facts, _ = form_facts(kb, CASE)
    assert facts is not None
    data = as_data(kb, resolve(kb, facts, as_of=DAY), show_all=True)
    item = next(i for i in data["recommendations"] if i["id"] == "OF-001")
    # The data of an answer with a conflict, two doses and an overdue review (the shipped knowledge
    # has none of these today): the page shows what the data says.
    item.update(conflicts_with=["PR-003"], doses_differ_with=[{"id": "RT-001", "parameters": ["sets"]}],
                review_overdue_since="2026-06-01")
    options, _ = page_options(CASE)
    card = article(render_page(kb, facts, data, [], options), "OF-001")
    assert ('<p class="flag flag-warn">Conflict, unresolved in the knowledge base, with <a href="#rec-PR-003">'
            "PR-003</a>.</p>") in card
    assert ('<p class="flag flag-warn">Two doses: <a href="#rec-RT-001">RT-001</a> also applies with a different '
            "sets; ask the editors which one holds.</p>") in card
    assert "Review overdue since 2026-06-01: this advice may be out of date." in card


def test_both_wordings_are_shown(kb: KnowledgeBase) -> None:
    rec = kb.recommendation("OF-001")
    assert rec is not None
    card = article(page_for(kb, CASE), "OF-001")
    assert f'<p class="wording clinician">{rec.statement} ' in card.replace("&#x27;", "'")
    assert f"In plain language:</span> {rec.plain_language}</p>" in card.replace("&#x27;", "'")


def test_the_wordings_are_the_same_whichever_audience_the_data_was_made_for(kb: KnowledgeBase) -> None:
    facts, _ = form_facts(kb, CASE)
    assert facts is not None
    options, _ = page_options(CASE)
    resolution = resolve(kb, facts, as_of=DAY)
    pages = [render_page(kb, facts, as_data(kb, resolution, audience, show_all=True), [], options)
             for audience in ("clinician", "patient")]
    assert article(pages[0], "OF-001") == article(pages[1], "OF-001")


def test_statuses_asked_for_are_considered(kb: KnowledgeBase) -> None:
    drafts = sorted(rec.id for rec in kb.recommendations if rec.status == "draft")
    assert drafts
    page = page_for(kb, CASE)
    assert all(article(page, rec_id).startswith('<article class="rec outcome-excluded"') for rec_id in drafts)
    page = page_for(kb, [*CASE, ("include-status", "draft")])
    cards = [article(page, rec_id) for rec_id in drafts]
    assert not any(card.startswith('<article class="rec outcome-excluded"') for card in cards)
    assert all('<span class="badge status">draft</span>' in card for card in cards)
    assert '<input type="checkbox" name="include-status" value="draft" checked> draft' in page
    assert "As of 2026-12-02, approved, draft recommendations:" in page


def planted(tmp_path: Path) -> KnowledgeBase:
    """The shipped knowledge with a script in a statement, a plain-language text and a fact label."""
    import shutil

    root = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, root)
    offloading = root / "recommendations" / "offloading.yaml"
    text = offloading.read_text(encoding="utf-8")
    first = "    statement: >-\n      In lower-limb osteonecrosis"
    plain = "    plain_language: >-\n      Using a stick"
    assert first in text and plain in text
    offloading.write_text(text.replace(first, first.replace("In lower", "<script>window.planted = 1</script> In lower"))
                          .replace(plain, plain.replace("Using", "<img src=x> Using")), encoding="utf-8")
    vocabulary = root / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text(encoding="utf-8").replace(
        "label: Clinical phase", 'label: "Clinical <b onclick=alert(1)>phase</b>"'), encoding="utf-8")
    loaded = load_knowledge(root, "knowledge")
    assert not [f for f in loaded.findings if f.severity == "error"]
    return loaded.kb


def test_knowledge_text_is_escaped(tmp_path: Path) -> None:
    kb = planted(tmp_path)
    page = page_for(kb, CASE)
    assert "<script" not in page and "<img" not in page and "<b " not in page
    assert "&lt;script&gt;window.planted = 1&lt;/script&gt; In lower-limb osteonecrosis" in article(page, "OF-001")
    assert "&lt;img src=x&gt; Using a stick" in article(page, "OF-001")
    assert "Clinical &lt;b onclick=alert(1)&gt;phase&lt;/b&gt;" in page


def test_the_policy_allows_the_style_sheet_by_hash_and_no_script(kb: KnowledgeBase) -> None:
    page = page_for(kb, CASE)
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert meta and meta.group(1).replace("&#x27;", "'") == CONTENT_SECURITY_POLICY
    style = re.search(r"<style>(.*?)</style>", page, re.DOTALL)
    assert style
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode("utf-8")).digest()).decode("ascii")
    assert f"style-src 'sha256-{digest}';" in CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY and "script-src 'none'" in CONTENT_SECURITY_POLICY
    assert "<script" not in page and " style=" not in page and "unsafe-inline" not in CONTENT_SECURITY_POLICY


def test_an_incomplete_knowledge_base_says_so_without_an_answer(kb: KnowledgeBase) -> None:
    from avn_kb.model.findings import Finding

    problem = Finding("AVN101", "error", "recommendations/x.yaml", 3, 1, "cannot be parsed")
    page = render_page(kb, None, None, [], PageOptions(loading_problems=(problem,)))
    notices = re.findall(r'<p class="notice" role="note">(.*?)</p>', page)
    assert len(notices) == 2 and notices[1].startswith("INCOMPLETE: 1 loading error in recommendations/x.yaml")
