"""Load a knowledge directory: find its files, read each safely, check it against its schema and
build the model from what is valid. A file that fails never stops the others."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from avn_kb.load import build
from avn_kb.load.safe_yaml import MAX_FILE_BYTES, YamlDocument, load_yaml
from avn_kb.load.schemas import schema_findings
from avn_kb.model.codes import CODES
from avn_kb.model.findings import Finding
from avn_kb.model.knowledge import GoldenCase, KnowledgeBase, Manifest, Recommendation, Reference, Source, Vocabulary
from avn_kb.util.gcpause import collector_paused

REQUIRED_FILES = (("kb.yaml", "manifest"), ("vocabulary.yaml", "vocabulary"), ("references.yaml", "references"))
FOLDERS = (("recommendations", "recommendations"), ("cases", "cases"))


@dataclass
class Loaded:
    """The model, the documents it came from (for locating findings) and the loading findings."""

    kb: KnowledgeBase
    documents: dict[str, YamlDocument] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # Ids and citations of entries that failed their schema: other checks must not report them
    # as missing or unused just because their entry could not be built.
    unbuilt_ids: set[str] = field(default_factory=set)
    unbuilt_citations: set[str] = field(default_factory=set)
    declared_names: set[str] = field(default_factory=set)
    # Kinds of document of which a file could not be read or parsed: checks that would blame
    # everything pointing into such a file (every citation, when references.yaml is broken) stay quiet.
    unloaded_kinds: set[str] = field(default_factory=set)


def _finding(code: str, path: str, message: str) -> Finding:
    return Finding(code, CODES[code].severity, path, 1, 1, message)


class DirectorySource:
    """Knowledge files in a directory of the working tree."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def files(self) -> Iterator[tuple[str, str, bool]]:
        """(path relative to the root, kind, required) for every knowledge file, in a stable order."""
        for name, kind in REQUIRED_FILES:
            yield name, kind, True
        for folder, kind in FOLDERS:
            directory = self.root / folder
            if self._folder_problem(folder) is not None or not directory.is_dir():
                continue
            for entry in sorted(directory.iterdir()):
                if entry.suffix in (".yaml", ".yml"):
                    yield f"{folder}/{entry.name}", kind, False

    def folder_findings(self, shown_root: str) -> list[tuple[str, Finding]]:
        """(kind, finding) for a folder that is a link leaving the knowledge directory, or a file
        where a folder is expected: reported, never read."""
        found = []
        for folder, kind in FOLDERS:
            problem = self._folder_problem(folder)
            if problem is not None:
                found.append((kind, _finding("AVN101", os.path.join(shown_root, folder), problem)))
        return found

    def _folder_problem(self, folder: str) -> str | None:
        directory = self.root / folder
        if directory.is_symlink():
            target = _resolved(directory)
            if target is None or not target.is_relative_to(self.root.resolve()):
                return (f"is a link to {target or 'a loop or missing target'}, outside the knowledge directory: "
                        "move the folder in instead of linking it")
        if os.path.lexists(directory) and not directory.is_dir():
            return "is a file where a folder is expected: rename it and make a folder of that name"
        return None

    def read(self, relative: str, shown: str) -> tuple[bytes | None, Finding | None]:
        """The file's bytes, or the finding that says why it cannot be used (None, None: absent)."""
        path, root = self.root / relative, self.root
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                target = _resolved(path)
                if target is None:
                    return None, _finding("AVN101", shown, "is a link that loops: replace it with the file")
                if not target.is_relative_to(root.resolve()):
                    return None, _finding("AVN101", shown, f"is a link to {target}, outside the knowledge "
                                          "directory: copy the file in instead of linking it")
                if not target.exists():
                    return None, _finding("AVN101", shown, f"is a link to {target}, which does not exist: "
                                          "restore the file or remove the link")
                info = os.stat(path)
            if stat.S_ISDIR(info.st_mode):
                return None, _finding("AVN101", shown, "is a directory where a YAML file is expected: "
                                      "rename or remove it")
            if not stat.S_ISREG(info.st_mode):
                return None, _finding("AVN101", shown, "is not a regular file: replace it with a YAML file")
            if info.st_size > MAX_FILE_BYTES:
                return None, _finding("AVN101", shown, f"file is {info.st_size:,} bytes, over the "
                                      f"{MAX_FILE_BYTES:,}-byte limit: split it into smaller files")
            with open(path, "rb") as handle:
                return handle.read(MAX_FILE_BYTES + 1), None
        except FileNotFoundError:
            return None, None
        except PermissionError:
            return None, _finding("AVN101", shown, "cannot be read (permission denied): make it readable")
        except OSError as err:
            return None, _finding("AVN101", shown, f"cannot be read ({err.strerror or err}): check the file")


def _resolved(path: Path) -> Path | None:
    """Where a link leads, or None for a loop (Python 3.11 raises RuntimeError there)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


class KnowledgeSource(Protocol):
    def files(self) -> Iterator[tuple[str, str, bool]]: ...

    def read(self, relative: str, shown: str) -> tuple[bytes | None, Finding | None]: ...


@collector_paused()
def load_knowledge(root: Path | KnowledgeSource, shown_root: str) -> Loaded:
    """Load a knowledge directory (or another source of its files, such as a git revision);
    paths in findings start with `shown_root`."""
    source = DirectorySource(root) if isinstance(root, Path) else root
    loaded = Loaded(KnowledgeBase(shown_root, None, None, (), (), (), ()))
    parts: dict[str, Any] = {"manifest": None, "vocabulary": None, "references": [], "recommendations": [],
                             "cases": []}
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
                loaded.findings.append(_finding("AVN113", shown, f"required file {relative} is missing: create it "
                                                "(see docs/format.md)"))
            continue
        files.append(shown)
        document = load_yaml(shown, data)
        loaded.documents[shown] = document
        loaded.findings.extend(document.findings)
        if document.ok:
            _absorb(loaded, parts, kind, document)
        else:
            loaded.unloaded_kinds.add(kind)
    loaded.kb = KnowledgeBase(
        root=shown_root, manifest=parts["manifest"], vocabulary=parts["vocabulary"],
        references=tuple(parts["references"]), recommendations=tuple(parts["recommendations"]),
        cases=tuple(parts["cases"]), files=tuple(files))
    return loaded


def _absorb(loaded: Loaded, parts: dict[str, Any], kind: str, document: YamlDocument) -> None:
    path, value = document.path, document.value
    problems = list(schema_findings(kind, path, value))
    already = {(f.line, f.column) for f in document.findings}
    for problem in problems:
        line, column = document.locate(problem.pointer, key=problem.at_key)
        if (line, column) not in already:  # the loader already said why this value is wrong
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


__all__ = ["Loaded", "load_knowledge", "DirectorySource", "KnowledgeSource", "Manifest", "Recommendation", "Reference",
           "GoldenCase"]
