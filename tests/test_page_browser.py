"""The clinician page in a real headless Chromium (tests/browser.py), served on 127.0.0.1 by a small
stdlib server that does what the service does for `GET /`: read the query (form_facts,
page_options), resolve the case, render (render_page). The browser fills the form of a golden case
through the DOM and submits it with a mouse click; the answer must list what the resolver says
applies (and what the golden case expects), with no console error; a link asking for a missing
fact brings the form back filled in; a planted <script> stays text; at 400 px nothing scrolls
sideways. Screenshots at 1280 and 400 px go to test-artifacts/page-*.png."""

from __future__ import annotations

import datetime as dt
import http.server
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from avn_kb.model.knowledge import GoldenCase
from avn_kb.output.answers.data import as_data
from avn_kb.output.page import CONTENT_SECURITY_POLICY, form_facts, page_options, render_page
from avn_kb.resolve.resolver import Index, resolve
from avn_kb.validate.readiness import Readiness, load_for_answers
from tests.browser import ARTIFACTS, DevTools, assert_png, console_problems, needs_chromium, serve
from tests.conftest import SHIPPED
from tests.test_page import planted

pytestmark = needs_chromium
GOLDEN = "LL-001"  # pre-collapse femoral head, every fact recorded: the standard programme applies


def _handler(knowledge: dict[str, tuple[Readiness, Index]]) -> type[http.server.BaseHTTPRequestHandler]:
    """GET /NAME/?query: the page of knowledge base NAME, as the service will serve it."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            where = urlsplit(self.path)
            name = where.path.strip("/")
            if name not in knowledge:
                self.send_error(404)
                return
            ready, index = knowledge[name]
            query = parse_qsl(where.query, keep_blank_values=True)
            facts, problems = form_facts(ready.kb, query)
            options, more = page_options(query, ready.problems)
            problems += more
            data = None
            if facts is not None and not problems:
                resolution = resolve(ready.kb, facts, as_of=options.as_of, statuses=options.statuses, index=index)
                data = as_data(ready.kb, resolution, show_all=True, problems=ready.problems)
            body = render_page(ready.kb, facts, data, problems, options).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page of the shipped knowledge (/shipped/) and of a copy with a planted script (/planted/)."""
    shipped = load_for_answers(SHIPPED, "knowledge")
    copy = planted(tmp_path_factory.mktemp("planted"))
    ready = {"shipped": shipped, "planted": Readiness(copy, ())}
    server, url = serve(_handler({name: (r, Index(r.kb)) for name, r in ready.items()}))
    yield url
    server.shutdown()
    server.server_close()


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


def test_the_form_filled_in_for_a_golden_case_answers_as_the_resolver(browser: DevTools, site: str) -> None:
    case = _golden()
    browser.open(f"{site}/shipped/")
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
    assert len(requested) == 1 and urlsplit(requested[0]).path == "/shipped/"  # nothing else fetched
    assert browser.evaluate("document.scripts.length") == 0
    # The address holds the case: opened again, it gives the same answer.
    address = browser.evaluate("location.href")
    browser.open(address)
    assert _applying(browser) == shown
    browser.screenshot(ARTIFACTS / "page-1280.png")
    assert_png(ARTIFACTS / "page-1280.png")


def test_a_missing_fact_link_brings_the_form_back_filled_in(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/?site=femoral-head&arco_stage=II&phase=chronic&estimated_one_rep_max_kg=60")
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


def test_a_bad_number_is_shown_beside_its_field(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/")
    browser.evaluate(f"{FILL}({json.dumps({'site': 'knee', 'platelet_count': 'lots'})})")
    _submit(browser)
    problem = browser.evaluate("document.querySelector('#field-platelet_count .problems').textContent")
    assert problem == "platelet_count: 'lots' is not a number (10^9/L)"
    assert browser.evaluate("document.querySelector('#in-platelet_count').value") == "lots"
    assert browser.evaluate("document.querySelector('#answer-heading')") is None
    assert console_problems(browser.events) == []


def test_a_planted_script_stays_text(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/planted/?site=femoral-head&arco_stage=II&phase=chronic")
    assert browser.evaluate("typeof window.planted") == "undefined"
    text = browser.evaluate("document.querySelector('#rec-OF-001 .wording.clinician').textContent")
    assert text.startswith("<script>window.planted = 1</script> In lower-limb osteonecrosis")
    label = browser.evaluate("document.querySelector('label[for=in-phase]').textContent")
    assert label == "Clinical <b onclick=alert(1)>phase</b>"
    assert console_problems(browser.events) == []


def test_at_400_px_nothing_scrolls_sideways(browser: DevTools, site: str) -> None:
    browser.call("Emulation.setDeviceMetricsOverride", width=400, height=860, deviceScaleFactor=1, mobile=True)
    try:
        query = ("site=femoral-head&arco_stage=II&phase=chronic&estimated_one_rep_max_kg=60&causes=_none"
                 "&hematologic_malignancy=false&comorbidities=_none&red_flags=_none&other_affected_sites=_none")
        browser.open(f"{site}/shipped/?{query}")
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
