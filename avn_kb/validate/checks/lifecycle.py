"""Lifecycle (AVN401-AVN406): approval needs a date and enough distinct board reviewers, reviews
fall due, retired recommendations are not linked, effective periods are sane, accepted findings
name real codes.

Passing:  status: approved, review: {approved_on: 2026-01-10, reviewers: [rev-a, rev-b],
          next_review_due: 2028-01-10} with policy reviewers_required: 2 and both on the board.
Failing:  approved with reviewers: [rev-a] (AVN401); reviewers: [dr-who] (AVN402);
          next_review_due: 2020-01-01 (AVN403); effective: {from: 2027-01-01, until: 2026-01-01} (AVN405).
"""

from __future__ import annotations

from collections.abc import Iterator

from avn_kb.model.codes import CODES
from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import Recommendation
from avn_kb.validate.checks.context import CheckContext, Judge


def judge_approval(ctx: CheckContext) -> Judge:
    manifest = ctx.kb.manifest
    required = manifest.reviewers_required if manifest else 1
    board = manifest.board if manifest else None

    def judge(rec: Recommendation) -> Iterator[Finding]:
        review = rec.review
        reviewers = list(review.get("reviewers", []))
        if board is not None:
            for index, reviewer in enumerate(reviewers):
                if reviewer not in board:
                    yield issue("AVN402", rec.where.path, rec.where.pointer + ("review", "reviewers", index),
                                f"{rec.id}: reviewer {reviewer!r} is not on the editorial board in kb.yaml "
                                f"({', '.join(board)}): add them to the board or correct the id", ids=(rec.id,))
        if rec.status != "approved":
            return
        if not review.get("approved_on"):
            yield issue("AVN401", rec.where.path, rec.where.pointer + ("status",),
                        f"{rec.id} is approved but has no review.approved_on date: add it", ids=(rec.id,))
        distinct = {r for r in reviewers if board is None or r in board}
        if len(distinct) < required:
            yield issue("AVN401", rec.where.path, rec.where.pointer + ("status",),
                        f"{rec.id} is approved by {len(distinct)} distinct board reviewer(s); the policy needs "
                        f"{required}: add reviewers to review.reviewers", ids=(rec.id,))
    return judge


def judge_review_due(ctx: CheckContext) -> Judge:
    today = ctx.as_of.isoformat()

    def judge(rec: Recommendation) -> Iterator[Finding]:
        due = rec.review_overdue_since(today)
        if due:
            yield issue("AVN403", rec.where.path, rec.where.pointer + ("review", "next_review_due"),
                        f"{rec.id}: review was due on {due} (as of {today}): review it and set a new date",
                        ids=(rec.id,))
    return judge


def check_links_to_retired(ctx: CheckContext) -> Iterator[Finding]:
    status = {rec.id: rec.status for rec in ctx.kb.recommendations}
    for rec in ctx.kb.recommendations:
        for index, other in enumerate(rec.overrides):
            if rec.status == "retired":
                yield issue("AVN404", rec.where.path, rec.where.pointer + ("overrides", index),
                            f"{rec.id} is retired but still overrides {other}: remove the override",
                            ids=(rec.id, other))
            elif status.get(other) == "retired":
                yield issue("AVN404", rec.where.path, rec.where.pointer + ("overrides", index),
                            f"{rec.id} overrides {other}, which is retired: the override has no effect; remove it",
                            ids=(rec.id, other))
        if rec.status == "retired":
            for index, other in enumerate(rec.supersedes):
                yield issue("AVN404", rec.where.path, rec.where.pointer + ("supersedes", index),
                            f"{rec.id} is retired but still supersedes {other}: whatever replaces {rec.id} "
                            "should supersede it instead", ids=(rec.id, other))


def judge_effective_period(_ctx: CheckContext) -> Judge:
    return _effective_period


def _effective_period(rec: Recommendation) -> Iterator[Finding]:
    if rec.effective_from and rec.effective_until and rec.effective_until < rec.effective_from:
        yield issue("AVN405", rec.where.path, rec.where.pointer + ("effective", "until"),
                    f"{rec.id}: effective until {rec.effective_until}, before it starts on "
                    f"{rec.effective_from}: correct the dates", ids=(rec.id,))


def judge_accepted_codes(_ctx: CheckContext) -> Judge:
    return _accepted_codes


def _accepted_codes(rec: Recommendation) -> Iterator[Finding]:
    seen: set[str] = set()
    for entry in rec.acceptances:
        code = entry.code
        here = entry.where.pointer + ("code",)
        if code not in CODES:
            yield issue("AVN406", rec.where.path, here,
                        f"{rec.id} accepts {code}, which is not a check code: use one from docs/checks.md",
                        ids=(rec.id,))
        elif code in seen:
            yield issue("AVN406", rec.where.path, here,
                        f"{rec.id} accepts {code} twice: keep one entry with one reason", ids=(rec.id,))
        seen.add(code)


def check_severity_codes(ctx: CheckContext) -> Iterator[Finding]:
    """AVN116: the manifest changes the severity of a code that does not exist (a typo would
    otherwise silently change nothing)."""
    manifest = ctx.kb.manifest
    if manifest is None:
        return
    for code in manifest.severity:
        if code not in CODES:
            yield issue("AVN116", manifest.where.path, manifest.where.pointer + ("severity", code),
                        f"severity override for unknown code {code}: remove it or use a code from docs/checks.md",
                        at_key=True)
