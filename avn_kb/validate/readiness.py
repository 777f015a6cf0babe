"""Whether a knowledge base may be answered from. Knowledge that did not load is not answered
from: a file that cannot be read or parsed, an entry that fails its schema, or a term the
vocabulary does not declare leaves recommendations out (or reads them wrongly), and an answer
without them could be confidently wrong. `load_for_answers` gives the knowledge base with those
problems, the same findings `avn-kb validate` reports for them (codes AVN1xx at error level); the
commands refuse to answer while there are any, unless asked to answer anyway, and then every output
says it is incomplete."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from avn_kb.load.knowledge import KnowledgeSource, load_knowledge
from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.util.gcpause import collector_paused
from avn_kb.validate.runner import run_checks

# The checks whose findings say that something did not load or is not declared (AVN1xx); the
# logic, evidence and lifecycle checks judge knowledge that did load and are left to validate.
LOADING_CHECKS = ("duplicate-ids", "conditions", "actions", "declared-terms", "golden-cases")


@dataclass(frozen=True)
class Readiness:
    """A knowledge base and the loading, schema and vocabulary errors that make answers from it
    incomplete."""

    kb: KnowledgeBase
    problems: tuple[Finding, ...]

    @property
    def incomplete(self) -> bool:
        return bool(self.problems)

    @property
    def files(self) -> tuple[str, ...]:
        """The files with problems, in order."""
        return tuple(dict.fromkeys(f.path for f in self.problems))


def loading_errors(findings: list[Finding]) -> tuple[Finding, ...]:
    """The findings that leave knowledge unloaded or unread: AVN1xx, error level, not accepted."""
    return tuple(f for f in findings if f.code.startswith("AVN1") and f.severity == "error" and f.accepted is None)


@collector_paused()
def load_for_answers(root: Path | KnowledgeSource, shown_root: str) -> Readiness:
    """Load the knowledge directory `root` (or another source of its files; shown as `shown_root`)
    and judge whether it loaded whole."""
    loaded = load_knowledge(root, shown_root)
    return Readiness(loaded.kb, loading_errors(run_checks(loaded, LOADING_CHECKS)))
