"""The clinician page in a real headless Chromium (tests/browser.py), served by `avn-kb serve` on
127.0.0.1 (`GET /`: the query is the case). The browser fills the form of a golden case
through the DOM and submits it with a mouse click; the answer must list what the resolver says
applies (and what the golden case expects), with no console error; a link asking for a missing
fact brings the form back filled in; a planted <script> stays text; at 400 px nothing scrolls
sideways. Screenshots at 1280 and 400 px go to test-artifacts/page-*.png."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from avn_kb.model.knowledge import GoldenCase
from avn_kb.resolve.resolver import resolve
from avn_kb.validate.readiness import load_for_answers
from tests.browser import ARTIFACTS, DevTools, assert_png, console_problems, needs_chromium
from tests.conftest import SHIPPED
from tests.serving import running
from tests.test_page import planted

pytestmark = needs_chromium
GOLDEN = "LL-001"  # pre-collapse femoral head, every fact recorded: the standard programme applies


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`avn-kb serve` on the shipped knowledge and on a copy with a planted script: name -> address."""
    work = tmp_path_factory.mktemp("page")
    planted(work)
    with running(SHIPPED, work / "shipped.log") as shipped, running(work / "knowledge", work / "planted.log") as copy:
        yield {"shipped": f"http://127.0.0.1:{shipped.port}", "planted": f"http://127.0.0.1:{copy.port}"}


def _golden() -> GoldenCase:
    kb = load_for_answers(SHIPPED, "knowledge").kb
    return next(case for case in kb.cases if case.id == GOLDEN)


FILL = """(facts => {
  for (const [name, value] of Object.entries(facts)) {
    const fields = document.querySelectorAll(`[name="${name}"]`);
    if (!fields.length) throw new Error(`no field for ${name}`);
    for (const field of fields) {
      if (field.type === "checkbox") {
        field.checked = value.length === 0 ? field.value === "_none" : value.includes(field.value);
      } else if (field.type === "radio") {
        field.checked = field.value === String(value);
      } else {
        field.value = String(value);
      }
    }
  }
})"""


def _applying(browser: DevTools) -> list[str]:
    return list(browser.evaluate("Array.from(document.querySelectorAll('#group-applies article.rec'))"
                                 ".map(a => a.id.replace('rec-', ''))"))


def _submit(browser: DevTools) -> None:
    browser.events.clear()
    browser.click("form.case button[type=submit]")
    browser.wait_for("Page.loadEventFired")


def test_the_form_filled_in_for_a_golden_case_answers_as_the_resolver(browser: DevTools, site: dict[str, str]) -> None:
    case = _golden()
    browser.open(f"{site['shipped']}/")
    assert browser.evaluate("document.querySelector('#answer-heading')") is None
    browser.evaluate(f"{FILL}({json.dumps(dict(case.facts))})")
    _submit(browser)
    shown = _applying(browser)
    ready = load_for_answers(SHIPPED, "knowledge")
    applies = [o.rec.id for o in resolve(ready.kb, case.facts, as_of=dt.date.today()).by_outcome("applies")]
    assert sorted(shown) == sorted(applies)
    assert set(case.expect["apply"]) <= set(shown) and not set(case.expect["not_apply"]) & set(shown)
    assert console_problems(browser.events) == []
    requested = [e["params"]["request"]["url"] for e in browser.events if e["method"] == "Network.requestWillBeSent"]
    assert len(requested) == 1 and urlsplit(requested[0]).path == "/"  # nothing else fetched
    assert browser.evaluate("document.scripts.length") == 0
    # The address holds the case: opened again, it gives the same answer.
    address = browser.evaluate("location.href")
    browser.open(address)
    assert _applying(browser) == shown
    browser.screenshot(ARTIFACTS / "page-1280.png")
    assert_png(ARTIFACTS / "page-1280.png")


def test_a_missing_fact_link_brings_the_form_back_filled_in(browser: DevTools, site: dict[str, str]) -> None:
    browser.open(f"{site['shipped']}/?site=femoral-head&arco_stage=II&phase=chronic&estimated_one_rep_max_kg=60")
    browser.evaluate("document.getElementById('group-undecided').scrollIntoView()")
    browser.screenshot(ARTIFACTS / "page-1280-undecided.png")
    assert_png(ARTIFACTS / "page-1280-undecided.png")
    link = "#rec-PR-007 a.ask[href$='#field-red_flags']"
    assert browser.evaluate(f"document.querySelectorAll(\"#group-undecided {link}\").length") == 1
    browser.events.clear()
    browser.click(link)
    # The link is this answer's own address with the field as fragment: the form, filled in with
    # the case, scrolls to that field without a reload.
    browser.wait_for("Page.navigatedWithinDocument")
    assert browser.evaluate("document.querySelector(':target').id") == "field-red_flags"
    top = browser.evaluate("document.querySelector(':target').getBoundingClientRect().top")
    assert 0 <= top < browser.evaluate("innerHeight")
    assert browser.evaluate("document.querySelector('#in-site').value") == "femoral-head"
    assert browser.evaluate("document.querySelector('#in-estimated_one_rep_max_kg').value") == "60"
    browser.evaluate("document.querySelector('input[name=red_flags][value=_none]').checked = true")
    _submit(browser)
    outcome = browser.evaluate("document.querySelector('#rec-PR-007').className")
    assert outcome == "rec outcome-not-applicable"
    assert console_problems(browser.events) == []


def test_a_bad_number_is_shown_beside_its_field(browser: DevTools, site: dict[str, str]) -> None:
    browser.open(f"{site['shipped']}/")
    browser.evaluate(f"{FILL}({json.dumps({'site': 'knee', 'platelet_count': 'lots'})})")
    _submit(browser)
    problem = browser.evaluate("document.querySelector('#field-platelet_count .problems').textContent")
    assert problem == "platelet_count: 'lots' is not a number (10^9/L)"
    assert browser.evaluate("document.querySelector('#in-platelet_count').value") == "lots"
    assert browser.evaluate("document.querySelector('#answer-heading')") is None
    assert console_problems(browser.events) == []


def test_a_planted_script_stays_text(browser: DevTools, site: dict[str, str]) -> None:
    browser.open(f"{site['planted']}/?site=femoral-head&arco_stage=II&phase=chronic")
    assert browser.evaluate("typeof window.planted") == "undefined"
    text = browser.evaluate("document.querySelector('#rec-OF-001 .wording.clinician').textContent")
    assert text.startswith("<script>window.planted = 1</script> In lower-limb osteonecrosis")
    label = browser.evaluate("document.querySelector('label[for=in-phase]').textContent")
    assert label == "Clinical <b onclick=alert(1)>phase</b>"
    assert console_problems(browser.events) == []


def test_at_400_px_nothing_scrolls_sideways(browser: DevTools, site: dict[str, str]) -> None:
    browser.call("Emulation.setDeviceMetricsOverride", width=400, height=860, deviceScaleFactor=1, mobile=True)
    try:
        query = ("site=femoral-head&arco_stage=II&phase=chronic&estimated_one_rep_max_kg=60&causes=_none"
                 "&hematologic_malignancy=false&comorbidities=_none&red_flags=_none&other_affected_sites=_none")
        browser.open(f"{site['shipped']}/?{query}")
        assert browser.evaluate("document.scrollingElement.scrollWidth") <= 400
        assert browser.evaluate("innerWidth") == 400
        # The answer comes before the form on a narrow screen.
        assert browser.evaluate("document.querySelector('section.answer').getBoundingClientRect().top < "
                                "document.querySelector('form.case').getBoundingClientRect().top")
        browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert browser.evaluate("document.scrollingElement.scrollWidth") <= 400
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot(ARTIFACTS / "page-400.png")
        browser.evaluate("document.querySelector('#rec-RT-001 dl.action').scrollIntoView()")
        browser.screenshot(ARTIFACTS / "page-400-dose.png")
        browser.evaluate("document.querySelector('form.case').scrollIntoView()")
        browser.screenshot(ARTIFACTS / "page-400-form.png")
        assert console_problems(browser.events) == []
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")
    assert_png(ARTIFACTS / "page-400.png")
    assert_png(ARTIFACTS / "page-400-form.png")
    assert_png(ARTIFACTS / "page-400-dose.png")
