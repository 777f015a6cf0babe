"""`avn-kb diff`: a throwaway git repository holds the small knowledge base at a first commit;
each row of the table edits it and states the exact changelog entries the edit must produce."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from avn_kb.cli.editorial import diff
from avn_kb.load.schemas import validator
from avn_kb.output.text import markdown_escape as md
from tests.conftest import MINI, SHIPPED

Edit = Callable[[Path], None]
GIT_IDENTITY = ("-c", "user.name=avn-kb tests", "-c", "user.email=tests@avn-kb.invalid", "-c", "commit.gpgsign=false")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *GIT_IDENTITY, *args], capture_output=True, text=True, check=True)
    return done.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def make_repo(root: Path, source: Path) -> Path:
    """A git repository with `source` committed as knowledge/ and tagged v1; returns knowledge/."""
    root.mkdir()
    git(root, "init", "-q")
    shutil.copytree(source, root / "knowledge")
    commit_all(root, "first")
    git(root, "tag", "v1")
    return root / "knowledge"


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}: the fixture changed, update the test"
    path.write_text(text.replace(old, new, 1))


def run_diff(*args: str) -> Result:
    return CliRunner().invoke(diff, list(args), catch_exceptions=False)


def entries(kb: Path, *refs: str) -> list[dict[str, object]]:
    result = run_diff(*refs, "--kb", str(kb), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    validator("changelog").validate(data)
    return data["recommendations"]  # type: ignore[no-any-return]


RT = "recommendations/resistive-training.yaml"
OF = "recommendations/offloading.yaml"
NEW_RECOMMENDATION = """
  - id: RT-002
    version: "1.0.0"
    status: draft
    title: Resistive training <for> the upper limb
    statement: Light resistive training of the arm.
    plain_language: Light weights for the arm.
    population: avn
    when: {region: upper-limb}
    action: {kind: consider, target: resistive-training}
    strength: {level: conditional, direction: for}
    certainty: low
    evidence: {indirect: false}
    citations:
      - ref: mont-1996
"""


def _dose(kb: Path) -> None:
    replace(kb / RT, "intensity_pct_1rm: [40, 60]", "intensity_pct_1rm: [40, 70]")
    replace(kb / RT, 'version: "1.0.0"', 'version: "1.1.0"')


def _reword(kb: Path) -> None:
    replace(kb / OF, "but not relied on alone.", "but never relied on alone.")
    replace(kb / OF, 'version: "1.0.0"', 'version: "1.0.1"')


def _retire(kb: Path) -> None:
    replace(kb / OF, "status: approved", "status: retired\n    retired_reason: Replaced.")


def _condition(kb: Path) -> None:
    replace(kb / OF, "when: {site: femoral-head, collapse: pre-collapse}", "when: {site: femoral-head}")
    replace(kb / OF, 'version: "1.0.0"', 'version: "1.1.0"')


def _status(kb: Path) -> None:
    replace(kb / OF, "status: approved", "status: under-review")


def _review_date(kb: Path) -> None:
    replace(kb / OF, "approved_on: 2026-01-10", "approved_on: 2026-01-10\n      last_reviewed: 2026-06-01")


def _add(kb: Path) -> None:
    (kb / RT).write_text((kb / RT).read_text() + NEW_RECOMMENDATION)


def _remove(kb: Path) -> None:
    (kb / OF).write_text("topic: offloading\nrecommendations: []\n")


def _cite_another(kb: Path) -> None:
    replace(kb / RT, "      - ref: williams-2007-aha\n", "      - ref: mont-1996\n")
    replace(kb / RT, 'version: "1.0.0"', 'version: "1.1.0"')


def _note(kb: Path) -> None:
    replace(kb / OF, "      - ref: mont-1996\n", "      - ref: mont-1996\n        note: 22.7% satisfactory\n")


def _reorder_citations(kb: Path) -> None:
    replace(kb / OF, "      - ref: mont-1996\n", "      - ref: williams-2007-aha\n      - ref: mont-1996\n")
    commit_all(kb.parent, "two citations")
    git(kb.parent, "tag", "-f", "v1")
    replace(kb / OF, "      - ref: williams-2007-aha\n      - ref: mont-1996\n",
            "      - ref: mont-1996\n      - ref: williams-2007-aha\n")
    replace(kb / OF, 'version: "1.0.0"', 'version: "1.1.0"')


def _no_change(kb: Path) -> None:
    return None


ACTION_BEFORE = "do resistive-training (intensity_pct_1rm 40-60; repetitions 10-15; sets 1-3; exercises leg-press)"

# (edit, [(id, change, level, version before/after, status before/after, [(field, before, after)],
#          citations added, citations removed)])
CASES: list[tuple[Edit, list[tuple[object, ...]]]] = [
    (_no_change, []),
    (_dose, [("RT-001", "changed", "minor", ("1.0.0", "1.1.0"), ("approved", "approved"),
              [("action", ACTION_BEFORE, ACTION_BEFORE.replace("40-60", "40-70"))], [], [])]),
    (_reword, [("OF-001", "reworded", "patch", ("1.0.0", "1.0.1"), ("approved", "approved"),
                [("statement", "Protected weight bearing may be offered before collapse, but not relied on alone.",
                  "Protected weight bearing may be offered before collapse, but never relied on alone.")], [], [])]),
    (_retire, [("OF-001", "retired", "none", ("1.0.0", "1.0.0"), ("approved", "retired"),
                [("retired_reason", None, "Replaced.")], [], [])]),
    (_condition, [("OF-001", "changed", "minor", ("1.0.0", "1.1.0"), ("approved", "approved"),
                   [("when", "site is femoral-head and collapse is pre-collapse", "site is femoral-head")], [], [])]),
    (_status, [("OF-001", "status", "none", ("1.0.0", "1.0.0"), ("approved", "under-review"), [], [], [])]),
    (_review_date, [("OF-001", "metadata", "none", ("1.0.0", "1.0.0"), ("approved", "approved"),
                     [("review.last_reviewed", None, "2026-06-01")], [], [])]),
    (_add, [("RT-002", "added", "none", (None, "1.0.0"), (None, "draft"),
             [("when", None, "region is upper-limb"), ("action", None, "consider resistive-training"),
              ("strength", None, "conditional for"), ("certainty", None, "low")], ["mont-1996"], [])]),
    (_remove, [("OF-001", "removed", "none", ("1.0.0", None), ("approved", None), [], [], [])]),
    (_cite_another, [("RT-001", "changed", "minor", ("1.0.0", "1.1.0"), ("approved", "approved"), [],
                      ["mont-1996"], ["williams-2007-aha"])]),
    (_reorder_citations, [("OF-001", "changed", "minor", ("1.0.0", "1.1.0"), ("approved", "approved"),
                           [("citations", "williams-2007-aha, mont-1996", "mont-1996, williams-2007-aha")], [], [])]),
    (_note, [("OF-001", "reworded", "patch", ("1.0.0", "1.0.0"), ("approved", "approved"),
              [("citation mont-1996", None, "22.7% satisfactory")], [], [])]),
]


def _shape(entry: dict[str, object]) -> tuple[object, ...]:
    version, status, citations = entry["version"], entry["status"], entry["citations"]
    assert isinstance(version, dict) and isinstance(status, dict) and isinstance(citations, dict)
    fields = entry["fields"]
    assert isinstance(fields, list)
    return (entry["id"], entry["change"], entry["level"], (version["before"], version["after"]),
            (status["before"], status["after"]), [(f["field"], f["before"], f["after"]) for f in fields],
            citations["added"], citations["removed"])


@pytest.mark.parametrize("edit, expected", CASES, ids=[edit.__name__.strip("_") for edit, _ in CASES])
def test_each_kind_of_change_against_the_working_tree(tmp_path: Path, edit: Edit,
                                                       expected: list[tuple[object, ...]]) -> None:
    kb = make_repo(tmp_path / "repo", MINI)
    edit(kb)
    assert [_shape(e) for e in entries(kb, "v1")] == expected


def test_between_two_commits_and_the_manifest_and_references(tmp_path: Path) -> None:
    kb = make_repo(tmp_path / "repo", MINI)
    _dose(kb)
    replace(kb / "kb.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
    replace(kb / "references.yaml", "  - id: williams-2007-aha", "  - id: new-2025\n    type: article-journal\n"
            "    title: A new trial\n    population: avn\n    topics: [offloading]\n  - id: williams-2007-aha")
    commit_all(kb.parent, "second")
    _reword(kb)  # left in the working tree: not part of v1..HEAD
    result = run_diff("v1", "HEAD", "--kb", str(kb), "--format", "json")
    data = json.loads(result.stdout)
    assert (data["from"], data["to"], data["version"]) == ("v1", "HEAD", {"before": "1.0.0", "after": "1.1.0"})
    assert [e["id"] for e in data["recommendations"]] == ["RT-001"]
    assert data["references"] == {"added": [{"id": "new-2025", "title": "A new trial"}], "removed": [], "changed": []}
    assert data["summary"] == {"added": 0, "retired": 0, "changed": 1, "reworded": 0, "status": 0, "metadata": 0,
                               "removed": 0, "references_added": 1, "references_removed": 0, "references_changed": 0}


def test_markdown_for_a_pull_request(tmp_path: Path) -> None:
    kb = make_repo(tmp_path / "repo", MINI)
    _dose(kb)
    _retire(kb)
    _add(kb)
    replace(kb / "kb.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
    result = run_diff("v1", "--kb", str(kb))
    assert result.exit_code == 0
    assert result.stdout == """\
## Knowledge base changes: v1 → working tree

Knowledge base version 1.0.0 → 1.1.0 (released 2026-01-15).

Recommendations: 1 added; 1 retired; 1 changed.

### Added

- **RT-002** Resistive training &lt;for&gt; the upper limb (version 1.0.0, draft)
  - when: region is upper-limb
  - action: consider resistive-training
  - strength: conditional for
  - certainty: low
  - cites mont-1996

### Retired

- **OF-001** Protected weight bearing before collapse (version 1.0.0, approved → retired)
  - retired\\_reason (after only): Replaced.

### Changed

- **RT-001** Resistive training dose (version 1.0.0 → 1.1.0, approved, minor change)
  - action
    - before: do resistive-training (intensity\\_pct\\_1rm 40-60; repetitions 10-15; sets 1-3; exercises leg-press)
    - after: do resistive-training (intensity\\_pct\\_1rm 40-70; repetitions 10-15; sets 1-3; exercises leg-press)
"""


def test_an_entry_that_fails_to_load_is_not_reported_removed(tmp_path: Path) -> None:
    kb = make_repo(tmp_path / "repo", MINI)
    replace(kb / OF, "certainty: low", "certainty: lowish")
    result = run_diff("v1", "--kb", str(kb), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["recommendations"] == []
    assert result.stderr == (f"avn-kb diff: warning: 1 loading error(s) in {kb} at the working tree; "
                             "recommendations that failed to load are left out: run avn-kb validate\n")


def test_no_change_says_so(tmp_path: Path) -> None:
    kb = make_repo(tmp_path / "repo", MINI)
    assert run_diff("v1", "--kb", str(kb)).stdout == "## Knowledge base changes: v1 → working tree\n\nNo changes.\n"


def test_shipped_knowledge_base(tmp_path: Path) -> None:
    kb = make_repo(tmp_path / "repo", SHIPPED)
    pr = kb / "recommendations" / "precautions.yaml"
    replace(pr, "    overrides: [RT-004]\n", "    overrides: [RT-004, RT-003]\n")
    assert [_shape(e) for e in entries(kb, "v1")] == [
        ("PR-006", "changed", "minor", ("1.1.0", "1.1.0"), ("approved", "approved"),
         [("overrides", "RT-004", "RT-004, RT-003")], [], [])]
    assert entries(kb, "v1", "HEAD") == []


def test_output_file_is_written_atomically(tmp_path: Path) -> None:
    kb = make_repo(tmp_path / "repo", MINI)
    _dose(kb)
    target = tmp_path / "out" / "CHANGES.md"
    target.parent.mkdir()
    result = run_diff("v1", "--kb", str(kb), "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text() == run_diff("v1", "--kb", str(kb)).stdout
    assert [p.name for p in target.parent.iterdir()] == ["CHANGES.md"]  # no temporary file left


@pytest.mark.parametrize("args, message", [
    (["no-such-ref"], "avn-kb diff: cannot read {kb} at no-such-ref: "),
    (["v1", "no-such-ref"], "avn-kb diff: cannot read {kb} at no-such-ref: "),
    (["v1", "--kb", "{missing}"], "avn-kb diff: '{missing}' does not exist; give the knowledge directory"),
])
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    kb = make_repo(tmp_path / "repo", MINI)
    missing = str(tmp_path / "nowhere")
    args = [a.format(missing=missing) for a in args]
    if "--kb" not in args:
        args += ["--kb", str(kb)]
    result = run_diff(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message.format(kb=kb, missing=missing))
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output


def test_outside_a_git_repository_exits_2(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    result = run_diff("HEAD", "--kb", str(kb))
    assert result.exit_code == 2 and result.stderr.startswith(f"avn-kb diff: cannot read {kb} at HEAD: ")


def test_a_revision_without_the_knowledge_base_exits_2(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README").write_text("empty\n")
    commit_all(repo, "no knowledge yet")
    git(repo, "tag", "empty")
    shutil.copytree(MINI, repo / "knowledge")
    result = run_diff("empty", "--kb", str(repo / "knowledge"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"avn-kb diff: {repo / 'knowledge'} at empty has no usable kb.yaml")


@pytest.mark.parametrize("text, shown", [
    ("plain words 40-60%", "plain words 40-60%"),
    ("a_b *c* [link](http://x) <script>", "a\\_b \\*c\\* \\[link\\](http://x) &lt;script&gt;"),
    ("# not a heading", "\\# not a heading"),
    ("two\n  lines | pipe", "two lines \\| pipe"),
    ("`code` ~~strike~~ &amp; back\\slash", "\\`code\\` \\~\\~strike\\~\\~ &amp;amp; back\\\\slash"),
])
def test_markdown_escaping(text: str, shown: str) -> None:
    assert md(text) == shown
