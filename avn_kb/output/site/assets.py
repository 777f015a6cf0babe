"""The page's style sheet and its one small script, inlined into index.html so that the page is a
single static file: no fonts, styles or scripts fetched at view time. The Content-Security-Policy
of the page allows this script by its hash and nothing else."""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d8dde6; --paper: #ffffff; --tint: #f4f6fa;
  --accent: #1f5fa8; --approved: #1e7a46; --draft: #8a5a00; --review: #6a3fa0; --retired: #8a8f99;
  --t1: #1f5fa8; --t2: #b8541b; --t3: #7a3f9d; --t4: #1e7a46; --t5: #a3273f; --t6: #4f6b12; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--tint); line-height: 1.5; }
body { margin: 0; }
header.masthead { background: var(--paper); border-bottom: 1px solid var(--line); }
.wrap { max-width: 60rem; margin: 0 auto; padding: 0 1.25rem; }
header.masthead .wrap { padding-top: 1.5rem; padding-bottom: 1rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .35rem; }
.meta { color: var(--muted); margin: 0; }
.notice { border: 2px solid #b3261e; background: #fdecea; color: #5f1410; padding: 0.5rem 0.75rem; \
margin: 0 0 0.75rem; }
.audience { margin-top: .9rem; display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.audience[hidden] { display: none; }
.audience .label { color: var(--muted); font-size: .9rem; }
.audience button { font: inherit; font-size: .9rem; padding: .3rem .85rem; border: 1px solid var(--accent);
  background: var(--paper); color: var(--accent); border-radius: 999px; cursor: pointer; }
.audience button[aria-pressed="true"] { background: var(--accent); color: #fff; }
nav.toc { font-size: .92rem; margin: 1rem 0 0; }
nav.toc ol { margin: .25rem 0 0; padding-left: 1.25rem; columns: 2; }
main section.topic, main section.figures, main section.references { background: var(--paper);
  border: 1px solid var(--line); border-radius: 8px; margin: 1.25rem 0; padding: .5rem 1.5rem 1rem; }
h2 { font-size: 1.3rem; margin: 1rem 0 .25rem; }
.topic-description { color: var(--muted); margin-top: 0; }
article.rec { border-top: 1px solid var(--line); padding: .9rem 0 .4rem; }
article.rec.retired { opacity: .8; }
h3, h4.rec-title { font-size: 1.08rem; margin: 0 0 .35rem; }
figure + h3, section.figures h3 { margin-top: 1.25rem; }
h3.retired-heading { margin-top: 1.25rem; color: var(--muted); font-size: 1rem; text-transform: uppercase;
  letter-spacing: .04em; }
.rec-id { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em;
  color: var(--muted); margin-right: .35rem; }
.badges { display: flex; flex-wrap: wrap; gap: .35rem; margin: 0 0 .5rem; }
.badge { font-size: .78rem; padding: .08rem .55rem; border-radius: 999px; border: 1px solid var(--line);
  background: var(--tint); white-space: nowrap; }
.badge.status { color: #fff; border-color: transparent; font-weight: 600; }
.status-approved { background: var(--approved); }
.status-draft { background: var(--draft); }
.status-submitted, .status-under-review { background: var(--review); }
.status-retired { background: var(--retired); }
.badge.indirect { background: #fff4d6; border-color: #e7c66a; }
.status-meaning { font-size: .78rem; align-self: center; color: #4a4a4a; }
.wording { margin: .25rem 0 .5rem; }
.plain-label { font-weight: 600; }
.js .wording.patient { display: none; }
.js .plain-label { display: none; }
.js[data-audience="patient"] .wording.patient { display: block; }
.js[data-audience="patient"] .wording.clinician { display: none; }
.sources { font-size: .9rem; margin: .25rem 0 .5rem; }
a.cite { text-decoration: none; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: 8.5rem 1fr; gap: .15rem 1rem; font-size: .9rem;
  margin: .25rem 0 .5rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
a { color: var(--accent); }
:target { scroll-margin-top: 1rem; }
li:target, article:target { background: #fff8d9; }
figure { margin: 1rem 0; }
figcaption { color: var(--muted); font-size: .9rem; margin-bottom: .5rem; }
.scroll { overflow-x: auto; }
table.coverage { border-collapse: collapse; font-size: .88rem; }
table.coverage th, table.coverage td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: center; }
table.coverage th[scope="row"] { text-align: left; font-weight: 600; white-space: nowrap; }
table.coverage thead th { background: var(--tint); }
.chip { display: inline-block; min-width: 1.35rem; padding: 0 .2rem; margin: 1px; border-radius: 4px;
  color: #fff; font-weight: 700; font-size: .8rem; line-height: 1.35rem; }
.chip sub { font-size: .62rem; font-weight: 600; vertical-align: baseline; margin-left: 1px; opacity: .9; }
.chip.possible { background: transparent !important; border: 1.5px dashed currentColor; line-height: 1.2rem; }
.none { color: var(--line); }
.t1 { background: var(--t1); } .chip.possible.t1 { color: var(--t1); }
.t2 { background: var(--t2); } .chip.possible.t2 { color: var(--t2); }
.t3 { background: var(--t3); } .chip.possible.t3 { color: var(--t3); }
.t4 { background: var(--t4); } .chip.possible.t4 { color: var(--t4); }
.t5 { background: var(--t5); } .chip.possible.t5 { color: var(--t5); }
.t6 { background: var(--t6); } .chip.possible.t6 { color: var(--t6); }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; font-size: .88rem; }
svg.graph { max-width: 100%; height: auto; font-family: inherit; }
svg.graph text { font-size: 12px; fill: var(--ink); }
svg.graph text.id { font-weight: 700; font-size: 13px; }
svg.graph rect { fill: var(--paper); stroke-width: 2; }
svg.graph .missing rect { stroke: var(--t5); stroke-dasharray: 4 3; }
svg.graph .edge { fill: none; stroke: var(--ink); stroke-width: 1.5; }
svg.graph .edge.supersedes { stroke: var(--muted); stroke-dasharray: 6 4; }
ol.refs { padding-left: 2.2rem; }
ol.refs li { margin: .35rem 0; }
ol.refs .cited-by { color: var(--muted); font-size: .85rem; }
ol.refs .unknown { color: var(--t5); }
footer { color: var(--muted); font-size: .85rem; padding: 1rem 0 2rem; }
@media print { .audience { display: none; } html { background: #fff; } }
"""

# Without this script the page shows the clinician wording with the plain-language wording under
# it; the script hides one of the two and lets the reader switch.
SCRIPT = """(function () {
  var root = document.documentElement;
  var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-audience-choice]"));
  function choose(audience) {
    root.setAttribute("data-audience", audience);
    buttons.forEach(function (button) {
      var chosen = button.getAttribute("data-audience-choice") === audience;
      button.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () { choose(button.getAttribute("data-audience-choice")); });
  });
  root.classList.add("js");
  choose("clinician");
  document.getElementById("audience").hidden = false;
})();
"""


def source_hash(text: str) -> str:
    """The CSP source expression that allows exactly this inline script or style sheet."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def script_hash() -> str:
    """The CSP source expression that allows exactly SCRIPT."""
    return source_hash(SCRIPT)
