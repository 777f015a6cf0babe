"""Incremental validation: a content-addressed cache of reports and of loaded files.

Two levels, each keyed by a digest of everything its value depends on, so an entry is either
exactly what a run without the cache would compute or it is never found:

- the whole Report, keyed by every byte the loader reads (with each file's relative path and how
  reading it went: missing, a link, unreadable), the name the knowledge base is shown by, where it
  resolves to, the day review dates are judged on, the --base ref and the commit it resolves to,
  and the tool. The manifest's severity overrides and acceptances are in those bytes. A run with
  nothing changed reads and hashes the files and prints the stored report; it does not import the
  parser, the schemas or the checks (tests/test_startup.py).
- per file, its parsed, schema-checked and built result (avn_kb/load/knowledge.py FileResult),
  keyed by its kind, shown path and bytes and the tool: after editing one file only that file is
  parsed again.
- per unit of the searching checks (a recommendation, a target, a group: avn_kb/validate/units.py,
  which says why the search budget stays exact), in one table per knowledge directory and tool:
  after editing one recommendation only the questions about it are searched again.
- per recommendation, the findings of the checks that judge one recommendation at a time
  (avn_kb/validate/kept_findings.py), in one table per knowledge directory and tool, under a
  digest of what they share (vocabulary, bibliography, manifest, day): after editing one
  recommendation only it is judged again. The checks of the whole knowledge base (duplicate ids,
  cycles, unused references...) run every time; they are fast.
- the places of findings (avn_kb/validate/places.py), per digest of the file's text: a file that
  did not change is not read again to locate its findings.

"The tool" is the version, the Python version, a digest of the package's code and of the shipped
schemas, and the modification times of the site-packages directories (a dependency installed or
upgraded there changes them). Values are stored with pickle: they are only ever read back from
the user's own cache directory (avn_kb/util/store.py refuses one that is a link, someone else's or
writable by others, and every entry's digest is checked), and the unpickler accepts only the
classes this package stores, so even a planted entry cannot name a function to call.
A file's entry leaves out the file's text (the largest part of it), which the file's bytes, at
hand whenever the entry is read, decode to. The store is bounded (avn_kb/util/store.py: 200 MB,
or four times the knowledge base's bytes when that is more, so that a large one's entries fit).

Where the cache lives, first that applies: `--cache-dir DIR`; `$AVN_KB_CACHE_DIR`;
`$XDG_CACHE_HOME/avn-kb` when XDG_CACHE_HOME is set (to an absolute path); otherwise
`.avn-kb-cache` in the parent of the knowledge directory, never inside it unless asked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import avn_kb
from avn_kb.load.schemas import KINDS, schema_text
from avn_kb.load.source import RecordedSource
from avn_kb.util.store import MAX_BYTES, Store
from avn_kb.validate.cache_codec import decoded, store_value, unpickled
from avn_kb.validate.cache_tables import FindingsCache, PlacesCache, UnitCache
from avn_kb.validate.report import Report

if TYPE_CHECKING:
    from avn_kb.load.knowledge import FileResult, KnowledgeSource

DEFAULT_NAME = ".avn-kb-cache"
ENV_DIR = "AVN_KB_CACHE_DIR"
LAYOUT = b"avn-kb cache keys 1"  # bump when what a key covers changes
STORE_PER_KNOWLEDGE_BYTE = 4  # bytes of store per byte of knowledge, for a large knowledge base
def cache_location(root: Path, explicit: str | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    """Where the cache of the knowledge directory `root` lives (the module docstring gives the order)."""
    if explicit:
        return Path(explicit)
    if environ.get(ENV_DIR):
        return Path(environ[ENV_DIR])
    xdg = environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG specification says to ignore a relative path
        return Path(xdg) / "avn-kb"
    return root.resolve().parent / DEFAULT_NAME


class _Digest:
    """A SHA-256 over length-prefixed parts, so that no two sequences of parts hash alike."""

    def __init__(self, label: bytes) -> None:
        self._hash = hashlib.sha256(LAYOUT)
        self.add(label)

    def add(self, *parts: bytes | str) -> _Digest:
        for part in parts:
            data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
            self._hash.update(b"%d:" % len(data))
            self._hash.update(data)
        return self

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _sources(folder: str, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path relative to the package, path) of every module under `folder`, in a fixed order. With
    os.scandir and plain strings, not os.walk and Path: this runs on every validation."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        if entry.is_dir():
            if entry.name != "__pycache__" and not entry.is_symlink():  # as os.walk, links are not entered
                yield from _sources(entry.path, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".py"):
            yield prefix + entry.name, entry.path


@cache
def tool_fingerprint() -> bytes:
    """A digest of what the results depend on besides the knowledge: see the module docstring."""
    digest = _Digest(b"tool").add(avn_kb.__version__, sys.version)
    for relative, path in _sources(os.path.dirname(os.path.realpath(avn_kb.__file__))):
        with open(path, "rb") as handle:
            digest.add(relative, handle.read())
    for kind in KINDS:
        digest.add(kind, schema_text(kind))
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            digest.add(entry, str(os.stat(entry).st_mtime_ns))
    return digest.hexdigest().encode()


def report_key(source: RecordedSource, shown_root: str, day: dt.date, base: str | None,
               base_commit: str | None) -> str:
    """The key of the report of `source` judged on `day` (with --base `base` at `base_commit`)."""
    digest = _Digest(b"report").add(tool_fingerprint(), shown_root, str(source.root.resolve()), day.isoformat(),
                                    base or "", base_commit or "")
    for kind, finding in source.problems:
        digest.add(b"folder", kind, repr(finding))
    for relative, kind, required in source.listing:
        data, problem = source.reads[relative]
        digest.add(b"file", relative, kind, b"required" if required else b"optional")
        if problem is not None:
            digest.add(b"problem", repr(problem))
        elif data is None:
            digest.add(b"absent")
        else:
            digest.add(b"sha256 of the bytes", source.digests[relative])
    return "r" + digest.hexdigest()


def file_key(kind: str, shown: str, data_digest: bytes) -> str:
    """The key of one file's loading result (`data_digest`: the SHA-256 of the file's bytes)."""
    return "f" + _Digest(b"file").add(tool_fingerprint(), kind, shown, data_digest).hexdigest()


class FileCache:
    """The per-file level, as the loader's FileMemo. `digests`: the SHA-256 of files' bytes by the
    path they are shown under, where the caller hashed them already (a RecordedSource did)."""

    def __init__(self, store: Store, digests: Mapping[str, bytes] | None = None) -> None:
        self.store = store
        self.digests = digests or {}

    def _key(self, kind: str, shown: str, data: bytes) -> str:
        return file_key(kind, shown, self.digests.get(shown) or hashlib.sha256(data).digest())

    def get(self, kind: str, shown: str, data: bytes) -> FileResult | None:
        from avn_kb.load.knowledge import FileResult

        payload = self.store.get(self._key(kind, shown, data))
        found: FileResult | None = unpickled(payload, FileResult, decoded(data)) if payload else None
        return found

    def put(self, kind: str, shown: str, data: bytes, result: FileResult) -> None:
        # Stored as loaded, before any check has run: nothing computed later is kept with it but
        # the digests level 3 keys its tables by, pure functions of each recommendation.
        from avn_kb.validate.kept_findings import content_digest

        for rec in result.parts.get("recommendations", ()):
            content_digest(rec)
        # The text is most of an entry and the bytes it decodes from are at hand when it is read.
        document = result.loaded.documents.get(shown)
        text = document.text if document is not None and document.text == decoded(data) else None
        store_value(self.store, self._key(kind, shown, data), result, text)


def units_key(root: Path, shown_root: str, table: bytes = b"units") -> str:
    """The name of a level-3 table of the knowledge directory `root` (its keys say the rest)."""
    return table[:1].decode() + _Digest(table).add(tool_fingerprint(), shown_root, str(root.resolve())).hexdigest()


def _bound(source: RecordedSource) -> int:
    """How large the store may grow: its usual bound, or for a large knowledge base a few times its
    size, so that every file's entry, two versions of an edited one, and the tables fit (a store
    pruned below that would parse files again on every run)."""
    size = sum(len(data) for data, _ in source.reads.values() if data is not None)
    return max(MAX_BYTES, STORE_PER_KNOWLEDGE_BYTE * size)


def cached_validation(root: Path, shown_root: str, as_of: dt.date | None = None, base: str | None = None,
                      location: Path | None = None, jobs: int | None = None) -> Report:
    """The report `avn_kb.validate.runner.validate` gives, from the cache in `location` when it
    has it (None: `cache_location(root)`); a location that cannot be used is only slower. `jobs`:
    as for the runner."""
    day = as_of or dt.date.today()  # fixed once: the key and the checks judge the same day
    source = RecordedSource(root, shown_root)
    base_source: KnowledgeSource | None = None
    if base:
        from avn_kb.load.git_source import GitSource

        base_source = GitSource(root, base)
    store = Store.open(location or cache_location(root), max_bytes=_bound(source))
    key = report_key(source, shown_root, day, base, getattr(base_source, "commit", None)) if store else ""
    if store is not None:
        report: Report | None = unpickled(store.get(key), Report)
        if report is not None:
            return report
    from avn_kb.validate.runner import validate

    report = validate(root, shown_root, as_of=day, base=base, source=source,
                      memo=FileCache(store, {os.path.join(shown_root, relative): digest
                                             for relative, digest in source.digests.items()})
                      if store is not None else None, base_source=base_source,
                      units=UnitCache(store, units_key(root, shown_root)) if store is not None else None,
                      kept=FindingsCache(store, units_key(root, shown_root, b"judged")) if store is not None else None,
                      places=PlacesCache(store, units_key(root, shown_root, b"located")) if store is not None else None,
                      jobs=jobs)
    if store is not None:
        store_value(store, key, report)
        store.prune()
    return report
