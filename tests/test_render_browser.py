"""The rendered page in a real headless Chromium (tests/browser.py): it loads without console
errors or network requests, every citation lands on a reference, the clinician / patient toggle
switches the wording, it reads without JavaScript, and a planted <script> stays text. Screenshots
are saved under test-artifacts/ (render-*.png) for a person to look at."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from avn_kb.cli.site import render
from avn_kb.load.knowledge import load_knowledge
from avn_kb.output.graph import graph_of
from avn_kb.output.site.layout import layout
from tests.browser import ARTIFACTS, DevTools, assert_png, console_problems, needs_chromium, serve_directory
from tests.conftest import MINI, SHIPPED

pytestmark = needs_chromium


def _render(kb: Path, out: Path) -> None:
    result = CliRunner().invoke(render, ["--kb", str(kb), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shipped knowledge base and a mini copy with a planted script, rendered and served."""
    root = tmp_path_factory.mktemp("site")
    _render(SHIPPED, root / "shipped")
    planted = root / "planted-kb"
    shutil.copytree(MINI, planted)
    offloading = planted / "recommendations" / "offloading.yaml"
    offloading.write_text(offloading.read_text().replace(
        "statement: Protected weight bearing",
        "statement: <script>window.planted = 1</script> Protected weight bearing"))
    _render(planted, root / "planted")
    server, url = serve_directory(root)
    yield url
    server.shutdown()
    server.server_close()


def test_page_loads_without_console_errors_or_network(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/index.html")
    requested = [e["params"]["request"]["url"] for e in browser.events if e["method"] == "Network.requestWillBeSent"]
    assert console_problems(browser.events) == []
    assert requested == [f"{site}/shipped/index.html"]  # no style sheet, font, script or icon fetched
    assert browser.evaluate("document.querySelector('h1').textContent").startswith("Offloading, resistive training")
    kb = load_knowledge(SHIPPED, "knowledge").kb
    assert browser.evaluate("document.querySelectorAll('article.rec').length") == len(kb.recommendations)


def test_every_citation_lands_on_a_reference(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/index.html")
    landings = browser.evaluate("""(() => Array.from(document.querySelectorAll('a[href^="#ref-"]')).map(link => {
        link.click();
        const target = document.querySelector(':target');
        const top = target ? target.getBoundingClientRect().top : null;
        return [link.getAttribute('href'), link.textContent, target && target.id, target && target.tagName,
                target && target.closest('ol.refs') !== null, top !== null && top >= 0 && top < innerHeight];
    }))()""")
    kb = load_knowledge(SHIPPED, "knowledge").kb
    assert len(landings) == sum(len({c.ref for c in rec.citations}) for rec in kb.recommendations)
    for href, text, target_id, tag, in_list, visible in landings:
        assert (target_id, tag, in_list, visible) == (href[1:], "LI", True, True), (href, text)
        assert text == f"[{href.removeprefix('#ref-')}]"
    numbers = browser.evaluate("Array.from(document.querySelectorAll('ol.refs > li')).map(li => li.id)")
    assert numbers == [f"ref-{n}" for n in range(1, len(numbers) + 1)]
    assert console_problems(browser.events) == []


def _visible(browser: DevTools, selector: str) -> bool:
    return bool(browser.evaluate(f"document.querySelector({json.dumps(selector)}).checkVisibility()"))


def test_toggle_switches_wording_from_clinician_to_patient(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/index.html")
    first = "#rec-OF-001"
    assert _visible(browser, f"{first} .wording.clinician") and not _visible(browser, f"{first} .wording.patient")
    text = browser.evaluate(f"document.querySelector('{first}').innerText")
    assert "consider protected weight bearing with a cane or crutches" in text
    assert "Taking weight off" not in text and "In plain language" not in text
    browser.screenshot(ARTIFACTS / "render-clinician.png")
    browser.screenshot(ARTIFACTS / "render-full-page.png", full_page=True)
    assert_png(ARTIFACTS / "render-clinician.png")
    assert_png(ARTIFACTS / "render-full-page.png")

    browser.click("button[data-audience-choice='patient']")
    assert browser.evaluate("document.documentElement.dataset.audience") == "patient"
    pressed = "document.querySelector(\"[data-audience-choice='patient']\").getAttribute('aria-pressed')"
    assert browser.evaluate(pressed) == "true"
    assert not _visible(browser, f"{first} .wording.clinician") and _visible(browser, f"{first} .wording.patient")
    shown = browser.evaluate("Array.from(document.querySelectorAll('.wording.clinician'))"
                             ".filter(e => e.checkVisibility()).length")
    assert shown == 0
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(ARTIFACTS / "render-patient.png")
    assert_png(ARTIFACTS / "render-patient.png")

    browser.click("button[data-audience-choice='clinician']")
    assert _visible(browser, f"{first} .wording.clinician") and not _visible(browser, f"{first} .wording.patient")
    assert console_problems(browser.events) == []


def test_figures_are_drawn(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/shipped/index.html")
    browser.evaluate("document.getElementById('figures').scrollIntoView()")
    browser.screenshot(ARTIFACTS / "render-figures.png")
    assert_png(ARTIFACTS / "render-figures.png")
    boxes = browser.evaluate("Array.from(document.querySelectorAll('svg.graph a.node')).map(a => "
                             "[a.getAttribute('href'), a.getBBox().width > 0, "
                             "!!document.querySelector(a.getAttribute('href'))])")
    # Every box of the layout is drawn and links to its recommendation (the shipped graph grows with
    # the content, so the ids come from the layout rather than a list written down once).
    drawn = layout(graph_of(load_knowledge(SHIPPED, "knowledge").kb))
    assert len(drawn.nodes) > 8
    assert sorted(boxes) == sorted([f"#rec-{node.id}", True, True] for node in drawn.nodes)
    assert browser.evaluate("document.querySelectorAll('table.coverage tbody tr').length") == 6


def test_without_javascript_the_clinician_text_shows(browser: DevTools, site: str) -> None:
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.open(f"{site}/shipped/index.html")
        assert _visible(browser, "#rec-OF-001 .wording.clinician")
        assert _visible(browser, "#rec-OF-001 .wording.patient")  # labelled "In plain language" beneath it
        assert not _visible(browser, "#audience")  # no toggle that could not work
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", value=False)


def test_a_planted_script_stays_text(browser: DevTools, site: str) -> None:
    browser.open(f"{site}/planted/index.html")
    assert browser.evaluate("typeof window.planted") == "undefined"
    assert browser.evaluate("document.querySelector('#rec-OF-001 .wording.clinician').textContent").startswith(
        "<script>window.planted = 1</script> Protected weight bearing")
    assert console_problems(browser.events) == []
