"""`avn-kb graph`: exact output on the small fixture, the edges of the shipped knowledge base, and
labels escaped for each format (DOT checked by Graphviz itself where it is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from avn_kb.cli.editorial import graph
from avn_kb.load.knowledge import load_knowledge
from avn_kb.output.graph import dot_string, graph_of, mermaid_text
from tests.conftest import MINI, SHIPPED


def run_graph(*args: str) -> Result:
    return CliRunner().invoke(graph, list(args), catch_exceptions=False)


def test_mermaid_on_the_small_fixture() -> None:
    result = run_graph("--kb", str(MINI), "--format", "mermaid")
    assert result.exit_code == 0
    assert result.stdout == """\
flowchart LR
  n1["OF-001<br/>approved<br/>Protected weight bearing before collapse"]
  n2["RT-001<br/>approved<br/>Resistive training dose"]
  n3[/"mont-1996<br/>Mont MA 1996"/]
  n4[/"williams-2007-aha<br/>Williams MA 2007"/]
  n1 -.->|cites| n3
  n2 -.->|cites| n4
  classDef approved fill:#d8f0d8,stroke:#2e7d32
  class n1,n2 approved
  classDef reference fill:#eef2ff,stroke:#5560aa
  class n3,n4 reference
"""


def test_dot_on_the_small_fixture() -> None:
    result = run_graph("--kb", str(MINI), "--format", "dot")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == 'digraph "avn_kb" {' and lines[-1] == "}"
    assert lines[4:] == [
        '  "rec:OF-001" [label="OF-001\\napproved\\nProtected weight bearing before collapse", shape=box, '
        'style="rounded,filled", fillcolor="#d8f0d8"];',
        '  "rec:RT-001" [label="RT-001\\napproved\\nResistive training dose", shape=box, style="rounded,filled", '
        'fillcolor="#d8f0d8"];',
        '  "ref:mont-1996" [label="mont-1996\\nMont MA 1996", shape=note, fillcolor="#eef2ff", style=filled];',
        '  "ref:williams-2007-aha" [label="williams-2007-aha\\nWilliams MA 2007", shape=note, fillcolor="#eef2ff", '
        'style=filled];',
        '  "rec:OF-001" -> "ref:mont-1996" [label="cites", style=dashed, color="#7777aa"];',
        '  "rec:RT-001" -> "ref:williams-2007-aha" [label="cites", style=dashed, color="#7777aa"];',
        "}"]


# The shipped links in file order. Every loading recommendation is overridden by the red flag
# (PR-007) and the two lowest platelet tiers (PR-010, PR-011); the standard dose and progression
# also by the light programme in cytopenia (PR-005) and the 31-50 tier (PR-009). The red flag also
# overrides the tiers that allow exercise (PR-008 to PR-010); the post-collapse programme (RT-010)
# overrides the pre-collapse quadriceps work (RT-017), which supersedes the retired RT-003.
LOADING = ["RT-017", "RT-004", "RT-009", "RT-010", "RT-011", "RT-012", "RT-013", "RT-014", "RT-015", "RT-016"]
SHIPPED_LINKS = {
    ("OF-001", "supersedes"): ["OF-004"],
    ("OF-002", "supersedes"): ["OF-004"],
    ("PR-005", "overrides"): ["RT-001", "RT-002", "RT-004", "RT-009", "PR-006"],
    ("PR-006", "overrides"): ["RT-004"],
    ("PR-007", "overrides"): ["RT-001", "RT-002", *LOADING, "CO-001", "PR-005", "PR-006", "PR-008", "PR-009", "PR-010"],
    ("PR-009", "overrides"): ["RT-001", "RT-002", "RT-004", "RT-009", "PR-006"],
    ("PR-010", "overrides"): ["RT-001", "RT-002", *LOADING, "PR-005", "PR-006"],
    ("PR-011", "overrides"): ["RT-001", "RT-002", *LOADING, "CO-001", "PR-005", "PR-006"],
    ("PR-012", "overrides"): ["RT-004", "RT-009"],
    ("RT-010", "overrides"): ["RT-017"],
    ("RT-017", "supersedes"): ["RT-003"],
}


def test_shipped_overrides_and_supersedes() -> None:
    kb = load_knowledge(SHIPPED, "knowledge").kb
    built = graph_of(kb)
    links = [(e.source, e.relation, e.target) for e in built.edges if e.relation != "cites"]
    assert links == [(f"rec:{source}", relation, f"rec:{target}")
                     for (source, relation), targets in SHIPPED_LINKS.items() for target in targets]
    cited = {(r.id, c.ref) for r in kb.recommendations for c in r.citations}
    assert {(e.source[4:], e.target[4:]) for e in built.edges if e.relation == "cites"} == cited
    assert len(built.nodes) == len(kb.recommendations) + len(kb.references)
    assert {n.status for n in built.nodes} == {"approved", "retired", "draft", "reference"}


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_shipped_in_each_format(fmt: str, tmp_path: Path) -> None:
    target = tmp_path / f"graph.{fmt}"
    result = run_graph("--kb", str(SHIPPED), "--format", fmt, "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    text = target.read_text(encoding="utf-8")
    expected_edges = len(graph_of(load_knowledge(SHIPPED, "knowledge").kb).edges)
    arrows = [line for line in text.splitlines() if " -> " in line or "->|" in line or "=>|" in line]
    assert len(arrows) == expected_edges


def test_a_missing_target_is_drawn(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    path = kb / "recommendations" / "offloading.yaml"
    path.write_text(path.read_text().replace("    citations:\n", "    supersedes: [XX-999]\n    citations:\n", 1))
    built = graph_of(load_knowledge(kb, "kb").kb)
    assert [(n.key, n.status) for n in built.nodes if n.status == "missing"] == [("rec:XX-999", "missing")]
    assert ("rec:OF-001", "rec:XX-999", "supersedes") in [(e.source, e.target, e.relation) for e in built.edges]


@pytest.mark.parametrize("text, quoted", [
    ("plain", '"plain"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("back\\slash \\N", '"back\\\\slash \\\\N"'),
    ("two\nlines", '"two\\nlines"'),
    ("{<html>}; -> x", '"{<html>}; -> x"'),
])
def test_dot_string_escaping(text: str, quoted: str) -> None:
    assert dot_string(text) == quoted


@pytest.mark.parametrize("text, label", [
    ("RT-001 approved", "RT-001 approved"),
    ('a "quote"', "a #34;quote#34;"),
    ("<b>x</b> [y] {z} |w|", "#60;b#62;x#60;/b#62; #91;y#93; #123;z#125; #124;w#124;"),
    ("#1; `tick` & é…", "#35;1#59; #96;tick#96; #38; #233;#8230;"),
    ("two\n lines", "two lines"),
])
def test_mermaid_label_escaping(text: str, label: str) -> None:
    assert mermaid_text(text) == label


def test_graphviz_reads_back_the_exact_labels(tmp_path: Path) -> None:
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz `dot` is not installed (apt-get install graphviz) to parse the DOT output")
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    path = kb / "recommendations" / "offloading.yaml"
    # YAML single quotes keep backslashes as they are: the title is  Quote " back\slash \N <b> {x}
    path.write_text(path.read_text().replace("title: Protected weight bearing before collapse",
                                             """title: 'Quote " back\\slash \\N <b> {x}'""", 1))
    source = run_graph("--kb", str(kb), "--format", "dot").stdout
    done = subprocess.run([dot, "-Tjson"], input=source, capture_output=True, text=True, check=True, timeout=60)
    labels = {o["name"]: o["label"] for o in json.loads(done.stdout)["objects"]}
    assert labels["rec:OF-001"] == 'OF-001\\napproved\\nQuote " back\\\\slash \\\\N <b> {x}'
    assert labels["ref:mont-1996"] == "mont-1996\\nMont MA 1996"


@pytest.mark.parametrize("args, message", [
    (["--kb", "nowhere", "--format", "dot"], "avn-kb graph: 'nowhere' does not exist"),
    (["--kb", str(MINI)], "Usage: "),
    (["--kb", str(MINI), "--format", "svg"], "Usage: "),
])
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = run_graph(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and "Traceback" not in result.output
