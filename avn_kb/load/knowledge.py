"""Load a knowledge directory: find its files, read each safely, check it against its schema and
build the model from what is valid. A file that fails never stops the others."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from avn_kb.load import build
from avn_kb.load.positions import Positions
from avn_kb.load.safe_yaml import YamlDocument, load_yaml
from avn_kb.load.schemas import schema_findings
from avn_kb.load.source import FOLDERS, REQUIRED_FILES, DirectorySource, KnowledgeSource, file_finding
from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import GoldenCase, KnowledgeBase, Manifest, Recommendation, Reference, Source, Vocabulary
from avn_kb.util.gcpause import collector_paused


@dataclass
class Loaded:
    """The model, where the nodes of the documents it came from are (for locating findings; the
    documents' values, built into the model, are not kept) and the loading findings."""

    kb: KnowledgeBase
    documents: dict[str, Positions] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # Ids and citations of entries that failed their schema: other checks must not report them
    # as missing or unused just because their entry could not be built.
    unbuilt_ids: set[str] = field(default_factory=set)
    unbuilt_citations: set[str] = field(default_factory=set)
    declared_names: set[str] = field(default_factory=set)
    # Kinds of document of which a file could not be read or parsed: checks that would blame
    # everything pointing into such a file (every citation, when references.yaml is broken) stay quiet.
    unloaded_kinds: set[str] = field(default_factory=set)


@dataclass
class FileResult:
    """What one file adds to a Loaded (its document, findings, unbuilt names, built entries in
    `parts`): a function of the file's kind, shown path and bytes alone, so a FileMemo may keep it."""

    loaded: Loaded
    parts: dict[str, Any]


class FileMemo(Protocol):
    """Keeps the results of loading single files (avn_kb/validate/cache.py keeps them on disk)."""

    def get(self, kind: str, shown: str, data: bytes) -> FileResult | None: ...

    def put(self, kind: str, shown: str, data: bytes, result: FileResult) -> None: ...


def _no_parts() -> dict[str, Any]:
    return {"manifest": None, "vocabulary": None, "references": [], "recommendations": [], "cases": []}


@collector_paused()
def load_knowledge(root: Path | KnowledgeSource, shown_root: str, memo: FileMemo | None = None) -> Loaded:
    """Load a knowledge directory (or another source of its files, such as a git revision);
    paths in findings start with `shown_root`. A file whose result `memo` has is not parsed again."""
    source = DirectorySource(root) if isinstance(root, Path) else root
    loaded = Loaded(KnowledgeBase(shown_root, None, None, (), (), (), ()))
    parts = _no_parts()
    files: list[str] = []
    if isinstance(source, DirectorySource):
        for kind, finding in source.folder_findings(shown_root):
            loaded.findings.append(finding)
            loaded.unloaded_kinds.add(kind)
    for relative, kind, required in source.files():
        shown = os.path.join(shown_root, relative)
        data, problem = source.read(relative, shown)
        if problem is not None:
            loaded.findings.append(problem)
            loaded.unloaded_kinds.add(kind)
            continue
        if data is None:
            if required:
                loaded.findings.append(file_finding("AVN113", shown, f"required file {relative} is missing: "
                                                    "create it (see docs/format.md)"))
                # As for a file that cannot be read: what it would hold is unknown, not absent.
                loaded.unloaded_kinds.add(kind)
            continue
        files.append(shown)
        result = memo.get(kind, shown, data) if memo is not None else None
        if result is None:
            result = _load_file(kind, shown, data)
            if memo is not None:
                memo.put(kind, shown, data, result)
        _merge(loaded, parts, result)
    loaded.kb = KnowledgeBase(
        root=shown_root, manifest=parts["manifest"], vocabulary=parts["vocabulary"],
        references=tuple(parts["references"]), recommendations=tuple(parts["recommendations"]),
        cases=tuple(parts["cases"]), files=tuple(files))
    return loaded


def _load_file(kind: str, shown: str, data: bytes) -> FileResult:
    result = FileResult(Loaded(KnowledgeBase(shown, None, None, (), (), (), ())), _no_parts())
    document = load_yaml(shown, data)
    result.loaded.documents[shown] = document.positions()
    result.loaded.findings.extend(document.findings)
    if document.ok:
        _absorb(result.loaded, result.parts, kind, document)
    else:
        result.loaded.unloaded_kinds.add(kind)
    return result


def _merge(loaded: Loaded, parts: dict[str, Any], result: FileResult) -> None:
    """Adds one file's result, in file order (as if the file had been loaded into `loaded`)."""
    loaded.documents.update(result.loaded.documents)
    loaded.findings.extend(result.loaded.findings)
    loaded.unbuilt_ids.update(result.loaded.unbuilt_ids)
    loaded.unbuilt_citations.update(result.loaded.unbuilt_citations)
    loaded.declared_names.update(result.loaded.declared_names)
    loaded.unloaded_kinds.update(result.loaded.unloaded_kinds)
    for name, value in result.parts.items():
        if isinstance(value, list):
            parts[name].extend(value)
        elif value is not None:  # the manifest or the vocabulary: one file each
            parts[name] = value


def _absorb(loaded: Loaded, parts: dict[str, Any], kind: str, document: YamlDocument) -> None:
    path, value = document.path, document.value
    problems = list(schema_findings(kind, path, value))
    # A loading error there already says why the value is wrong; a warning (a YAML 1.1 word kept
    # as a string) does not: the schema must still refuse `status: yes`.
    already = {(f.line, f.column) for f in document.findings if f.severity == "error"}
    for problem in problems:
        line, column = document.locate(problem.pointer, key=problem.at_key)
        if (line, column) not in already:
            loaded.findings.append(_replace_location(problem, line, column))
    broken = {p.pointer[:2] for p in problems}
    if not isinstance(value, dict):
        return
    where = Source(path)
    if kind == "manifest":
        if not problems:
            parts["manifest"] = build.manifest(value, where)
    elif kind == "vocabulary":
        parts["vocabulary"] = _vocabulary(loaded, value, where, broken)
    elif kind == "references":
        _entries(loaded, parts["references"], value, "references", broken,
                 lambda raw, i: build.reference(raw, where.at("references", i)))
    elif kind == "recommendations":
        raw_topic = value.get("topic")
        topic = raw_topic if isinstance(raw_topic, str) else ""
        _entries(loaded, parts["recommendations"], value, "recommendations", broken,
                 lambda raw, i: build.recommendation(raw, topic, where.at("recommendations", i)))
    elif kind == "cases":
        _entries(loaded, parts["cases"], value, "cases", broken,
                 lambda raw, i: build.golden_case(raw, where.at("cases", i)))


def _replace_location(finding: Finding, line: int, column: int) -> Finding:
    return replace(finding, line=line, column=column)


def _vocabulary(loaded: Loaded, value: dict[str, Any], where: Source, broken: set[tuple[Any, ...]]) -> Vocabulary:
    for section in ("facts", "derived", "interventions", "populations", "topics"):
        body = value.get(section)
        if isinstance(body, dict):
            loaded.declared_names.update(body)

    def valid(section: str, name: str) -> bool:
        return (section, name) not in broken and (section,) not in broken

    return build.vocabulary(value, where, valid)


def _entries(loaded: Loaded, into: list[Any], value: dict[str, Any], key: str, broken: set[tuple[Any, ...]],
             make: Callable[[Any, int], Any]) -> None:
    items = value.get(key)
    if not isinstance(items, list) or (key,) in broken:
        return
    for index, raw in enumerate(items):
        if (key, index) in broken:
            if isinstance(raw, dict):
                if isinstance(raw.get("id"), str):
                    loaded.unbuilt_ids.add(raw["id"])
                for citation in raw.get("citations") or []:
                    if isinstance(citation, dict) and isinstance(citation.get("ref"), str):
                        loaded.unbuilt_citations.add(citation["ref"])
            continue
        into.append(make(raw, index))


# FOLDERS, REQUIRED_FILES and the sources live in avn_kb/load/source.py; named here as before.
__all__ = ["Loaded", "FileMemo", "FileResult", "load_knowledge", "DirectorySource", "KnowledgeSource", "FOLDERS",
           "REQUIRED_FILES", "Manifest", "Recommendation", "Reference", "GoldenCase"]
