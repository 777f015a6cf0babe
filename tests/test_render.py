"""`avn-kb render`: the structure of the HTML page and the Markdown file on the shipped knowledge base
and on mini (sections, citations resolving to one reference list, badges, figures), escaping of
planted markup, the graph layout, and exit codes for bad input."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from avn_kb import __version__
from avn_kb.cli.site import render
from avn_kb.load.knowledge import load_knowledge
from avn_kb.model.knowledge import KnowledgeBase
from avn_kb.output.graph import graph_of
from avn_kb.output.site.layout import layout
from avn_kb.output.text import markdown_escape as escape
from tests.conftest import MINI, SHIPPED
from tests.test_graph_export import SHIPPED_LINKS


def run_render(*args: str) -> Result:
    return CliRunner().invoke(render, list(args), catch_exceptions=False)


def load(root: Path) -> KnowledgeBase:
    return load_knowledge(root, str(root)).kb


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.text = ""

    def ancestors(self) -> list[Element]:
        found, node = [], self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)

    def find_all(self, predicate: Callable[[Element], bool]) -> list[Element]:
        found = [self] if predicate(self) else []
        for child in self.children:
            found += child.find_all(predicate)
        return found

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


VOID = {"meta", "link", "br", "img", "input", "hr", "path", "rect"}


class Tree(HTMLParser):
    """A small DOM: enough to check ids, links, nesting and text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root
        self.order: list[Element] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        self.order.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        self.order.append(element)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.current.tag == tag, f"</{tag}> closes <{self.current.tag}>"
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        text = Element("#text", {}, self.current)
        text.text = data
        self.current.children.append(text)

    def by_id(self, value: str) -> list[Element]:
        return [e for e in self.order if e.attrs.get("id") == value]

    def select(self, tag: str, cls: str | None = None) -> list[Element]:
        return [e for e in self.order if e.tag == tag and (cls is None or cls in e.classes())]


@pytest.fixture(scope="module", params=["shipped", "mini"])
def rendered(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[KnowledgeBase, str, str]:
    """(knowledge base, index.html, index.md) for the shipped knowledge base and for mini."""
    kb_dir = SHIPPED if request.param == "shipped" else MINI
    out = tmp_path_factory.mktemp(f"render-{request.param}")
    for fmt in ("html", "markdown"):
        result = run_render("--kb", str(kb_dir), "--out", str(out), "--format", fmt)
        assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out / 'index.md'}\n"
    return load(kb_dir), (out / "index.html").read_text(), (out / "index.md").read_text()


# --- HTML structure -----------------------------------------------------------------------------


def test_every_citation_anchor_exists_exactly_once(rendered: tuple[KnowledgeBase, str, str]) -> None:
    kb, page, _ = rendered
    tree = Tree(page)
    ids = Counter(e.attrs["id"] for e in tree.order if "id" in e.attrs)
    assert [i for i, n in ids.items() if n > 1] == []
    cites = [e for e in tree.order if e.tag == "a" and e.attrs.get("href", "").startswith("#ref-")]
    assert cites and all(ids[a.attrs["href"][1:]] == 1 for a in cites)
    assert all(a.all_text() == f"[{a.attrs['href'].removeprefix('#ref-')}]" for a in cites)
    listed = [li for li in tree.select("li") if li.attrs.get("id", "").startswith("ref-")]
    assert [li.attrs["id"] for li in listed] == [f"ref-{n}" for n in range(1, len(listed) + 1)]
    assert all(any(p.tag == "ol" and "refs" in p.classes() for p in li.ancestors()) for li in listed)
    # One number per reference, in order of first citation, and no reference listed uncited.
    first_seen = list(dict.fromkeys(int(a.attrs["href"].removeprefix("#ref-")) for a in cites))
    assert first_seen == list(range(1, len(listed) + 1))
    cited = {c.ref for rec in kb.recommendations for c in rec.citations}
    assert sorted(li.attrs["data-ref"] for li in listed) == sorted(cited)


def test_every_internal_link_resolves(rendered: tuple[KnowledgeBase, str, str]) -> None:
    tree = Tree(rendered[1])
    ids = {e.attrs["id"] for e in tree.order if "id" in e.attrs}
    internal = [e.attrs["href"] for e in tree.order if e.attrs.get("href", "").startswith("#")]
    assert internal and [h for h in internal if h[1:] not in ids] == []


def test_every_recommendation_appears_in_its_section_in_vocabulary_order(
        rendered: tuple[KnowledgeBase, str, str]) -> None:
    kb, page, _ = rendered
    assert kb.vocabulary is not None
    tree = Tree(page)
    sections = tree.select("section", "topic")
    assert [s.attrs["id"] for s in sections] == [f"topic-{t}" for t in kb.vocabulary.sections()]
    labels = {name: topic["label"] for name, topic in kb.vocabulary.topics.items()}
    assert [s.find_all(lambda e: e.tag == "h2")[0].all_text() for s in sections] == [
        labels[t] for t in kb.vocabulary.sections()]
    articles = tree.select("article", "rec")
    assert sorted(a.attrs["id"] for a in articles) == sorted(f"rec-{r.id}" for r in kb.recommendations)
    for rec in kb.recommendations:
        (article,) = tree.by_id(f"rec-{rec.id}")
        (section,) = [p for p in article.ancestors() if p.tag == "section"]
        assert section.attrs["id"] == f"topic-{rec.topic}"
        text = article.all_text()
        assert rec.title in text and rec.statement.strip() in text and rec.plain_language.strip() in text


def test_status_badges_strength_certainty_and_review_date(rendered: tuple[KnowledgeBase, str, str]) -> None:
    kb, page, _ = rendered
    tree = Tree(page)
    for rec in kb.recommendations:
        (article,) = tree.by_id(f"rec-{rec.id}")
        badges = article.find_all(lambda e: "badge" in e.classes())
        status = [b for b in badges if "status" in b.classes()]
        assert [(b.all_text(), f"status-{rec.status}" in b.classes()) for b in status] == [
            (rec.status.replace("-", " "), True)]
        texts = [b.all_text() for b in badges]
        assert f"{rec.strength.capitalize()} recommendation {rec.direction}" in texts
        assert f"certainty: {rec.certainty.replace('-', ' ')}" in texts
        assert ("indirect evidence" in texts) == rec.indirect
        facts = dict(zip((e.all_text() for e in article.find_all(lambda e: e.tag == "dt")),
                         (e.all_text() for e in article.find_all(lambda e: e.tag == "dd"))))
        reviewed = rec.review.get("last_reviewed") or rec.review.get("approved_on")
        assert facts["Last reviewed"] == (str(reviewed) if reviewed else "not yet reviewed")
        if rec.indirect:
            assert facts["Indirect evidence"] == rec.indirect_reason


def test_masthead_references_and_no_network(rendered: tuple[KnowledgeBase, str, str]) -> None:
    kb, page, _ = rendered
    assert kb.manifest is not None
    tree = Tree(page)
    assert tree.select("h1")[0].all_text() == kb.manifest.title
    assert tree.select("strong", "kb-version")[0].all_text() == kb.manifest.version
    assert tree.select("time", "kb-released")[0].attrs["datetime"] == str(kb.manifest.released)
    refs = {ref.id: ref for ref in kb.references}
    for li in [li for li in tree.select("li") if li.attrs.get("id", "").startswith("ref-")]:
        ref = refs[li.attrs["data-ref"]]
        hrefs = [a.attrs["href"] for a in li.find_all(lambda e: e.tag == "a")]
        assert (f"https://doi.org/{ref.doi}" in hrefs) == bool(ref.doi)
        assert (f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/" in hrefs) == bool(ref.pmid)
    # Nothing is fetched at view time: no src attributes, no external style sheets, and the only
    # links out of the page are the reference identifiers.
    assert [e.tag for e in tree.order if "src" in e.attrs] == []
    assert [e.attrs["href"] for e in tree.select("link")] == ["data:,"]
    outside = [e for e in tree.order if re.match(r"\w+:", e.attrs.get("href", "")) and e.tag != "link"]
    assert all(any("refs" in p.classes() for p in e.ancestors()) for e in outside)
    assert [s.all_text() != "" for s in tree.select("script")] == [True]


def test_figures(rendered: tuple[KnowledgeBase, str, str]) -> None:
    kb, page, _ = rendered
    assert kb.vocabulary is not None
    tree = Tree(page)
    (table,) = tree.select("table", "coverage")
    rows = table.find_all(lambda e: e.tag == "th" and e.attrs.get("scope") == "row")
    assert [r.all_text() for r in rows] == list(kb.vocabulary.fact_values("site"))
    heads = table.find_all(lambda e: e.tag == "th" and e.attrs.get("scope") == "col")
    assert [h.all_text() for h in heads][1:] == list(kb.vocabulary.fact_values("arco_stage"))
    linked = {(r.id, o) for r in kb.recommendations for o in r.overrides} | {
        (r.id, s) for r in kb.recommendations for s in r.supersedes}
    nodes = [a.attrs["href"] for a in tree.order if a.tag == "a" and "node" in a.classes()]
    assert sorted(nodes) == sorted({f"#rec-{i}" for pair in linked for i in pair})
    assert len(tree.select("path", "edge")) == len(linked)


# --- on mini, exactly ---------------------------------------------------------------------------


def test_mini_entries_in_words(tmp_path: Path) -> None:
    assert run_render("--kb", str(MINI), "--out", str(tmp_path)).exit_code == 0
    tree = Tree((tmp_path / "index.html").read_text())
    facts = {}
    for rec_id in ("OF-001", "RT-001"):
        (article,) = tree.by_id(f"rec-{rec_id}")
        facts[rec_id] = list(zip((e.all_text() for e in article.find_all(lambda e: e.tag == "dt")),
                                 (e.all_text() for e in article.find_all(lambda e: e.tag == "dd"))))
    assert facts == {
        "OF-001": [("Action", "Consider: Protected weight bearing (partial)"),
                   ("Applies when", "site is femoral-head and collapse is pre-collapse"),
                   ("Population", "avn-femoral-head"), ("Last reviewed", "2026-01-10"), ("Version", "1.0.0")],
        "RT-001": [("Action", "Do: Resistive training"),
                   ("Dose", "40\u201360 % of 1RM; 10\u201315 repetitions; 1\u20133 sets; exercises: leg-press"),
                   ("Applies when", "region is lower-limb and (not (phase is acute))"), ("Population", "avn"),
                   ("Indirect evidence", "The dose comes from guidance for people with cardiovascular disease."),
                   ("Last reviewed", "2026-01-10"), ("Version", "1.0.0")]}
    assert [c.all_text() for c in tree.select("a", "cite")] == ["[1]", "[2]"]


def test_mini_markdown_golden(tmp_path: Path) -> None:
    assert run_render("--kb", str(MINI), "--out", str(tmp_path), "--format", "markdown").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.md"]
    assert (tmp_path / "index.md").read_text() == MINI_MARKDOWN.replace("{version}", __version__)


MINI_MARKDOWN = r"""# A small knowledge base for the tests

Version **1.0.0**, released 2026-01-15.

<a id="topic-offloading"></a>

## Offloading

<a id="rec-OF-001"></a>

### OF-001 Protected weight bearing before collapse

`approved` · Conditional recommendation for · certainty low

Protected weight bearing may be offered before collapse, but not relied on alone.

> **In plain language:** Taking weight off the hip with crutches may help early on, but is rarely enough alone.

Sources: [\[1\]](#ref-1)

- Action: Consider: Protected weight bearing (partial)
- Applies when: site is femoral-head and collapse is pre-collapse
- Population: avn-femoral-head
- Last reviewed: 2026-01-10

<a id="topic-resistive-training"></a>

## Resistive training

<a id="rec-RT-001"></a>

### RT-001 Resistive training dose

`approved` · Conditional recommendation for · certainty very low · **indirect evidence**

Light to moderate resistive training, 10-15 repetitions at 40-60% of 1RM, 1-3 sets.

> **In plain language:** Lift light weights 10 to 15 times in a row, one to three rounds.

Sources: [\[2\]](#ref-2)

- Action: Do: Resistive training
- Dose: 40–60 % of 1RM; 10–15 repetitions; 1–3 sets; exercises: leg-press
- Applies when: region is lower-limb and (not (phase is acute))
- Population: avn
- Indirect evidence: The dose comes from guidance for people with cardiovascular disease.
- Last reviewed: 2026-01-10

<a id="figures"></a>

## Coverage and links between recommendations

Topics with an approved recommendation in force on 2026-01-15 (the release date) that applies, by site and arco\_stage. Lower case: may apply once more facts are known.

**O** Offloading, **R** Resistive training

| site \\ arco\_stage | I | II | IIIA | IIIB | IV |
|---|---|---|---|---|---|
| femoral-head | O r | O r | r | r | r |
| knee | r | r | r | r | r |
| humeral-head | · | · | · | · | · |

### Overrides and supersedes

No recommendation overrides or supersedes another.

<a id="references"></a>

## References

1. <a id="ref-1"></a>Mont MA, Carbone JJ, Fairbank AC. Core decompression versus nonoperative management for osteonecrosis of the hip. Clin Orthop Relat Res. 1996:169-178. [doi:10.1097/00003086-199603000-00020](https://doi.org/10.1097/00003086-199603000-00020) [PMID 8595753](https://pubmed.ncbi.nlm.nih.gov/8595753/) (cited by [OF-001](#rec-OF-001))
2. <a id="ref-2"></a>Williams MA. Resistance exercise in individuals with and without cardiovascular disease: 2007 update. Circulation. 2007. [doi:10.1161/CIRCULATIONAHA.107.185214](https://doi.org/10.1161/CIRCULATIONAHA.107.185214) [PMID 17638929](https://pubmed.ncbi.nlm.nih.gov/17638929/) (cited by [RT-001](#rec-RT-001))

*Rendered by avn-kb {version} from knowledge base `mini-kb` version 1.0.0.*
"""


# --- Markdown structure -------------------------------------------------------------------------


def test_markdown_citations_resolve_and_sections_hold_their_recommendations(
        rendered: tuple[KnowledgeBase, str, str]) -> None:
    kb, _, text = rendered
    assert kb.vocabulary is not None and kb.manifest is not None
    # The manifest's notice, when there is one, comes before everything else.
    notice = f'<a id="notice"></a>\n\n> **{escape(kb.manifest.notice)}**\n\n' if kb.manifest.notice else ""
    assert text.startswith(f"{notice}# {kb.manifest.title}\n")
    anchors = Counter(re.findall(r'<a id="([^"]+)"></a>', text))
    assert [a for a, n in anchors.items() if n > 1] == []
    cited = re.findall(r"\]\(#(ref-\d+)\)", text)
    assert cited and all(anchors[a] == 1 for a in cited)
    assert all(anchors[a] == 1 for a in re.findall(r"\]\(#(rec-[^)]+)\)", text))
    numbers = [int(n) for n in re.findall(r"^(\d+)\. <a id=\"ref-\1\"></a>", text, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == len(set(cited))
    headings = re.findall(r"^(##|###|####) (.*)$", text, re.M)
    section = None
    labels = {t["label"]: name for name, t in kb.vocabulary.topics.items()}
    placed = {}
    for level, title in headings:
        if level == "##":
            section = labels.get(title)
        elif title.split(" ")[0] in {r.id for r in kb.recommendations}:
            placed[title.split(" ")[0]] = section
    assert placed == {rec.id: rec.topic for rec in kb.recommendations}
    for ref in kb.references:
        if ref.doi and ref.id in {c.ref for r in kb.recommendations for c in r.citations}:
            assert f"(https://doi.org/{ref.doi.replace('(', '%28').replace(')', '%29')})" in text


# --- escaping -----------------------------------------------------------------------------------


@pytest.fixture
def planted(mini_copy: Path) -> Path:
    """Mini with markup in a statement, a title, a plain-language text and a citation note."""
    offloading = mini_copy / "recommendations" / "offloading.yaml"
    text = offloading.read_text()
    text = text.replace("statement: Protected weight bearing",
                        "statement: <script>alert('x')</script> *bold* Protected weight bearing")
    text = text.replace("title: Protected weight bearing before collapse",
                        'title: "Weight & <b>bearing</b> \\"quoted\\""')
    text = re.sub(r"plain_language: Taking.*", "plain_language: \"- [link](javascript:alert(1)) "
                  "<img src=x onerror=alert(1)> Taking weight off\"", text)
    text = text.replace("      - ref: mont-1996",
                        "      - ref: mont-1996\n        note: '\"><img src=x onerror=alert(2)>'")
    offloading.write_text(text)
    return mini_copy


def test_knowledge_text_is_escaped_in_html(planted: Path, tmp_path: Path) -> None:
    result = run_render("--kb", str(planted), "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site" / "index.html").read_text()
    tree = Tree(page)
    assert len(tree.select("script")) == 1 and "alert" not in tree.select("script")[0].all_text()
    assert tree.select("img") == [] and tree.select("b") == []
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; *bold*" in page
    (article,) = tree.by_id("rec-OF-001")
    assert article.find_all(lambda e: "clinician" in e.classes())[0].all_text().startswith(
        "<script>alert('x')</script> *bold* Protected")
    assert 'Weight & <b>bearing</b> "quoted"' in article.find_all(lambda e: e.tag == "h3")[0].all_text()
    (cite,) = article.find_all(lambda e: "cite" in e.classes())
    assert cite.attrs["title"] == 'mont-1996, "><img src=x onerror=alert(2)>'


def test_knowledge_text_is_escaped_in_markdown(planted: Path, tmp_path: Path) -> None:
    assert run_render("--kb", str(planted), "--out", str(tmp_path), "--format", "markdown").exit_code == 0
    text = (tmp_path / "index.md").read_text()
    assert "<script>" not in text and "<b>" not in text and "<img" not in text
    assert "&lt;script&gt;alert('x')&lt;/script&gt; \\*bold\\* Protected weight bearing" in text
    assert "### OF-001 Weight &amp; &lt;b&gt;bearing&lt;/b&gt; \"quoted\"" in text
    assert "\\[link\\](javascript:alert(1))" in text


def test_a_citation_of_an_unknown_reference_still_resolves(mini_copy: Path, tmp_path: Path) -> None:
    offloading = mini_copy / "recommendations" / "offloading.yaml"
    offloading.write_text(offloading.read_text().replace("      - ref: mont-1996",
                                                         "      - ref: nowhere-2020\n      - ref: mont-1996"))
    assert run_render("--kb", str(mini_copy), "--out", str(tmp_path)).exit_code == 0
    tree = Tree((tmp_path / "index.html").read_text())
    (missing,) = tree.by_id("ref-1")
    assert missing.attrs["data-ref"] == "nowhere-2020"
    assert "nowhere-2020: not found in references.yaml" in missing.all_text()
    assert [a.attrs["href"] for a in tree.select("a", "cite")] == ["#ref-1", "#ref-2", "#ref-3"]


@pytest.mark.parametrize(("status", "label"), [("draft", "draft"), ("submitted", "submitted"),
                                               ("under-review", "under review"), ("retired", "retired")])
def test_each_status_gets_its_badge(mini_copy: Path, tmp_path: Path, status: str, label: str) -> None:
    path = mini_copy / "recommendations" / "resistive-training.yaml"
    extra = "    retired_reason: Replaced.\n" if status == "retired" else ""
    path.write_text(path.read_text().replace("status: approved\n", f"status: {status}\n{extra}"))
    assert run_render("--kb", str(mini_copy), "--out", str(tmp_path)).exit_code == 0
    tree = Tree((tmp_path / "index.html").read_text())
    (article,) = tree.by_id("rec-RT-001")
    (badge,) = article.find_all(lambda e: "status" in e.classes())
    assert (badge.all_text(), badge.attrs["class"]) == (label, f"badge status status-{status}")
    headings = [h.all_text() for h in tree.select("h3", "retired-heading")]
    assert headings == (["Retired and not adopted"] if status == "retired" else [])


# --- what approved means ------------------------------------------------------------------------

MEANING = "approved by the editors of this knowledge base; see the notice"


def test_with_a_notice_the_first_approved_badge_says_what_approved_means(
        rendered: tuple[KnowledgeBase, str, str]) -> None:
    kb, page, text = rendered
    assert kb.manifest is not None
    tree = Tree(page)
    approved = [e for e in tree.order if {"badge", "status-approved"} <= e.classes()]
    assert approved
    explained = tree.select("span", "status-meaning")
    if not kb.manifest.notice:
        assert ([b.attrs.get("title") for b in approved], explained) == ([None] * len(approved), [])
        assert "#notice" not in page and "(#notice)" not in text
        return
    assert {b.attrs.get("title") for b in approved} == {MEANING}
    (note,) = explained
    first = next(p for p in approved[0].ancestors() if p.tag == "article")
    assert next(p for p in note.ancestors() if p.tag == "article") is first
    assert note.all_text() == f"approved: {MEANING}"
    assert [a.attrs["href"] for a in note.find_all(lambda e: e.tag == "a")] == ["#notice"]
    (target,) = tree.by_id("notice")
    assert target.all_text() == " ".join(kb.manifest.notice.split())
    first_id = first.attrs["id"]
    assert text.count(f"*approved: [{MEANING}](#notice)*") == 1
    assert text.index(f'<a id="{first_id}">') < text.index("(#notice)*") < text.index(
        '<a id="rec-', text.index(f'<a id="{first_id}">') + 1)


def test_a_notice_added_to_a_manifest_explains_the_approved_badge(mini_copy: Path, tmp_path: Path) -> None:
    manifest = mini_copy / "kb.yaml"
    manifest.write_text(manifest.read_text() + "notice: Example only.\n")
    assert run_render("--kb", str(mini_copy), "--out", str(tmp_path)).exit_code == 0
    tree = Tree((tmp_path / "index.html").read_text())
    (article,) = tree.by_id("rec-OF-001")
    (badge,) = article.find_all(lambda e: "status" in e.classes())
    assert (badge.all_text(), badge.attrs["title"]) == ("approved", MEANING)
    assert [n.all_text() for n in article.find_all(lambda e: "status-meaning" in e.classes())] == [
        f"approved: {MEANING}"]
    (rt,) = tree.by_id("rec-RT-001")
    assert rt.find_all(lambda e: "status-meaning" in e.classes()) == []


# --- the graph layout ---------------------------------------------------------------------------


def test_graph_layers_put_overriding_recommendations_above() -> None:
    result = layout(graph_of(load(SHIPPED)))
    rows: dict[float, list[str]] = {}
    for node in result.nodes:
        rows.setdefault(node.y, []).append(node.id)
    # Each row is overridden or superseded only by rows above it: the red flag and the lowest
    # platelet tier on top, the other tiers (which the red flag overrides) below them, then the
    # light programme in cytopenia (PR-005) and the post-collapse programme (RT-010), then the
    # standard dose and the quadriceps work RT-010 overrides, and the standard progression (RT-004)
    # last, under the gradual one (PR-006), beside the retired RT-003 that RT-017 supersedes; the
    # sickle cell advice (PR-012) overrides the progression and the submaximal test (RT-009).
    assert [rows[y] for y in sorted(rows)] == [
        ["OF-001", "OF-002", "PR-007", "PR-011", "PR-012"],
        ["OF-004", "PR-008", "PR-009", "PR-010", "CO-001"],
        ["PR-005", "RT-010", "RT-011", "RT-012", "RT-013", "RT-014", "RT-015", "RT-016"],
        ["PR-006", "RT-001", "RT-002", "RT-017", "RT-009"],
        ["RT-004", "RT-003"]]
    assert {(e.source_id, e.target_id, e.relation) for e in result.edges} == {
        (source, target, kind) for (source, kind), targets in SHIPPED_LINKS.items() for target in targets}


def test_graph_layout_survives_a_cycle_and_a_missing_target() -> None:
    kb = load(MINI)
    of1, rt1 = kb.recommendations
    kb = dataclasses.replace(kb, recommendations=(dataclasses.replace(of1, overrides=("RT-001", "XX-999")),
                                                  dataclasses.replace(rt1, overrides=("OF-001",))))
    result = layout(graph_of(kb))
    assert sorted((n.id, n.status) for n in result.nodes) == [("OF-001", "approved"), ("RT-001", "approved"),
                                                              ("XX-999", None)]


def test_no_links_no_graph() -> None:
    assert layout(graph_of(load(MINI))).nodes == ()


# --- the command --------------------------------------------------------------------------------


def test_render_is_deterministic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    pages = []
    for _ in range(2):
        assert run_render("--kb", str(SHIPPED), "--out", str(tmp_path)).exit_code == 0
        pages.append((tmp_path / "index.html").read_text())
    assert pages[0] == pages[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_the_knowledge_directory_is_never_written(shipped_copy: Path, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in shipped_copy.rglob("*") if p.is_file()}
    assert run_render("--kb", str(shipped_copy), "--out", str(tmp_path / "site")).exit_code == 0
    assert {p: p.read_bytes() for p in shipped_copy.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("out", ["{kb}", "{kb}/site", "{kb}/recommendations", "{kb}/../kb/./site"])
def test_out_inside_the_knowledge_directory_is_refused(mini_copy: Path, out: str) -> None:
    before = sorted(p.relative_to(mini_copy) for p in mini_copy.rglob("*"))
    result = run_render("--kb", str(mini_copy), "--out", out.format(kb=mini_copy))
    assert result.exit_code == 2
    assert "is inside the knowledge directory" in result.stderr
    assert sorted(p.relative_to(mini_copy) for p in mini_copy.rglob("*")) == before


def test_out_through_a_link_into_the_knowledge_directory_is_refused(mini_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(mini_copy, target_is_directory=True)
    result = run_render("--kb", str(mini_copy), "--out", str(tmp_path / "link" / "site"))
    assert result.exit_code == 2 and "inside the knowledge directory" in result.stderr


def test_bad_input_exits_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    cases = {
        ("--kb", str(tmp_path / "absent"), "--out", str(tmp_path / "o")): "does not exist",
        ("--kb", str(tmp_path / "file"), "--out", str(tmp_path / "o")): "is not a directory",
        ("--kb", str(tmp_path / "empty"), "--out", str(tmp_path / "o")): "cannot be used",
        ("--kb", str(MINI), "--out", str(tmp_path / "file")): "exists and is not a directory",
        ("--kb", str(MINI), "--out", str(tmp_path / "o"), "--format", "pdf"): "Invalid value for '--format'",
        ("--kb", str(MINI)): "Missing option '--out'",
    }
    for args, message in cases.items():
        result = run_render(*args)
        assert (result.exit_code, message in result.stderr) == (2, True), (args, result.stderr)
    assert not (tmp_path / "o").exists()


def test_copy_of_shipped_with_a_loading_error_is_refused_or_rendered_marked_incomplete(
        shipped_copy: Path, tmp_path: Path) -> None:
    broken = shipped_copy / "recommendations" / "broken.yaml"
    broken.write_text("topic: monitoring\nrecommendations: [\n")
    refused = run_render("--kb", str(shipped_copy), "--out", str(tmp_path / "refused"))
    assert refused.exit_code == 2
    assert f"{broken}:3:1: error AVN102" in refused.stderr
    assert "refusing to answer" in refused.stderr and "--allow-incomplete" in refused.stderr
    assert not (tmp_path / "refused").exists()
    for fmt, name in (("html", "index.html"), ("markdown", "index.md")):
        result = run_render("--kb", str(shipped_copy), "--out", str(tmp_path / fmt), "--format", fmt,
                            "--allow-incomplete")
        assert result.exit_code == 0
        page = (tmp_path / fmt / name).read_text()
        assert "INCOMPLETE: 1 loading error in " in page and "broken.yaml; recommendations from there" in page
        body = page[max(page.find("<body"), 0):]  # the HTML title names the guidance too
        assert body.index("INCOMPLETE") < body.index("Offloading, resistive training")
