"""The clinician page (`GET /` of the service): one HTML page with a form built from the vocabulary
and, when the form was filled in, the answer. It works without JavaScript (a GET form, so the
address of an answer can be shared), reads at 400 px, escapes every piece of knowledge text and
allows neither scripts nor injected styles (its Content-Security-Policy).

The caller reads the query (`form_facts`, `page_options`), resolves the case when there is one
(the resolver and avn_kb.output.answers.data.as_data, exactly as `avn-kb query --format json`)
and renders (`render_page`): the page never resolves anything itself."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from avn_kb import __version__
from avn_kb.load.cases import CaseError
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.notices import notices
from avn_kb.output.page.answer import case_line, render_answer
from avn_kb.output.page.assets import CSS, POLICY
from avn_kb.output.page.form import field_id, render_form
from avn_kb.output.page.query import NONE_CHOSEN, PageOptions, form_facts, page_options

__all__ = ["CONTENT_SECURITY_POLICY", "NONE_CHOSEN", "PageOptions", "field_id", "form_facts", "page_options",
           "render_page"]

# The policy of the page, for the service to send as a header as well (the meta tag cannot say
# frame-ancestors).
CONTENT_SECURITY_POLICY = POLICY


def render_page(kb: KnowledgeBase, facts: dict[str, Any] | None, data: dict[str, Any] | None,
                problems: Sequence[CaseError], options: PageOptions) -> str:
    """The page: the notice first, the form (filled in again from `options.query`, each problem
    beside its field) and, when `data` is given (as_data of the resolution of `facts`), the answer.
    Without `data` the page shows the form alone: nothing asked yet, or problems to correct."""
    manifest = kb.manifest
    lines = data["notices"] if data is not None else notices(kb, options.loading_problems)
    notes = "".join(f'<p class="notice" role="note">{escape(line)}</p>' for line in lines)
    title = manifest.title if manifest else kb.root
    version = f"version {manifest.version}, released {manifest.released}" if manifest else ""
    body = [render_form(kb.vocabulary, options, problems, data["derived"] if data else None)
            if kb.vocabulary is not None else ""]
    if data is not None:
        body.append(render_answer(kb, data, options.query))
    else:
        body.append(_intro(problems))
    heading = f"Answer for {case_line(facts)}" if data is not None and facts else "Decision support"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(POLICY)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">', '<link rel="icon" href="data:,">',
        f"<title>{escape(heading)}: {escape(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f'<header class="masthead"><div class="wrap">{notes}<h1>{escape(title)}</h1>'
        f'<p class="meta">{escape(version)}. For clinicians, with the wording for patients beside it.</p></div>'
        "</header>",
        '<main class="wrap">', *body, "</main>",
        f'<footer class="wrap">Answered by avn-kb {escape(__version__)}. The address of this page holds the case: '
        "it can be shared or saved to give the same answer.</footer>",
        "</body>", "</html>"]) + "\n"


def _intro(problems: Sequence[CaseError]) -> str:
    if problems:
        return ('<section class="intro"><h2>No answer yet</h2><p>Some of what was filled in cannot be used: '
                '<a href="#form-problems">the form says what to correct</a>, beside each field marked in red.</p>'
                "</section>")
    return ('<section class="intro"><h2>How to use this page</h2><p>Fill in the facts of the case that are known '
            "and select <em>Answer</em>. The answer lists the advice that applies, the advice that is undecided "
            "with the facts that would decide it, and the sources.</p></section>")
