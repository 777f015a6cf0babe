"""`avn-kb validate --base REF` in a throwaway git repository: the mini knowledge base is committed,
the working tree is changed, and the version findings (AVN410-AVN415) must be exactly those the
change calls for. The run reads the base through git plumbing only: the working tree, the index
and HEAD are left as they were."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MINI, run_cli

RT = "recommendations/resistive-training.yaml"
OF = "recommendations/offloading.yaml"
REFS = "references.yaml"
KB = "kb.yaml"
VOCAB = "vocabulary.yaml"
CASES = "cases/basic.yaml"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false",
                           "-c", "core.hooksPath=/dev/null", *args],
                          cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


@dataclass(frozen=True)
class Edit:
    """Replace the first `old` in `file` by `new`; `old` None writes `new` as the whole file, and
    `new` None as well deletes the file."""

    file: str
    old: str | None
    new: str | None


def replace(file: str, old: str, new: str) -> Edit:
    return Edit(file, old, new)


def write(file: str, text: str) -> Edit:
    return Edit(file, None, text)


def delete(file: str) -> Edit:
    return Edit(file, None, None)


def apply(kb: Path, edits: tuple[Edit, ...]) -> None:
    for edit in edits:
        path = kb / edit.file
        if edit.new is None:
            path.unlink()
        elif edit.old is None:
            path.write_text(edit.new, encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
            assert edit.old in text, f"{edit.old!r} not in {edit.file}"
            path.write_text(text.replace(edit.old, edit.new, 1), encoding="utf-8")


@dataclass(frozen=True)
class Expect:
    """A finding at the one line of `file` containing `needle`, at the column where `token` starts
    on it; with `needle` None, at line 1, column 1 (a file that no longer exists)."""

    code: str
    severity: str
    file: str
    needle: str | None
    token: str
    message: str
    ids: tuple[str, ...] = ()


def located(repo: Path, expect: Expect) -> dict[str, Any]:
    line, column = 1, 1
    if expect.needle is not None:
        lines = (repo / "knowledge" / expect.file).read_text(encoding="utf-8").splitlines()
        hits = [number for number, text in enumerate(lines, start=1) if expect.needle in text]
        assert len(hits) == 1, f"{expect.needle!r} is on lines {hits} of {expect.file}, not on exactly one"
        line, column = hits[0], lines[hits[0] - 1].index(expect.token) + 1
    item: dict[str, Any] = {"code": expect.code, "severity": expect.severity, "path": f"knowledge/{expect.file}",
                            "line": line, "column": column, "message": expect.message}
    if expect.ids:
        item["ids"] = list(expect.ids)
    return item


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding the mini knowledge base as `knowledge/`, not yet committed; the
    current directory is the repository."""
    shutil.copytree(MINI, tmp_path / "knowledge")
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def commit(repo: Path, message: str = "base") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def validate_base(*extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("validate", "knowledge", "--format", "json", "--as-of", "2026-06-01", "--base", "HEAD", *extra)
    return result.exit_code, json.loads(result.stdout)


# --- changes ------------------------------------------------------------------------------------

BUMP_KB = replace(KB, 'version: "1.0.0"', 'version: "1.1.0"')
RT_VERSION = '    version: "1.0.0"\n'
RETIRE_RT1 = replace(RT, "    status: approved\n",
                     "    status: retired\n    retired_reason: Replaced by newer advice.\n")
CASES_WITHOUT_RT1 = write(CASES, "cases:\n  - id: CASE-001\n    title: Pre-collapse femoral head\n"
                                 "    facts: {site: femoral-head, arco_stage: II, phase: chronic}\n"
                                 "    expect:\n      apply: [OF-001]\n")
RT1_BLOCK = (MINI / RT).read_text(encoding="utf-8").split("recommendations:\n", 1)[1]
RT002 = ("  - id: RT-002\n"
         '    version: "1.0.0"\n'
         "    status: draft\n"
         "    title: Precaution\n"
         "    statement: Avoid resistive training in the acute phase.\n"
         "    plain_language: Do not lift weights while the pain is new.\n"
         "    population: avn\n"
         "    when: {phase: acute}\n"
         "    action: {kind: avoid, target: resistive-training}\n"
         "    strength: {level: conditional, direction: against}\n"
         "    certainty: very-low\n"
         "    evidence: {indirect: true, reason: The advice comes from cardiac rehabilitation.}\n"
         "    citations:\n"
         "      - ref: williams-2007-aha\n")


def rt_version(version: str) -> Edit:
    return replace(RT, RT_VERSION, f'    version: "{version}"\n')


def version_message(rec_id: str, fields: str, level: str, old: str, new: str) -> str:
    return (f"{rec_id} changed ({fields}), which needs a {level} bump, but went {old} -> {new}: see the versioning "
            "rule in docs/format.md")


MANIFEST_NOT_BUMPED = Expect(
    "AVN415", "error", KB, "version:", '"1.0.0"',
    "the knowledge (recommendations, references or vocabulary) changed since HEAD but kb.yaml's version is 1.0.0 "
    "(was 1.0.0): bump it")
WILLIAMS_UNUSED = Expect("AVN202", "warning", REFS, "- id: williams-2007-aha", "williams-2007-aha",
                         "reference williams-2007-aha is not cited by any recommendation: cite it or remove it",
                         ("williams-2007-aha",))
RT1_REMOVED = "RT-001 (version 1.0.0 at HEAD) was removed: guidance is never deleted; restore it with status: " \
              "retired and a retired_reason"

# (name, edits before the base commit, edits to the working tree, expected findings: all of them)
CHANGES: list[tuple[str, tuple[Edit, ...], tuple[Edit, ...], tuple[Expect, ...]]] = [
    ("unchanged", (), (), ()),
    ("recommendation-removed-from-its-file", (),
     (write(RT, "topic: resistive-training\nrecommendations: []\n"), CASES_WITHOUT_RT1, BUMP_KB),
     (WILLIAMS_UNUSED, Expect("AVN412", "error", RT, "topic: resistive-training", "topic", RT1_REMOVED, ("RT-001",)))),
    ("file-removed-manifest-unchanged", (), (delete(RT), CASES_WITHOUT_RT1),
     (WILLIAMS_UNUSED, Expect("AVN412", "error", RT, None, "", RT1_REMOVED, ("RT-001",)), MANIFEST_NOT_BUMPED)),
    ("recommendations-file-unreadable", (), (replace(RT, "    status: approved\n", "    status: [approved\n"), BUMP_KB),
     (Expect("AVN102", "error", RT, "title: Resistive training dose", ":",
             "YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence opened at line 6, "
             "column 13; close it with ']' or fix the syntax here"),)),
    ("dose-changed-no-bump", (), (replace(RT, "sets: [1, 3]", "sets: [1, 4]"), BUMP_KB),
     (Expect("AVN410", "error", RT, RT_VERSION.strip(), '"',
             "RT-001 changed (action) but its version is still 1.0.0: bump it (minor at least)", ("RT-001",)),)),
    ("wording-changed-no-bump", (), (replace(RT, "    title: Resistive training dose\n",
                                                 "    title: Resistance dose\n"),
                                     BUMP_KB),
     (Expect("AVN410", "error", RT, RT_VERSION.strip(), '"',
             "RT-001 changed (title) but its version is still 1.0.0: bump it (patch at least)", ("RT-001",)),)),
    ("condition-changed-patch-bump", (),
     (replace(RT, "      region: lower-limb\n", "      site: femoral-head\n"), rt_version("1.0.1"), BUMP_KB),
     (Expect("AVN411", "error", RT, 'version: "1.0.1"', '"',
             version_message("RT-001", "when", "minor", "1.0.0", "1.0.1"),
             ("RT-001",)),)),
    ("reversal-minor-bump", (),
     (replace(RT, "      kind: do\n", "      kind: avoid\n"), replace(RT, "direction: for}", "direction: against}"),
      rt_version("1.1.0"), BUMP_KB),
     (Expect("AVN411", "error", RT, 'version: "1.1.0"', '"',
             version_message("RT-001", "action, strength", "major", "1.0.0", "1.1.0"), ("RT-001",)),)),
    ("wording-changed-version-backwards", (rt_version("1.2.0"),),
     (replace(RT, "    title: Resistive training dose\n", "    title: Resistance dose\n"),
      replace(RT, 'version: "1.2.0"', 'version: "1.1.9"'), BUMP_KB),
     (Expect("AVN411", "error", RT, 'version: "1.1.9"', '"',
             version_message("RT-001", "title", "patch", "1.2.0", "1.1.9"),
             ("RT-001",)),)),
    ("id-reused-for-another-target", (),
     (replace(RT, "    action:\n      kind: do\n      target: resistive-training\n"
                  "      dose: {intensity_pct_1rm: [40, 60], "
                  "repetitions: [10, 15], sets: [1, 3]}\n      exercises: [leg-press]\n",
              "    action: {kind: do, target: protected-weight-bearing, level: partial}\n"),
      replace(REFS, "    covers: [resistive-training]\n",
                    "    covers: [resistive-training, protected-weight-bearing]\n"),
      rt_version("2.0.0"), BUMP_KB),
     (Expect("AVN413", "error", RT, "- id: RT-001", "RT-001",
             "RT-001 now means something else (resistive-training/resistive-training at HEAD, "
             "resistive-training/protected-weight-bearing now): give the new content a new id and retire RT-001 "
             "(the new one supersedes it)", ("RT-001",)),)),
    ("id-moved-to-another-topic", (),
     (write(RT, "topic: resistive-training\nrecommendations: []\n"),
      replace(OF, "      next_review_due: 2028-01-10\n", "      next_review_due: 2028-01-10\n" + RT1_BLOCK),
      replace(REFS, "    topics: [resistive-training, exercise-prescription]\n",
              "    topics: [resistive-training, exercise-prescription, offloading]\n"), BUMP_KB),
     (Expect("AVN413", "error", OF, "- id: RT-001", "RT-001",
             "RT-001 now means something else (resistive-training/resistive-training at HEAD, "
             "offloading/resistive-training now): give the new content a new id and retire RT-001 (the new one "
             "supersedes it)", ("RT-001",)),)),
    ("locator-added-no-bump", (),
     (replace(RT, "      - ref: williams-2007-aha\n", "      - ref: williams-2007-aha\n        locator: Table 3\n"),
      BUMP_KB),
     (Expect("AVN410", "error", RT, RT_VERSION.strip(), '"',
             "RT-001 changed (citations) but its version is still 1.0.0: bump it (patch at least)", ("RT-001",)),)),
    ("locator-added-patch-bump", (),
     (replace(RT, "      - ref: williams-2007-aha\n", "      - ref: williams-2007-aha\n        locator: Table 3\n"),
      rt_version("1.0.1"), BUMP_KB), ()),
    ("kind-changed-same-stance-patch-bump", (),
     (replace(RT, "      kind: do\n", "      kind: consider\n"), rt_version("1.0.1"), BUMP_KB),
     (Expect("AVN411", "error", RT, 'version: "1.0.1"', '"',
             version_message("RT-001", "action", "minor", "1.0.0", "1.0.1"),
             ("RT-001",)),)),
    ("approved-back-to-draft", (), (replace(RT, "    status: approved\n", "    status: draft\n"),),
     (Expect("AVN414", "error", RT, "status: draft", "draft",
             "RT-001 went from approved (at HEAD) to draft: approved guidance cannot go back to draft; write a new "
             "recommendation that supersedes it instead", ("RT-001",)),)),
    ("retired-back-to-approved", (RETIRE_RT1,), (replace(RT, "    status: retired\n", "    status: approved\n"),),
     (Expect("AVN414", "error", RT, "status: approved", "approved",
             "RT-001 went from retired (at HEAD) to approved: retired guidance cannot go back to approved; write a "
             "new recommendation that supersedes it instead", ("RT-001",)),)),
    ("draft-to-approved", (replace(RT, "    status: approved\n", "    status: draft\n"),), (), ()),
    ("retired-with-patch-bump", (), (RETIRE_RT1, rt_version("1.0.1"), BUMP_KB), ()),
    ("wording-patch-bump-manifest-unchanged", (),
     (replace(RT, "    title: Resistive training dose\n", "    title: Resistance dose\n"), rt_version("1.0.1")),
     (MANIFEST_NOT_BUMPED,)),
    ("reference-changed-manifest-unchanged", (),
     (replace(REFS, "    issued: {date-parts: [[2007]]}\n", "    issued: {date-parts: [[2007, 7]]}\n"),),
     (MANIFEST_NOT_BUMPED,)),
    ("vocabulary-changed-manifest-unchanged", (),
     (replace(VOCAB, "    label: Pain score\n", "    label: Pain score (0-10)\n"),), (MANIFEST_NOT_BUMPED,)),
    ("recommendation-added-manifest-unchanged", (),
     (replace(RT, "      next_review_due: 2028-01-10\n", "      next_review_due: 2028-01-10\n" + RT002),),
     (MANIFEST_NOT_BUMPED,)),
    ("recommendation-added-manifest-bumped", (),
     (replace(RT, "      next_review_due: 2028-01-10\n", "      next_review_due: 2028-01-10\n" + RT002), BUMP_KB), ()),
    ("dose-changed-minor-bump", (), (replace(RT, "sets: [1, 3]", "sets: [1, 4]"), rt_version("1.1.0"), BUMP_KB), ()),
    ("dose-and-wording-major-bump", (),
     (replace(RT, "sets: [1, 3]", "sets: [1, 4]"), replace(RT, "    title: Resistive training dose\n",
                                                             "    title: Resistance dose\n"),
      rt_version("2.0.0"), replace(KB, 'version: "1.0.0"', 'version: "1.0.1"')), ()),
    ("reversal-major-bump", (),
     (replace(RT, "      kind: do\n", "      kind: avoid\n"), replace(RT, "direction: for}", "direction: against}"),
      rt_version("2.0.0"), BUMP_KB), ()),
    ("review-and-effective-need-no-bump", (),
     (replace(RT, "      next_review_due: 2028-01-10\n", "      next_review_due: 2027-12-01\n"),
      replace(RT, "    certainty: very-low\n", "    certainty: very-low\n    effective: {from: 2026-02-01}\n")), ()),
]


def test_every_version_code_has_a_fixture() -> None:
    planted = {e.code for _, _, _, expected in CHANGES for e in expected}
    assert {"AVN410", "AVN411", "AVN412", "AVN413", "AVN414", "AVN415"} <= planted
    assert len({name for name, *_ in CHANGES}) == len(CHANGES)


@pytest.mark.parametrize("before,after,expected", [pytest.param(b, a, e, id=n) for n, b, a, e in CHANGES])
def test_change_against_base(repo: Path, before: tuple[Edit, ...], after: tuple[Edit, ...],
                             expected: tuple[Expect, ...]) -> None:
    apply(repo / "knowledge", before)
    commit(repo)
    apply(repo / "knowledge", after)
    exit_code, report = validate_base()
    want = sorted((located(repo, e) for e in expected),
                  key=lambda f: (f["path"], f["line"], f["column"], f["code"], f["message"]))
    assert report["findings"] == want
    assert exit_code == (1 if any(e.severity == "error" for e in expected) else 0)


def test_without_base_the_same_change_passes(repo: Path) -> None:
    """The version findings come from --base alone."""
    commit(repo)
    apply(repo / "knowledge", (replace(RT, "sets: [1, 3]", "sets: [1, 4]"),))
    result = run_cli("validate", "knowledge", "--format", "json", "--as-of", "2026-06-01")
    assert (result.exit_code, json.loads(result.stdout)["findings"]) == (0, [])
    exit_code, report = validate_base()
    assert (exit_code, [f["code"] for f in report["findings"]]) == (1, ["AVN415", "AVN410"])


def test_base_can_be_an_older_commit(repo: Path) -> None:
    commit(repo, "first")
    apply(repo / "knowledge", (replace(RT, "sets: [1, 3]", "sets: [1, 4]"), rt_version("1.1.0"), BUMP_KB))
    commit(repo, "second")
    assert validate_base()[1]["findings"] == []
    result = run_cli("validate", "knowledge", "--format", "json", "--as-of", "2026-06-01", "--base", "HEAD~1")
    assert (result.exit_code, json.loads(result.stdout)["findings"]) == (0, [])
    apply(repo / "knowledge", (replace(RT, "sets: [1, 4]", "sets: [1, 5]"),))
    result = run_cli("validate", "knowledge", "--format", "json", "--as-of", "2026-06-01", "--base", "HEAD~1")
    assert (result.exit_code, [f["code"] for f in json.loads(result.stdout)["findings"]]) == (0, [])
    exit_code, report = validate_base()
    assert (exit_code, [f["code"] for f in report["findings"]]) == (1, ["AVN415", "AVN410"])


def test_unknown_base_ref_exits_2(repo: Path) -> None:
    commit(repo)
    result = run_cli("validate", "knowledge", "--base", "no-such-ref")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("avn-kb validate: cannot read --base no-such-ref: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_base_outside_a_git_repository_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(MINI, tmp_path / "knowledge")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = run_cli("validate", "knowledge", "--base", "HEAD")
    assert result.exit_code == 2
    assert result.stderr.startswith("avn-kb validate: cannot read --base HEAD: ")


def _git_state(repo: Path) -> tuple[str, ...]:
    return (git(repo, "status", "--porcelain=v1", "--untracked-files=all"), git(repo, "rev-parse", "HEAD"),
            git(repo, "symbolic-ref", "HEAD"), git(repo, "ls-files", "--stage"), git(repo, "diff"),
            git(repo, "diff", "--cached"), git(repo, "stash", "list"))


def test_working_tree_and_index_are_untouched(repo: Path) -> None:
    commit(repo)
    apply(repo / "knowledge", (replace(RT, "sets: [1, 3]", "sets: [1, 4]"),))        # changed, not staged
    apply(repo / "knowledge", (replace(REFS, "[[2007]]", "[[2007, 7]]"),))            # changed and staged
    git(repo, "add", f"knowledge/{REFS}")
    apply(repo / "knowledge", (replace(REFS, "[[2007, 7]]", "[[2007, 8]]"),))         # and changed again
    (repo / "knowledge" / "cases" / "extra.yaml").write_text(                          # untracked
        "cases:\n  - id: CASE-003\n    title: Knee\n    facts: {site: knee}\n    expect:\n      apply: [RT-001]\n",
        encoding="utf-8")
    files = {p: p.read_bytes() for p in (repo / "knowledge").rglob("*") if p.is_file()}
    before = _git_state(repo)
    assert " M knowledge/recommendations/resistive-training.yaml" in before[0]
    assert "MM knowledge/references.yaml" in before[0]
    assert "?? knowledge/cases/extra.yaml" in before[0]
    exit_code, report = validate_base()
    assert (exit_code, [f["code"] for f in report["findings"]]) == (1, ["AVN415", "AVN410"])
    assert _git_state(repo) == before
    assert {p: p.read_bytes() for p in (repo / "knowledge").rglob("*") if p.is_file()} == files


def test_retirement_needs_no_version_bump(repo: Path) -> None:
    commit(repo)
    apply(repo / "knowledge", (RETIRE_RT1, BUMP_KB))
    exit_code, report = validate_base()
    assert (exit_code, report["findings"]) == (0, [])


def test_entry_that_fails_to_load_is_not_reported_as_removed(repo: Path) -> None:
    commit(repo)
    apply(repo / "knowledge", (replace(RT, RT_VERSION, "    version: 1.1\n"), BUMP_KB))
    exit_code, report = validate_base()
    assert [f["code"] for f in report["findings"]] == ["AVN111"]
