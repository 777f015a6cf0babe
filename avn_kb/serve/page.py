"""`GET /`: the clinician page (avn_kb/output/page). The query string is the case, so the address
of an answer can be shared; the answer is the one `avn-kb query --format json --all` gives, from
the request's snapshot, rendered as HTML with a policy that allows no script."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from avn_kb.output.answers.data import as_data
from avn_kb.output.page import CONTENT_SECURITY_POLICY, form_facts, page_options, render_page
from avn_kb.resolve.resolver import resolve
from avn_kb.serve.context import limits_of, snapshot_of
from avn_kb.serve.limits import within_time
from avn_kb.serve.problems import Problem
from avn_kb.serve.snapshot import Snapshot

# The meta tag cannot forbid framing: the header says it as well (clickjacking).
PAGE_POLICY = CONTENT_SECURITY_POLICY + "; frame-ancestors 'none'"
MAX_QUERY_PAIRS = 500  # more fields than any form has: a query this long is not from the page


def page_html(snapshot: Snapshot, query: Sequence[tuple[str, str]]) -> str:
    """The page for `query` (name, value pairs in order): the form alone, the form with its
    problems beside the fields, or the form and the answer."""
    ready = snapshot.ready
    facts, problems = form_facts(ready.kb, list(query))
    options, more = page_options(list(query), ready.problems)
    problems += more
    data = None
    if facts is not None and not problems:
        with snapshot.lock:
            resolution = resolve(ready.kb, facts, as_of=options.as_of, statuses=options.statuses,
                                 index=snapshot.index)
            data = as_data(ready.kb, resolution, show_all=True, problems=ready.problems)
    return render_page(ready.kb, facts, data, problems, options)


async def get_page(request: Request) -> Response:
    snapshot, limits = snapshot_of(request), limits_of(request)
    query = request.query_params.multi_items()
    if len(query) > MAX_QUERY_PAIRS:
        raise Problem(414, "too-many-fields", f"{len(query):,} fields in the address, over {MAX_QUERY_PAIRS}: "
                      "use the form", limit=MAX_QUERY_PAIRS)
    html = await within_time(limits, page_html, snapshot, query)
    return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff",
                                       "Referrer-Policy": "no-referrer"})
