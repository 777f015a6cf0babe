"""Versions for pull requests (AVN410-AVN415): compare the knowledge base with the one at a base
revision. The rule (docs/format.md): a change of wording only is a PATCH bump; a change of
condition, action, dose, strength, certainty, evidence, population, citations or links at least
MINOR; a change of the action's target or stance, or of the strength's direction, MAJOR. Status,
review and effective dates need no bump. Guidance is never removed silently: retire it instead.

Passing:  RT-001 1.0.0 -> 1.1.0 with a changed dose; kb.yaml 0.1.0 -> 0.2.0.
Failing:  RT-001 dose changed, version still 1.0.0 (AVN410); RT-001 deleted (AVN412);
          PR-001 retired -> approved (AVN414); any change with kb.yaml still 0.1.0 (AVN415).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from avn_kb.model.conditions import shape
from avn_kb.model.findings import Finding, issue
from avn_kb.model.knowledge import KnowledgeBase, Recommendation

WORDING = ("title", "statement", "plain_language", "rationale")
LEVELS = ("none", "patch", "minor", "major")
STATUS_RANK = {"draft": 0, "submitted": 1, "under-review": 2, "approved": 3, "retired": 4}


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def bump_of(old: str, new: str) -> str:
    """none, patch, minor, major or backwards."""
    a, b = _semver(old), _semver(new)
    if b < a:
        return "backwards"
    if b == a:
        return "none"
    return "major" if b[0] > a[0] else "minor" if b[1] > a[1] else "patch"


# The content a version speaks for, field by field as the schema names them, without where it was
# written (moving a recommendation within or between files changes nothing). Lifecycle fields
# (status, review, effective dates, acceptances, retired_reason) need no bump and are not here.
CONTENT: tuple[tuple[str, Callable[[Recommendation], object]], ...] = (
    ("title", lambda r: r.title),
    ("statement", lambda r: r.statement),
    ("plain_language", lambda r: r.plain_language),
    ("rationale", lambda r: r.rationale),
    ("population", lambda r: r.population),
    ("when", lambda r: shape(r.when)),
    ("action", lambda r: r.action),
    ("strength", lambda r: (r.strength, r.direction)),
    ("certainty", lambda r: r.certainty),
    ("evidence", lambda r: (r.indirect, r.indirect_reason, r.expert_opinion, r.evidence_summary)),
    ("citations", lambda r: tuple((c.ref, c.locator, c.note) for c in r.citations)),
    ("overrides", lambda r: r.overrides),
    ("supersedes", lambda r: r.supersedes),
)


def change_level(old: Recommendation, new: Recommendation) -> tuple[str, list[str]]:
    """The smallest bump the change needs, and the fields that changed."""
    changed = sorted(name for name, value in CONTENT if value(old) != value(new))
    if old.topic != new.topic:
        changed.append("topic")
    if not changed:
        return "none", []
    if (old.action.target != new.action.target or old.action.stance != new.action.stance
            or old.direction != new.direction):
        return "major", changed
    substantive = [k for k in changed if k not in WORDING and k != "citations"]
    if substantive or [c.ref for c in old.citations] != [c.ref for c in new.citations]:
        return "minor", changed
    return "patch", changed


def check_versions(old: KnowledgeBase, new: KnowledgeBase, base: str,
                   unbuilt: frozenset[str] = frozenset()) -> Iterator[Finding]:
    """Findings for the change from `old` (at revision `base`) to `new`; `unbuilt` holds the ids of
    recommendations that are present now but failed their schema (reported there, not removed)."""
    before = {rec.id: rec for rec in old.recommendations}
    after = {rec.id: rec for rec in new.recommendations}
    content_changed = set(before) != set(after)
    for rec_id, was in before.items():
        now = after.get(rec_id)
        if now is None and rec_id in unbuilt:
            continue
        if now is None:
            yield issue("AVN412", was.where.path, (),
                        f"{rec_id} (version {was.version} at {base}) was removed: guidance is never deleted; "
                        "restore it with status: retired and a retired_reason", ids=(rec_id,))
            continue
        yield from _status_change(was, now, base)
        level, fields = change_level(was, now)
        if level == "none":
            if bump_of(was.version, now.version) == "backwards":
                yield issue("AVN411", now.where.path, now.where.pointer + ("version",),
                            f"{rec_id} went back from {was.version} to {now.version}: versions only go up",
                            ids=(rec_id,))
            continue
        content_changed = True
        if was.action.target != now.action.target or was.topic != now.topic:
            yield issue("AVN413", now.where.path, now.where.pointer + ("id",),
                        f"{rec_id} now means something else ({was.topic}/{was.action.target} at {base}, "
                        f"{now.topic}/{now.action.target} now): give the new content a new id and retire "
                        f"{rec_id} (the new one supersedes it)", ids=(rec_id,))
            continue
        bump = bump_of(was.version, now.version)
        what = ", ".join(fields)
        if bump == "none":
            yield issue("AVN410", now.where.path, now.where.pointer + ("version",),
                        f"{rec_id} changed ({what}) but its version is still {now.version}: bump it "
                        f"({level} at least)", ids=(rec_id,))
        elif bump == "backwards" or LEVELS.index(bump) < LEVELS.index(level):
            yield issue("AVN411", now.where.path, now.where.pointer + ("version",),
                        f"{rec_id} changed ({what}), which needs a {level} bump, but went {was.version} -> "
                        f"{now.version}: see the versioning rule in docs/format.md", ids=(rec_id,))
    if not content_changed:
        content_changed = ({r.id: r.csl for r in old.references} != {r.id: r.csl for r in new.references}
                           or _vocabulary_changed(old, new))
    if content_changed and old.manifest is not None and new.manifest is not None:
        if bump_of(old.manifest.version, new.manifest.version) in ("none", "backwards"):
            yield issue("AVN415", new.manifest.where.path, ("version",),
                        f"the knowledge (recommendations, references or vocabulary) changed since {base} "
                        f"but kb.yaml's version is {new.manifest.version} "
                        f"(was {old.manifest.version}): bump it", ids=())


def _vocabulary_changed(old: KnowledgeBase, new: KnowledgeBase) -> bool:
    a, b = old.vocabulary, new.vocabulary
    if a is None or b is None:
        return a is not b
    return any(getattr(a, part) != getattr(b, part)
               for part in ("topics", "populations", "facts", "derived", "interventions"))


def _status_change(was: Recommendation, now: Recommendation, base: str) -> Iterator[Finding]:
    old, new = was.status, now.status
    if old == new:
        return
    illegal = (old == "retired") or (old == "approved" and STATUS_RANK[new] < STATUS_RANK["approved"])
    if illegal:
        yield issue("AVN414", now.where.path, now.where.pointer + ("status",),
                    f"{now.id} went from {old} (at {base}) to {new}: {old} guidance cannot go back to {new}; "
                    "write a new recommendation that supersedes it instead", ids=(now.id,))
