"""Fixtures for the version codes (AVN410-AVN415), which only `validate --base REF` gives: the
`base` changes are committed to a git repository made of the knowledge directory, the row's edits
are made to its working tree, and the run compares the two (see tests/test_versions.py for the
rules in detail)."""

from __future__ import annotations

from tests.fixtures_per_code.rows import Fixture, Write
from tests.test_checks_semantic import KB, OF, REFS, RT, Edit, Expect, replace
from tests.test_versions import RT002, version_message

VERSION = '    version: "1.0.0"\n'
BUMP_KB = replace(KB, 'version: "1.0.0"', 'version: "1.1.0"')
MORE_SETS = replace(RT, "sets: [1, 3]", "sets: [1, 4]")
NEW_TITLE = replace(RT, "    title: Resistive training dose\n", "    title: Resistance dose\n")
# A draft beside RT-001 in the base, to remove, retire or move.
WITH_RT002 = (replace(RT, "      next_review_due: 2028-01-10\n", "      next_review_due: 2028-01-10\n" + RT002),)
WITHOUT_RT002 = replace(RT, RT002, "")
MORE_RT = "recommendations/more-resistive-training.yaml"


def rt_version(version: str) -> Edit:
    return replace(RT, VERSION, f'    version: "{version}"\n')


def at_version(code: str, version: str, message: str) -> Expect:
    return Expect(code, "error", RT, f'version: "{version}"', '"', message, ("RT-001",))


ROWS: list[Fixture] = [
    Fixture("AVN410", "dose-changed-no-bump", (MORE_SETS, BUMP_KB),
            (at_version("AVN410", "1.0.0", "RT-001 changed (action) but its version is still 1.0.0: bump it (minor "
                        "at least)"),), base=()),
    Fixture("AVN410", "dose-changed-minor-bump", (MORE_SETS, rt_version("1.1.0"), BUMP_KB), (), base=()),
    Fixture("AVN411", "dose-changed-patch-bump", (MORE_SETS, rt_version("1.0.1"), BUMP_KB),
            (at_version("AVN411", "1.0.1", version_message("RT-001", "action", "minor", "1.0.0", "1.0.1")),),
            base=()),
    Fixture("AVN411", "title-changed-patch-bump", (NEW_TITLE, rt_version("1.0.1"), BUMP_KB), (), base=()),
    Fixture("AVN412", "draft-removed", (WITHOUT_RT002, BUMP_KB),
            (Expect("AVN412", "error", RT, "topic: resistive-training", "topic", "RT-002 (version 1.0.0 at HEAD) was "
                    "removed: guidance is never deleted; restore it with status: retired and a retired_reason",
                    ("RT-002",)),), base=WITH_RT002),
    Fixture("AVN412", "draft-retired", (replace(RT, "    status: draft\n", "    status: retired\n    retired_reason: "
                                                "Not needed.\n"), BUMP_KB), (), base=WITH_RT002),
    Fixture("AVN413", "moved-to-another-topic",
            (WITHOUT_RT002, replace(OF, "      next_review_due: 2028-01-10\n", "      next_review_due: 2028-01-10\n"
                                    + RT002),
             replace(REFS, "    topics: [resistive-training, exercise-prescription]\n",
                     "    topics: [resistive-training, exercise-prescription, offloading]\n"), BUMP_KB),
            (Expect("AVN413", "error", OF, "- id: RT-002", "RT-002", "RT-002 now means something else "
                    "(resistive-training/resistive-training at HEAD, offloading/resistive-training now): give the new "
                    "content a new id and retire RT-002 (the new one supersedes it)", ("RT-002",)),), base=WITH_RT002),
    Fixture("AVN413", "moved-to-another-file-of-its-topic",
            (WITHOUT_RT002, Write(MORE_RT, "topic: resistive-training\nrecommendations:\n" + RT002), BUMP_KB), (),
            base=WITH_RT002),
    Fixture("AVN414", "approved-back-to-draft", (replace(RT, "    status: approved\n", "    status: draft\n"), BUMP_KB),
            (Expect("AVN414", "error", RT, "status: draft", "draft", "RT-001 went from approved (at HEAD) to draft: "
                    "approved guidance cannot go back to draft; write a new recommendation that supersedes it instead",
                    ("RT-001",)),), base=()),
    Fixture("AVN414", "approved-to-retired", (replace(RT, "    status: approved\n", "    status: retired\n    "
                                                      "retired_reason: Replaced by newer advice.\n"), BUMP_KB), (),
            base=()),
    Fixture("AVN415", "manifest-not-bumped", (NEW_TITLE, rt_version("1.0.1")),
            (Expect("AVN415", "error", KB, "version:", '"1.0.0"', "the knowledge (recommendations, references or "
                    "vocabulary) changed since HEAD but kb.yaml's version is 1.0.0 (was 1.0.0): bump it"),), base=()),
    Fixture("AVN415", "manifest-bumped", (NEW_TITLE, rt_version("1.0.1"),
                                          replace(KB, 'version: "1.0.0"', 'version: "1.0.1"')), (), base=()),
]
