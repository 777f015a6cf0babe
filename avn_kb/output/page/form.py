"""The clinician page's form, built from the vocabulary: a select for each enum (first choice "not
known"), yes / no / not known for each boolean, a checkbox for each value of a set with an explicit
"none of these" box, a text box with its unit for each number. Derived facts are shown with the
value the answer computed, never asked. A fact defined only in some cases says in which. Each
field is filled in again from the query and shows its problems beside it; its wrapper has the id
`field-NAME`, the target of the links that ask for a missing fact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from avn_kb.load.cases import CaseError
from avn_kb.model import conditions
from avn_kb.model.display import value_text
from avn_kb.model.knowledge import DerivedFact, Fact, Vocabulary
from avn_kb.output.page.query import AS_OF, INCLUDE_STATUS, NONE_CHOSEN, STATUSES, PageOptions


def field_id(name: str) -> str:
    """The id of a field's wrapper (the fragment that links to it)."""
    return f"field-{name}"


def render_form(vocabulary: Vocabulary, options: PageOptions, problems: Sequence[CaseError],
                derived: Mapping[str, Any] | None) -> str:
    """The form (GET, to the page itself), with `derived` the computed facts of the answer shown."""
    sent = _sent(options.query)
    by_field: dict[str | None, list[str]] = {}
    for problem in problems:
        field = problem.fact if problem.fact in vocabulary.facts or problem.fact in OPTION_FIELDS else None
        by_field.setdefault(field, []).append(problem.message)
    parts = ['<form class="case" id="case" method="get" novalidate>', '<h2 id="case-heading">The case</h2>',
             '<p class="how">Fill in what is known and leave the rest <em>not known</em>: a fact not given stays '
             'missing, and advice that depends on it is shown as undecided, with the facts that would decide it.</p>']
    parts += [_summary_of(problems, vocabulary)]
    parts += [_field(fact, sent.get(fact.name, []), by_field.get(fact.name, [])) for fact in vocabulary.facts.values()]
    if vocabulary.derived:
        parts.append('<h3 class="derived-heading">Computed from the facts above</h3>')
        parts += [_derived(d, (derived or {}).get(d.name)) for d in vocabulary.derived.values()]
    parts.append(_options(options, sent, by_field))
    parts.append('<p class="submit"><button type="submit">Answer</button> <a href="?">Clear the form</a></p>')
    parts.append("</form>")
    return "\n".join(parts)


OPTION_FIELDS = (AS_OF, INCLUDE_STATUS)


def _sent(query: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    sent: dict[str, list[str]] = {}
    for name, value in query:
        sent.setdefault(name, []).append(value.strip())
    return sent


def _problem_list(messages: Sequence[str], css_id: str | None = None) -> str:
    if not messages:
        return ""
    at = f' id="{escape(css_id)}"' if css_id else ""
    items = "".join(f"<li>{escape(message)}</li>" for message in messages)
    return f'<ul class="problems" role="alert"{at}>{items}</ul>'


def _summary_of(problems: Sequence[CaseError], vocabulary: Vocabulary) -> str:
    """Every problem at the top of the form, each linked to its field (where it is shown again)."""
    if not problems:
        return ""
    items = []
    for problem in problems:
        shown = escape(problem.message)
        if problem.fact in vocabulary.facts or problem.fact in OPTION_FIELDS:
            shown = f'<a href="#{escape(field_id(str(problem.fact)))}">{shown}</a>'
        items.append(f"<li>{shown}</li>")
    count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
    return (f'<div class="form-problems" id="form-problems" role="alert"><p>{count} to correct before an answer '
            f'can be given:</p><ul class="problems">{"".join(items)}</ul></div>')


def _hints(fact: Fact | DerivedFact) -> str:
    """The condition a fact is defined for, and its description behind a disclosure."""
    hints = []
    if fact.defined_for is not None:
        hints.append(f'<p class="only-when">Only when {escape(conditions.describe(fact.defined_for))}.</p>')
    if fact.description:
        hints.append(f'<details class="about"><summary>About this fact</summary><p>{escape(fact.description)}</p>'
                     "</details>")
    return "".join(hints)


def _field(fact: Fact, sent: list[str], messages: list[str]) -> str:
    name = escape(fact.name)
    bad = " has-problem" if messages else ""
    wrapper = f'<div class="field field-{escape(fact.type)}{bad}" id="{escape(field_id(fact.name))}">'
    if fact.type in ("set", "boolean"):
        body = (f'<fieldset><legend>{escape(fact.label)}</legend>{_choices(fact, sent)}'
                f"{_hints(fact)}{_problem_list(messages)}</fieldset>")
    elif fact.type == "enum":
        chosen = sent[0] if sent else ""
        choices = [("", "not known"), *((v, fact.value_label(v)) for v in fact.values)]
        opts = "".join(f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(label)}</option>'
                       for v, label in choices)
        body = (f'<label for="in-{name}">{escape(fact.label)}</label>'
                f'<select name="{name}" id="in-{name}">{opts}</select>{_hints(fact)}{_problem_list(messages)}')
    else:
        body = (f'<label for="in-{name}">{escape(fact.label)}</label>'
                f'<span class="number"><input type="text" inputmode="decimal" name="{name}" id="in-{name}" '
                f'value="{escape(sent[0] if sent else "")}" autocomplete="off">'
                f'<span class="unit">{escape(_range(fact))}</span></span>{_hints(fact)}{_problem_list(messages)}')
    return f"{wrapper}{body}</div>"


def _range(fact: Fact) -> str:
    """`10^9/L, 0 to 2000` (the unit and the accepted range, whole numbers when asked)."""
    parts = [fact.unit or ""]
    if fact.low is not None and fact.high is not None:
        parts.append(f"{value_text(float(fact.low))} to {value_text(float(fact.high))}")
    if fact.integer:
        parts.append("whole number")
    return ", ".join(p for p in parts if p)


def _choices(fact: Fact, sent: list[str]) -> str:
    """Checkboxes of a set (and its "none of these" box) or the three radios of a boolean."""
    name = escape(fact.name)
    if fact.type == "boolean":
        chosen = sent[0].lower() if sent else ""
        radios = [("true", "yes"), ("false", "no"), ("", "not known")]
        return '<span class="choices">' + "".join(
            f'<label><input type="radio" name="{name}" value="{v}"{" checked" if v == chosen else ""}> {label}</label>'
            for v, label in radios) + "</span>"
    boxes = "".join(
        f'<label><input type="checkbox" name="{name}" value="{escape(v)}"{" checked" if v in sent else ""}> '
        f"{escape(fact.value_label(v))}</label>" for v in fact.values)
    none = (f'<label class="none-box"><input type="checkbox" name="{name}" value="{NONE_CHOSEN}"'
            f'{" checked" if NONE_CHOSEN in sent else ""}> none of these (looked for, none found)</label>')
    return (f'<span class="choices">{boxes}{none}</span><p class="set-hint">Nothing ticked: not known. '
            "Tick <em>none of these</em> only when it was looked for and none was found.</p>")


def _derived(fact: DerivedFact, value: Any) -> str:
    shown = (f'<strong class="derived-value">{escape(fact.value_label(str(value)))}</strong>' if value is not None
             else '<span class="derived-value unknown">not known from the facts given</span>')
    return (f'<div class="field field-derived" id="{escape(field_id(fact.name))}">'
            f'<span class="derived-label">{escape(fact.label)}</span> {shown}{_hints(fact)}</div>')


def _options(options: PageOptions, sent: Mapping[str, list[str]], by_field: Mapping[str | None, list[str]]) -> str:
    """The date of the answer and the statuses considered beside approved ones, folded away."""
    day = sent.get(AS_OF, [""])[0]
    wanted = sent.get(INCLUDE_STATUS, [])
    boxes = "".join(f'<label><input type="checkbox" name="{INCLUDE_STATUS}" value="{escape(s)}"'
                    f'{" checked" if s in wanted else ""}> {escape(s)}</label>' for s in STATUSES if s != "approved")
    opened = " open" if day or wanted or by_field.get(AS_OF) or by_field.get(INCLUDE_STATUS) else ""
    return (f'<details class="options"{opened}><summary>Date and statuses</summary>'
            f'<div class="field" id="{field_id(AS_OF)}"><label for="in-{AS_OF}">Answer as of (YYYY-MM-DD; blank: '
            f'today)</label><input type="text" name="{AS_OF}" id="in-{AS_OF}" value="{escape(day)}" '
            f'autocomplete="off">{_problem_list(by_field.get(AS_OF, []))}</div>'
            f'<fieldset class="field" id="{field_id(INCLUDE_STATUS)}"><legend>Also consider recommendations that '
            f'are not approved</legend><span class="choices">{boxes}</span>'
            f"{_problem_list(by_field.get(INCLUDE_STATUS, []))}</fieldset></details>")
