"""The clinician page's style sheet and its Content-Security-Policy. The page has no script at all
(it is a plain GET form), and the policy allows none; the one style sheet is allowed by its hash,
so no style attribute or other style can be injected either. The layout reflows to one column on
narrow screens (a phone held upright, 400 px) without scrolling sideways."""

from __future__ import annotations

from avn_kb.output.site.assets import source_hash

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d8dde6; --paper: #fff; --tint: #f4f6fa; --accent: #1f5fa8;
  --ok: #1e7a46; --undecided: #8a5a00; --overridden: #6a3fa0; --warn: #b3261e; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--tint); line-height: 1.45; }
body { margin: 0; overflow-wrap: anywhere; }
header.masthead { background: var(--paper); border-bottom: 1px solid var(--line); }
.wrap { max-width: 80rem; margin: 0 auto; padding: 0 1rem; }
header.masthead .wrap { padding-top: 1rem; padding-bottom: .75rem; }
h1 { font-size: 1.45rem; line-height: 1.25; margin: 0 0 .25rem; }
.meta { color: var(--muted); margin: 0; font-size: .92rem; }
.notice { border: 2px solid var(--warn); background: #fdecea; color: #5f1410; padding: .5rem .75rem;
  margin: 0 0 .75rem; font-weight: 700; }
main.wrap { display: grid; grid-template-columns: minmax(18rem, 26rem) minmax(0, 1fr); gap: 1.25rem;
  align-items: start; padding-top: 1.25rem; padding-bottom: 2rem; }
main.wrap > * { min-width: 0; }
form.case, section.answer, .intro { background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: .25rem 1rem 1rem; }
}
h2 { font-size: 1.2rem; margin: .75rem 0 .35rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .4rem; }
h4 { font-size: 1rem; margin: 0 0 .3rem; }
.how, .set-hint, .only-when { color: var(--muted); font-size: .88rem; margin: .2rem 0; }
.field { margin: .6rem 0; padding: .4rem .5rem; border-radius: 6px; border: 1px solid transparent; }
.field:target { border-color: var(--accent); background: #eef4fc; }
:target { scroll-margin-top: .75rem; }
.field.has-problem { border-color: var(--warn); background: #fdf3f2; }
.field > label, fieldset legend, .derived-label { display: block; font-weight: 600; font-size: .95rem; }
fieldset { border: 0; margin: 0; padding: 0; min-width: 0; }
select, input[type=text] { font: inherit; width: 100%; max-width: 100%; padding: .3rem .4rem;
  border: 1px solid #9aa3b2; border-radius: 4px; background: var(--paper); }
.number { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.number input { flex: 1 1 7rem; width: auto; }
.unit { color: var(--muted); font-size: .88rem; }
.choices { display: flex; flex-direction: column; gap: .1rem; }
.field-boolean .choices { flex-direction: row; flex-wrap: wrap; gap: .15rem 1rem; }
.choices label { font-size: .93rem; }
.none-box { font-style: italic; }
details.about summary, details.options summary { cursor: pointer; color: var(--accent); font-size: .88rem; }
details.about p { font-size: .88rem; color: var(--muted); margin: .25rem 0; }
.field-derived { background: var(--tint); }
.derived-value.unknown { color: var(--muted); font-style: italic; }
.problems { color: var(--warn); font-weight: 600; font-size: .9rem; margin: .3rem 0; padding-left: 1.1rem; }
.form-problems { border: 2px solid var(--warn); border-radius: 6px; padding: .2rem .75rem; margin: .5rem 0; }
.form-problems p { margin: .3rem 0; font-weight: 600; }
.form-problems a { color: var(--warn); }
.submit { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin-top: 1rem; }
button { font: inherit; font-weight: 600; padding: .45rem 1.4rem; border: 0; border-radius: 6px;
  background: var(--accent); color: #fff; cursor: pointer; }
a { color: var(--accent); }
.summary { background: var(--tint); border-radius: 6px; padding: .25rem .75rem; font-size: .92rem; }
.summary p { margin: .3rem 0; }
.summary .case-line { color: var(--muted); }
.group > h3, .group > summary h3 { display: inline; }
.group { display: block; margin-top: 1rem; }
.group > summary { cursor: pointer; margin-bottom: .5rem; }
.count { display: inline-block; min-width: 1.6rem; text-align: center; border-radius: 999px; background: var(--tint);
  border: 1px solid var(--line); font-size: .85rem; padding: 0 .4rem; }
article.rec { border-left: 4px solid var(--line); padding: .5rem .75rem; margin: .6rem 0; background: var(--paper);
  border-top: 1px solid var(--line); }
article.rec.outcome-applies { border-left-color: var(--ok); }
article.rec.outcome-undecided { border-left-color: var(--undecided); }
article.rec.outcome-overridden { border-left-color: var(--overridden); }
article.rec:target { background: #fff8d9; }
.rec-id { font-family: ui-monospace, Menlo, Consolas, monospace; color: var(--muted); font-size: .9em; }
.badges { display: flex; flex-wrap: wrap; gap: .3rem; margin: 0 0 .4rem; }
.badge { font-size: .76rem; padding: .05rem .5rem; border-radius: 999px; border: 1px solid var(--line);
  background: var(--tint); }
.badge.kind-avoid { background: #fdecea; border-color: #e9a59f; }
.badge.kind-do { background: #e6f4ea; border-color: #9fd3b0; }
.wording { margin: .3rem 0; }
.wording.patient { color: #2f3a4d; font-size: .95rem; }
.plain-label { font-weight: 600; }
a.cite { text-decoration: none; font-weight: 600; }
.flag { margin: .3rem 0; padding: .3rem .5rem; border-radius: 4px; font-size: .92rem; }
.flag-decide { background: #fff4d6; }
.flag-warn { background: #fdecea; color: #5f1410; font-weight: 600; }
.flag-info { background: var(--tint); }
dl.action { display: grid; grid-template-columns: minmax(6rem, max-content) minmax(0, 1fr); gap: .1rem .8rem;
  font-size: .9rem; margin: .4rem 0 0; }
dl.action dt { color: var(--muted); }
dl.action dd { margin: 0; }
.load { color: var(--ok); }
details.pending { font-size: .88rem; margin-top: .4rem; }
details.pending summary { cursor: pointer; color: var(--muted); }
details.pending ul, .missing-overall ul { margin: .25rem 0; padding-left: 1.2rem; }
.missing-overall { background: #fff4d6; border-radius: 6px; padding: .3rem .75rem; font-size: .92rem; }
.missing-overall p { margin: .2rem 0; font-weight: 600; }
.deciding { color: var(--muted); font-size: .85rem; }
ol.refs { padding-left: 2rem; font-size: .9rem; }
ol.refs li { margin: .3rem 0; }
li:target { background: #fff8d9; }
footer { color: var(--muted); font-size: .85rem; padding: 0 0 2rem; }
/* Last, so that it overrides the wide layout above. */
@media (max-width: 52rem) {
  main.wrap { grid-template-columns: minmax(0, 1fr); padding-left: .5rem; padding-right: .5rem; }
  main.wrap > section.answer, main.wrap > .intro { order: -1; }
  .wrap { padding: 0 .6rem; }
  dl.action { grid-template-columns: minmax(0, 1fr); }
  dl.action dd { margin-bottom: .25rem; }
@media print { form.case { display: none; } main.wrap { display: block; } }
"""

POLICY = (f"default-src 'none'; style-src {source_hash(CSS)}; script-src 'none'; img-src data:; "
          "form-action 'self'; base-uri 'none'")
