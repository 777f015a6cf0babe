"""AVN410-AVN415, versions in a pull request, only with `validate --base GIT_REF`: a change
without a version bump or with too small a bump, a recommendation deleted instead of retired, an
id reused, an illegal status change, a manifest version not bumped. The rules themselves live in
avn_kb/editorial/versions.py, shared with `avn-kb diff`; docs/checks.md gives examples.

Passing:  RT-001 1.0.0 -> 1.1.0 with a new dose (a minor change, a minor bump)
Failing:  RT-001 1.0.0 -> 1.0.0 with a new dose (AVN410)
"""

from __future__ import annotations

from collections.abc import Iterator

from avn_kb.model.findings import Finding
from avn_kb.validate.checks.context import CheckContext


def check_versions(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.base is None or ctx.base_ref is None:
        return
    # Only pull requests ask for --base: the version rules stay out of every other start-up.
    from avn_kb.editorial.versions import check_versions as version_findings

    unbuilt = set(ctx.unbuilt_ids)
    if "recommendations" in ctx.unloaded_kinds:
        # A recommendation missing now may sit in the file that cannot be read: not "removed".
        unbuilt |= {rec.id for rec in ctx.base.recommendations}
    yield from version_findings(ctx.base, ctx.kb, ctx.base_ref, frozenset(unbuilt))
