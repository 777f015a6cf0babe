"""Hostile input, end to end.

Every input of the corpus (tests/hostile/files/, plus big files, links, directories and FIFOs made
here at test time) is placed into a copy of the mini knowledge base, and `avn-kb validate` must
report what tests/hostile/expected.yaml records: the code at the file, line and column, with a
message that says what to do; exit 1 (0 when only warnings, 1 with --strict); no traceback; nothing
executed, written or fetched; the other files still validated (a second, independent defect planted
in them is reported too); and, for the big, deep and explosive inputs, 2 s and 300 MB in a real
subprocess. Then the same rigour for the cases `avn-kb query` reads: a file, stdin, `--set` and
`--batch`.

Known defects are strict xfails whose reason says what is wrong; docs/reliability.md lists them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml

import avn_kb.load.knowledge
import avn_kb.load.source
from avn_kb.load.safe_yaml import MAX_FILE_BYTES
from avn_kb.model.codes import CODES
from tests.conftest import MINI, ROOT, run_cli

HOSTILE = Path(__file__).resolve().parent / "hostile"
FILES = HOSTILE / "files"
# The child's own CPU seconds: what a hostile input can make it spend, whatever else the machine
# is running (wall time under a loaded CI machine says more about the neighbours).
CPU_LIMIT_S = 2.0
RSS_LIMIT_MB = 300
# A runaway child is stopped here; the safety cap keeps it from hurting the machine meanwhile.
KILL_AFTER_S = 10.0  # a hang, on any machine
ADDRESS_SPACE_CAP = 1 << 30

# ------------------------------------------------------------------------------------------------
# The manifest
# ------------------------------------------------------------------------------------------------

MANIFEST_KEYS = {"file", "generate", "slot", "findings", "says", "exit", "limits", "decoys", "others", "xfail"}
SLOTS = {"recommendations", "cases", "kb.yaml", "vocabulary.yaml", "references.yaml"}
ASPECTS = {"located", "exact", "others", "limits"}

Located = tuple[str, int, int]


@dataclass(frozen=True)
class Entry:
    """One hostile input and what validate must say about it."""

    name: str
    generated: bool
    slot: str
    findings: tuple[Located, ...] | None  # None: not checked in-process (too slow to load on purpose)
    says: str | None
    exit: int
    limits: bool
    decoys: tuple[str, ...]
    others: tuple[tuple[str, str, int, int], ...] | None  # None: other files may say anything
    xfail: dict[str, str] = field(default_factory=dict)


def _entry(raw: dict[str, Any]) -> Entry:
    assert set(raw) <= MANIFEST_KEYS, f"unknown keys {set(raw) - MANIFEST_KEYS} in {raw}"
    assert ("file" in raw) != ("generate" in raw), raw
    assert raw["slot"] in SLOTS, raw
    assert set(raw.get("xfail", {})) <= ASPECTS, raw
    findings = raw.get("findings")
    others = raw.get("others", [])
    return Entry(
        name=raw.get("file") or raw["generate"], generated="generate" in raw, slot=raw["slot"],
        findings=None if findings is None else tuple((c, int(l), int(k)) for c, l, k in findings),
        says=raw.get("says"), exit=raw.get("exit", 1), limits=bool(raw.get("limits", False)),
        decoys=tuple(raw.get("decoys", _default_decoys(raw["slot"]))),
        others=None if others == "any" else tuple((p, c, int(l), int(k)) for p, c, l, k in others),
        xfail=dict(raw.get("xfail", {})))


# Second, independent defects planted in other files: (file, text, replacement, expected finding).
# Each depends on its own file only, so that no hostile input can excuse it: a schema error in a
# recommendation and in a golden case, and a malformed PMID (a check on the loaded bibliography).
DECOYS: dict[str, tuple[str, str, str, Located]] = {
    "recommendations": ("recommendations/resistive-training.yaml", '    version: "1.0.0"\n', "    version: 1.0\n",
                        ("AVN111", 5, 14)),
    "cases": ("cases/basic.yaml", "  - id: CASE-002\n", "  - id: case-2\n", ("AVN111", 8, 9)),
    "references": ("references.yaml", 'PMID: "8595753"', 'PMID: "PMID8595753"', ("AVN204", 11, 11)),
}


def _default_decoys(slot: str) -> tuple[str, ...]:
    return tuple(name for name, (path, _, _, _) in DECOYS.items() if path != slot)

ENTRIES = [_entry(raw) for raw in yaml.safe_load((HOSTILE / "expected.yaml").read_text(encoding="utf-8"))]


def _params(aspect: str, select: Callable[[Entry], bool]) -> list[Any]:
    marks = {e.name: [pytest.mark.xfail(strict=True, reason=e.xfail[aspect])] if aspect in e.xfail else []
             for e in ENTRIES}
    return [pytest.param(e, id=e.name, marks=marks[e.name]) for e in ENTRIES if select(e)]


def test_manifest_describes_every_corpus_file_and_every_generator() -> None:
    committed = sorted(p.name for p in FILES.iterdir())
    described = sorted(e.name for e in ENTRIES if not e.generated)
    assert len(committed) >= 40
    assert committed == described
    assert len({e.name for e in ENTRIES}) == len(ENTRIES)
    assert sorted(e.name for e in ENTRIES if e.generated) == sorted(GENERATORS)
    # Big inputs are generated at test time; the repository keeps only small files.
    assert all((FILES / name).stat().st_size <= 100_000 for name in committed)
    assert all(code in CODES for e in ENTRIES for code, _, _ in e.findings or ())


# ------------------------------------------------------------------------------------------------
# Generated inputs: (knowledge copy, a directory outside it) -> path of the input, relative
# ------------------------------------------------------------------------------------------------

def _offloading_entry() -> bytes:
    return (MINI / "recommendations" / "offloading.yaml").read_bytes().split(b"recommendations:\n")[1]


def _oversized_50mb(kb: Path, outside: Path) -> str:
    relative = "recommendations/oversized-50mb.yaml"
    entry = _offloading_entry()
    with open(kb / relative, "wb") as out:
        out.write(b"topic: offloading\nrecommendations:\n")
        while out.tell() < 50 * 1024 * 1024:
            out.write(entry)
    return relative


def _oversized_by_one_byte(kb: Path, outside: Path) -> str:
    relative = "cases/oversized-by-one-byte.yaml"
    head = b"cases:\n  - id: CASE-101\n    title: Big\n    facts: {site: knee}\n    expect: {apply: [RT-001]}\n# "
    (kb / relative).write_bytes(head + b"x" * (MAX_FILE_BYTES + 1 - len(head)))
    return relative


def long_line_recommendation() -> str:
    """One recommendation on one 1 MB line, its last key a duplicate."""
    rec = {"id": "OF-002", "version": "1.0.0", "status": "approved", "title": "Knee",
           "statement": ("word " * 200_000).strip(), "plain_language": "Crutches may help.",
           "population": "avn", "when": {"site": "knee", "collapse": "pre-collapse"},
           "action": {"kind": "consider", "target": "protected-weight-bearing", "level": "partial"},
           "strength": {"level": "conditional", "direction": "for"}, "certainty": "very-low",
           "evidence": {"indirect": True, "reason": "From the hip."}, "citations": [{"ref": "mont-1996"}],
           "review": {"approved_on": "2026-01-10", "reviewers": ["rev-a", "rev-b"]}}
    return "topic: offloading\nrecommendations:\n  - " + json.dumps(rec)[:-1] + ', "status": "draft"}\n'


def _long_line_1mb(kb: Path, outside: Path) -> str:
    relative = "recommendations/long-line-1mb.yaml"
    (kb / relative).write_text(long_line_recommendation(), encoding="utf-8")
    return relative


def _long_line_15mb(kb: Path, outside: Path) -> str:
    relative = "cases/long-line-15mb.yaml"
    head = b"cases:\n  - id: CASE-101\n    title: Knee\n    description: "
    (kb / relative).write_bytes(head + b"x" * 15_000_000 + b"\xff\n")
    return relative


def _many_tiny_nodes(kb: Path, outside: Path) -> str:
    relative = "recommendations/many-tiny-nodes.yaml"
    (kb / relative).write_bytes(b"topic: offloading\nrecommendations: []\nnote: [" + b"1," * 2_000_000 + b"1]\n")
    return relative


def _nodes_just_under_the_limit(kb: Path, outside: Path) -> str:
    """The largest file the node limit lets through, with one schema error to locate."""
    relative = "recommendations/nodes-just-under-the-limit.yaml"
    from avn_kb.load.safe_yaml import MAX_NODES

    # The root mapping, three keys, two values and the list start, then the items: MAX_NODES in all.
    items = MAX_NODES - 7
    (kb / relative).write_bytes(b"topic: offloading\nrecommendations: []\nnote: [" + b"1," * (items - 1) + b"1]\n")
    return relative


def _symlink_outside(kb: Path, outside: Path) -> str:
    relative = "recommendations/symlink-outside.yaml"
    (outside / "secret.yaml").write_bytes(b"topic: offloading\nrecommendations: []\n")
    (kb / relative).symlink_to(outside / "secret.yaml")
    return relative


def _symlink_required_file_outside(kb: Path, outside: Path) -> str:
    shutil.move(kb / "references.yaml", outside / "references.yaml")
    (kb / "references.yaml").symlink_to(outside / "references.yaml")
    return "references.yaml"


def _symlink_folder_outside(kb: Path, outside: Path) -> str:
    (outside / "recommendations").mkdir()
    shutil.move(kb / "recommendations" / "offloading.yaml", outside / "recommendations" / "offloading.yaml")
    shutil.rmtree(kb / "recommendations")
    (kb / "recommendations").symlink_to(outside / "recommendations", target_is_directory=True)
    return "recommendations"


def _symlink_dangling(kb: Path, outside: Path) -> str:
    relative = "recommendations/symlink-dangling.yaml"
    (kb / relative).symlink_to(kb / "recommendations" / "deleted-long-ago.yaml")
    return relative


def _symlink_loop(kb: Path, outside: Path) -> str:
    relative = "recommendations/symlink-loop.yaml"
    (kb / relative).symlink_to(kb / relative)
    return relative


def _unreadable_chmod_000(kb: Path, outside: Path) -> str:
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading (unreadable-simulated covers it)")
    (kb / "references.yaml").chmod(0)
    return "references.yaml"


def _unreadable_simulated(kb: Path, outside: Path) -> str:
    return "references.yaml"  # the runner makes opening it fail with EACCES


def _directory_for_vocabulary(kb: Path, outside: Path) -> str:
    (kb / "vocabulary.yaml").unlink()
    (kb / "vocabulary.yaml").mkdir()
    return "vocabulary.yaml"


def _directory_in_recommendations(kb: Path, outside: Path) -> str:
    relative = "recommendations/directory-in-recommendations.yaml"
    (kb / relative).mkdir()
    return relative


def _fifo_in_recommendations(kb: Path, outside: Path) -> str:
    relative = "recommendations/fifo-in-recommendations.yaml"
    os.mkfifo(kb / relative)  # opening it for reading would block forever
    return relative


def _file_for_recommendations_folder(kb: Path, outside: Path) -> str:
    shutil.rmtree(kb / "recommendations")
    (kb / "recommendations").write_text("topic: offloading\n", encoding="utf-8")
    return "recommendations"


GENERATORS: dict[str, Callable[[Path, Path], str]] = {
    "oversized-50mb": _oversized_50mb,
    "oversized-by-one-byte": _oversized_by_one_byte,
    "long-line-1mb": _long_line_1mb,
    "long-line-15mb": _long_line_15mb,
    "many-tiny-nodes": _many_tiny_nodes,
    "nodes-just-under-the-limit": _nodes_just_under_the_limit,
    "symlink-outside": _symlink_outside,
    "symlink-required-file-outside": _symlink_required_file_outside,
    "symlink-folder-outside": _symlink_folder_outside,
    "symlink-dangling": _symlink_dangling,
    "symlink-loop": _symlink_loop,
    "unreadable-chmod-000": _unreadable_chmod_000,
    "unreadable-simulated": _unreadable_simulated,
    "directory-for-vocabulary": _directory_for_vocabulary,
    "directory-in-recommendations": _directory_in_recommendations,
    "fifo-in-recommendations": _fifo_in_recommendations,
    "file-for-recommendations-folder": _file_for_recommendations_folder,
}


def place(entry: Entry, root: Path, decoys: bool) -> tuple[Path, str]:
    """A fresh copy of the mini knowledge base under `root` holding the hostile input (and the
    decoys when asked); returns the copy and the input's path relative to it."""
    kb, outside = root / "kb", root / "outside"
    shutil.copytree(MINI, kb)
    outside.mkdir()
    if decoys:
        for name in entry.decoys:
            relative, old, new, _ = DECOYS[name]
            text = (kb / relative).read_text(encoding="utf-8")
            assert old in text
            (kb / relative).write_text(text.replace(old, new, 1), encoding="utf-8")
    if entry.generated:
        return kb, GENERATORS[entry.name](kb, outside)
    relative = f"{entry.slot}/{entry.name}" if entry.slot in ("recommendations", "cases") else entry.slot
    (kb / relative).write_bytes((FILES / entry.name).read_bytes())
    return kb, relative


# ------------------------------------------------------------------------------------------------
# Running validate in-process, with a watch on side effects
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Validation:
    exit_code: int
    findings: list[dict[str, Any]]
    stdout: str
    stderr: str
    side_effects: list[str]


def _snapshot(directory: Path) -> dict[str, tuple[int, int, int]]:
    """What a directory holds, without reading anything (FIFOs and links stay untouched)."""
    found = {}
    for base, dirs, files in os.walk(directory):
        for name in dirs + files:
            info = os.lstat(os.path.join(base, name))
            found[os.path.relpath(os.path.join(base, name), directory)] = (info.st_mode, info.st_size,
                                                                          info.st_mtime_ns)
    return found


@contextlib.contextmanager
def _denied(path: Path) -> Iterator[None]:
    """Opening `path` fails as it would for a file without read permission (tests run as root,
    where chmod 000 does not stop reading)."""
    real_open = open

    def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    with mock.patch.object(avn_kb.load.source, "open", guarded, create=True):
        yield


def validate_guarded(kb: Path, workdir: Path, *extra: str, unreadable: Path | None = None) -> Validation:
    """`avn-kb validate --format json` in-process, from an empty working directory, with the
    network cut; records anything written to the working directory or the knowledge directory,
    and any attempt to open a connection."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(f"network access {args!r}")
        raise OSError("network access is not allowed in this test")

    before = _snapshot(kb)
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.chdir(workdir))
        stack.enter_context(mock.patch.object(socket.socket, "connect", refuse))
        stack.enter_context(mock.patch.object(socket, "getaddrinfo", refuse))
        if unreadable is not None:
            stack.enter_context(_denied(unreadable))
        result = run_cli("validate", str(kb), "--format", "json", *extra)
    effects = attempts + [f"wrote {name} in the working directory" for name in os.listdir(workdir)]
    if _snapshot(kb) != before:
        effects.append("the knowledge directory changed")
    findings = json.loads(result.stdout)["findings"] if result.stdout.startswith("{") else []
    return Validation(result.exit_code, findings, result.stdout, result.stderr, effects)


class Runs:
    """Each entry validated once alone and once with decoys, shared by the tests that look at it."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.memo: dict[tuple[str, bool, tuple[str, ...]], tuple[Validation, Path, str]] = {}

    def get(self, entry: Entry, decoys: bool, *extra: str) -> tuple[Validation, Path, str]:
        key = (entry.name, decoys, extra)
        if key not in self.memo:
            root = self.factory.mktemp("hostile")
            kb, relative = place(entry, root, decoys)
            workdir = root / "cwd"
            workdir.mkdir()
            unreadable = kb / relative if entry.name == "unreadable-simulated" else None
            self.memo[key] = (validate_guarded(kb, workdir, *extra, unreadable=unreadable), kb, relative)
        return self.memo[key]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(tmp_path_factory)


def under(finding: dict[str, Any], kb: Path, relative: str) -> bool:
    """Whether a finding is about the hostile input (for a folder: about anything inside it)."""
    target = f"{kb}/{relative}"
    return finding["path"] == target or finding["path"].startswith(target + "/")


def no_traceback(run: Validation) -> None:
    assert "Traceback" not in run.stdout + run.stderr
    assert "internal error" not in run.stderr


# ------------------------------------------------------------------------------------------------
# The corpus, in-process
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry", _params("located", lambda e: e.findings is not None))
def test_hostile_input_gives_its_located_finding(runs: Runs, entry: Entry) -> None:
    assert entry.findings is not None
    run, kb, relative = runs.get(entry, decoys=False)
    no_traceback(run)
    assert run.side_effects == []
    assert run.exit_code == entry.exit, run.stdout + run.stderr
    mine = [f for f in run.findings if under(f, kb, relative)]
    if not entry.findings:
        assert mine == []
        return
    first = mine[0] if mine else {}
    assert (first.get("code"), first.get("line"), first.get("column")) == entry.findings[0], mine
    assert first["severity"] == CODES[first["code"]].severity
    assert entry.says is not None and entry.says in first["message"], first["message"]
    located = [(f["code"], f["line"], f["column"]) for f in mine]
    assert [f for f in entry.findings if f in located] == list(entry.findings)
    if entry.exit == 0:  # warnings only: --strict turns them into a failure
        strict, _, _ = runs.get(entry, False, "--strict")
        assert strict.exit_code == 1


@pytest.mark.parametrize("entry", _params("exact", lambda e: e.findings is not None))
def test_nothing_else_is_reported_in_the_hostile_file(runs: Runs, entry: Entry) -> None:
    run, kb, relative = runs.get(entry, decoys=False)
    located = [(f["code"], f["line"], f["column"]) for f in run.findings if under(f, kb, relative)]
    assert located == list(entry.findings or ())


@pytest.mark.parametrize("entry", _params("others", lambda e: e.findings is not None))
def test_other_files_are_still_validated(runs: Runs, entry: Entry) -> None:
    run, kb, relative = runs.get(entry, decoys=True)
    no_traceback(run)
    assert run.side_effects == []
    assert run.exit_code == 1
    mine = [(f["code"], f["line"], f["column"]) for f in run.findings if under(f, kb, relative)]
    alone, alone_kb, _ = runs.get(entry, decoys=False)
    assert mine == [(f["code"], f["line"], f["column"]) for f in alone.findings if under(f, alone_kb, relative)]
    elsewhere = sorted((os.path.relpath(f["path"], kb), f["code"], f["line"], f["column"])
                       for f in run.findings if not under(f, kb, relative))
    decoys = sorted((DECOYS[name][0], *DECOYS[name][3]) for name in entry.decoys)
    assert [d for d in decoys if d in elsewhere] == decoys, elsewhere
    if entry.others is not None:
        assert elsewhere == sorted(decoys + list(entry.others))


# ------------------------------------------------------------------------------------------------
# Limits, in a real subprocess
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limited:
    exit_code: int | None  # None: stopped at KILL_AFTER_S
    wall_s: float
    cpu_s: float
    rss_mb: float
    stdout: str
    stderr: str

    def within_limits(self) -> bool:
        return self.exit_code is not None and self.cpu_s < CPU_LIMIT_S and self.rss_mb < RSS_LIMIT_MB

    def __str__(self) -> str:
        return (f"exit {self.exit_code}, {self.wall_s:.2f} s wall, {self.cpu_s:.2f} s CPU, {self.rss_mb:.0f} MB; "
                f"stderr: {self.stderr[:300]!r}")


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))


# Runs avn-kb and, as it exits, writes the peak resident memory of this program itself (VmHWM of
# its own address space). The kernel's ru_maxrss would not do: it keeps the peak of the address
# space the child had before exec, a copy of this test process, which grows as the suite runs.
_MEASURED = """
import atexit, os, runpy, sys
def _report():
    with open("/proc/self/status") as status, open(os.environ["AVN_KB_PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(_report)
sys.argv = ["avn-kb", *sys.argv[1:]]
runpy.run_module("avn_kb", run_name="__main__")
"""


def run_limited(args: list[str], stdin: Path | None = None) -> Limited:
    """Run avn-kb in a child process: wall time, its CPU time (wait4), and its own peak memory."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            open(stdin or os.devnull, "rb") as given, tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak"
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", _MEASURED, *args], stdin=given, stdout=out, stderr=err,
                                 preexec_fn=_cap_address_space, env={**os.environ, "AVN_KB_PEAK_FILE": str(peak_file)})
        exit_code: int | None = None
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                exit_code = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() - started > KILL_AFTER_S:
                child.kill()
                _, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - started
        child.returncode = -9 if exit_code is None else exit_code  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        # Killed before it could say: the kernel's figure, an upper bound.
        peak_kb = int(peak_file.read_text()) if peak_file.exists() and peak_file.read_text() else usage.ru_maxrss
        return Limited(exit_code, wall, usage.ru_utime + usage.ru_stime, peak_kb / 1024,
                       out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


TEXT_FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>\w+) (?P<code>AVN\d{3}) ",
                          re.MULTILINE)


@pytest.mark.parametrize("entry", _params("limits", lambda e: e.limits))
def test_big_deep_and_explosive_inputs_stay_within_limits(tmp_path: Path, entry: Entry) -> None:
    kb, relative = place(entry, tmp_path, decoys=False)
    done = run_limited(["validate", str(kb)])
    assert done.within_limits(), str(done)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.exit_code == entry.exit, str(done)
    located = [(m["code"], int(m["line"]), int(m["column"])) for m in TEXT_FINDING.finditer(done.stdout)
               if m["path"] == f"{kb}/{relative}" or m["path"].startswith(f"{kb}/{relative}/")]
    if entry.findings is not None:
        assert located == list(entry.findings)
    else:
        assert located, "a file this large must be refused with a finding"


def test_generated_long_line_puts_the_duplicate_key_where_the_manifest_says() -> None:
    text = long_line_recommendation()
    line = text.splitlines()[2]
    expected = next(e for e in ENTRIES if e.name == "long-line-1mb").findings
    assert expected == (("AVN105", 3, line.rindex('"status"') + 1),)


# ------------------------------------------------------------------------------------------------
# The logic search limit
# ------------------------------------------------------------------------------------------------

def _search_heavy_kb(root: Path, flags: int) -> Path:
    """A knowledge base where one conflict question must walk 2**flags partial cases: `flags`
    boolean facts that a do-recommendation ORs and an avoid-recommendation only decides on a site
    whose derived region contradicts it."""
    kb = root / "kb"
    shutil.copytree(MINI, kb)
    vocabulary = (kb / "vocabulary.yaml").read_text(encoding="utf-8")
    declared = "".join(f"  flag_{i}:\n    type: boolean\n    label: Flag {i}\n" for i in range(flags))
    (kb / "vocabulary.yaml").write_text(vocabulary.replace("derived:\n", declared + "derived:\n", 1), encoding="utf-8")
    rec = (MINI / "recommendations" / "resistive-training.yaml").read_text(encoding="utf-8")
    any_flag = "{any: [" + ", ".join(f"{{flag_{i}: true}}" for i in range(flags)) + "]}"
    # Empty only through a derived fact (femoral-head is lower-limb), seen once site is assigned,
    # after every flag: no single-fact part rules a value out before the search.
    both = "{all: [" + ", ".join(f"{{flag_{i}: {{in: [true, false]}}}}" for i in range(flags)) + \
        ", {site: femoral-head}, {region: upper-limb}]}"
    avoid = rec.replace("RT-001", "RT-002").replace("kind: do", "kind: avoid").replace("direction: for", "direction: against")
    avoid = re.sub(r"    when:\n      region: lower-limb\n      not: \{phase: acute\}\n", f"    when: {both}\n", avoid)
    avoid = re.sub(r"      dose: .*\n      exercises: .*\n", "", avoid)
    do = re.sub(r"    when:\n      region: lower-limb\n      not: \{phase: acute\}\n", f"    when: {any_flag}\n", rec)
    (kb / "recommendations" / "resistive-training.yaml").write_text(do, encoding="utf-8")
    (kb / "recommendations" / "avoid-training.yaml").write_text(avoid, encoding="utf-8")
    return kb


def test_search_limit_is_reported_as_avn306_not_guessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from avn_kb.lang.search import CaseSearch, SearchLimits
    from avn_kb.validate.checks import logic as logic_checks

    kb = _search_heavy_kb(tmp_path, flags=12)
    monkeypatch.setattr(logic_checks, "CaseSearch", functools.partial(CaseSearch, limits=SearchLimits(max_steps=500)))
    result = run_cli("validate", str(kb), "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    too_large = sorted((Path(f["path"]).name, f["code"], f["line"]) for f in findings if f["code"] == "AVN306")
    assert ("avoid-training.yaml", "AVN306", 11) in too_large
    assert not any(f["code"] == "AVN301" for f in findings)  # undecided is said, never guessed either way
    assert all("more than 500 partial cases" in f["message"] for f in findings if f["code"] == "AVN306")


def test_question_at_the_search_limit_stays_within_limits(tmp_path: Path) -> None:
    # Two questions at the limit (a conflict and a satisfiability): the run's budget bounds their sum.
    kb = _search_heavy_kb(tmp_path, flags=18)
    done = run_limited(["validate", str(kb)])
    assert done.within_limits(), str(done)
    assert " AVN306 " in done.stdout


def test_search_budget_bounds_the_sum_of_questions(tmp_path: Path) -> None:
    from avn_kb.lang.domains import SearchBudget

    kb = _search_heavy_kb(tmp_path, flags=18)
    result = run_cli("validate", str(kb), "--format", "json")
    too_large = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "AVN306"]
    messages = " | ".join(f["message"] for f in too_large)
    # The first question stops at its own limit; the next finds the run's budget spent.
    assert "more than 30,000 partial cases" in messages
    budget = SearchBudget.for_size(3)  # the three recommendations of this knowledge base
    assert f"the search budget of this validation ({budget.total:,} partial cases in all" in messages
    assert not any(f["code"] == "AVN301" for f in json.loads(result.stdout)["findings"])
    assert "gap search" not in messages  # a small question still gets its free steps


def search_heavy_with_redundancy_group(root: Path) -> Path:
    """`_search_heavy_kb` with 18 flags and a second recommendation with RT-002's action (avoid
    resistive-training): a redundancy group whose samples the conflicts before it leave no budget for."""
    kb = _search_heavy_kb(root, flags=18)
    path = kb / "recommendations" / "avoid-training.yaml"
    text = path.read_text(encoding="utf-8")
    entry = text[text.index("  - id: RT-002"):]
    third = re.sub(r"    when: .*\n", "    when: {site: knee}\n", entry.replace("RT-002", "RT-003"))
    path.write_text(text + third, encoding="utf-8")
    return kb


def test_redundancy_samples_refused_by_the_spent_budget_are_avn306_not_a_crash(tmp_path: Path) -> None:
    """The redundancy check samples each member of a group with the same action by a search
    (here RT-002's condition, empty only through a derived fact, needs 2**18 steps). With the
    budget spent by the questions before, that search is refused; it once escaped the check as
    SearchTooLarge (exit 3). It is AVN306 on the member, as any undecided question is."""
    from avn_kb.lang.domains import SearchBudget

    kb = search_heavy_with_redundancy_group(tmp_path)
    result = run_cli("validate", str(kb), "--format", "json")
    assert result.exit_code == 1, result.output  # RT-003 and RT-001 conflict (AVN301); never 3
    findings = json.loads(result.stdout)["findings"]
    budget = SearchBudget.for_size(4)
    assert any(f["code"] == "AVN306" and f["ids"] == ["RT-002"] and f["message"] ==
               "could not decide whether another recommendation giving the same action (avoid "
               f"resistive-training) covers RT-002: the search budget of this validation ({budget.total:,} "
               "partial cases in all, for this number of recommendations) is spent; simplify the conditions"
               for f in findings), findings
    assert not any(f["code"] == "AVN303" for f in findings)  # undecided is said, never guessed


@pytest.mark.parametrize("which", ["shipped", "search-heavy"])
def test_no_searching_check_dies_when_the_budget_is_spent_from_the_start(
        which: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no budget at all, every question beyond its free steps is refused: each searching
    check must say so (AVN306), never let SearchTooLarge out (run_cli lets exceptions through)."""
    from avn_kb.lang.domains import SearchBudget

    monkeypatch.setattr(SearchBudget, "for_size", classmethod(lambda cls, recommendations: cls(0)))
    kb = ROOT / "knowledge" if which == "shipped" else _search_heavy_kb(tmp_path, flags=12)
    if which == "search-heavy":  # a same-action group whose member needs a search to be sampled
        path = kb / "recommendations" / "avoid-training.yaml"
        text = path.read_text(encoding="utf-8")
        third = re.sub(r"    when: .*\n", "    when: {site: knee}\n",
                       text[text.index("  - id: RT-002"):].replace("RT-002", "RT-003"))
        path.write_text(text + third, encoding="utf-8")
    result = run_cli("validate", str(kb), "--no-cache", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    refused = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "AVN306"]
    assert which == "shipped" or any("search budget" in f["message"] for f in refused)


# ------------------------------------------------------------------------------------------------
# Case input for `avn-kb query`: a file, stdin, --set, --batch
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def query_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini knowledge base with a second staging system, so that stages can disagree."""
    kb = tmp_path_factory.mktemp("query") / "kb"
    shutil.copytree(MINI, kb)
    path = kb / "vocabulary.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  phase:\n", "  ficat_stage:\n    type: enum\n    label: Ficat stage\n"
                        "    values: [I, II, III, IV]\n  phase:\n", 1)
    text = text.replace("when: {arco_stage: {in: [I, II]}}",
                        "when: {any: [{arco_stage: {in: [I, II]}}, {ficat_stage: {in: [I, II]}}]}")
    text = text.replace("when: {arco_stage: {in: [IIIA, IIIB, IV]}}",
                        "when: {any: [{arco_stage: {in: [IIIA, IIIB, IV]}}, {ficat_stage: {in: [III, IV]}}]}")
    path.write_text(text, encoding="utf-8")
    assert run_cli("validate", str(kb)).exit_code == 0
    return kb


# (name, case file bytes, where the problem is (line, column), what the message must say)
CASE_FILES = [
    ("disagreeing stages", b"site: femoral-head\narco_stage: IIIA\nficat_stage: I\n", None,
     "collapse more than one value"),
    ("unknown fact", b"site: knee\nstage: II\n", (2, 8), "unknown fact 'stage'"),
    ("value outside the domain", b"site: hip\n", (1, 7), "'hip' is not one of"),
    ("wrong type", b"site: knee\npain_score: \"7\"\n", (2, 13), "is not a number"),
    ("set given as a term", b"comorbidities: thrombocytopenia\n", (1, 16), "expected a list"),
    ("NaN", b"pain_score: .nan\n", (1, 13), "not a finite number"),
    ("infinity", b"one_rep_max_kg: .inf\n", (1, 17), "not a finite number"),
    ("number outside bounds", b"pain_score: 11\n", (1, 13), "outside 0-10"),
    ("fraction for an integer", b"pain_score: 2.5\n", (1, 13), "not a whole number"),
    ("duplicate fact", b"site: femoral-head\nsite: knee\n", (2, 1),
     "site is given twice (femoral-head, knee): give it once"),
    ("syntax error", b"site: [knee\n", (2, 1), "YAML syntax error"),
    ("python tag", b"site: !!python/object/apply:os.system [id]\n", (1, 7), "not allowed"),
    ("alias bomb", b"".join([b'a: &a [x, x, x, x, x, x, x, x, x]\n'] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n".encode() for i in range(8)]),
     (6, 12), "alias bomb"),
    ("deep nesting", b"site: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", (1, 1006), "nesting too deep"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00", (1, 1), "save it as UTF-8"),
    ("NUL byte", b"site: knee\x00\n", (1, 11), "NUL byte"),
    ("UTF-16", "site: knee\n".encode("utf-16"), (1, 1), "UTF-16"),
    ("empty", b"", (1, 1), "no YAML document"),
    ("a list", b"- site\n- knee\n", (1, 1), "expected a mapping"),
    ("two documents", b"site: knee\n---\nsite: femoral-head\n", (2, 1), "more than one YAML document"),
    ("golden-case style with a bad fact", b"facts:\n  site: knee\n  phase: later\n", (3, 10), "'later' is not one of"),
]


@pytest.mark.parametrize("name,data,where,says", CASE_FILES, ids=[c[0] for c in CASE_FILES])
def test_bad_case_file_is_refused_with_its_location(query_kb: Path, tmp_path: Path, name: str, data: bytes,
                                                    where: tuple[int, int] | None, says: str) -> None:
    case = tmp_path / "case.yaml"
    case.write_bytes(data)
    result = run_cli("query", "--kb", str(query_kb), str(case))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert says in result.stderr, result.stderr
    prefix = f"avn-kb query: {case}:"
    assert result.stderr.startswith(prefix), result.stderr
    if where is not None:
        assert result.stderr.startswith(f"{prefix}{where[0]}:{where[1]}: "), result.stderr


def test_disagreeing_stages_are_located_at_a_stage(query_kb: Path, tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_bytes(b"site: femoral-head\narco_stage: IIIA\nficat_stage: I\n")
    result = run_cli("query", "--kb", str(query_kb), str(case))
    assert re.match(rf"avn-kb query: {re.escape(str(case))}:[23]:\d+: ", result.stderr), result.stderr


@pytest.mark.parametrize("name,data,where,says", CASE_FILES[:12], ids=[c[0] for c in CASE_FILES[:12]])
def test_bad_case_on_stdin_is_refused_with_its_location(query_kb: Path, name: str, data: bytes,
                                                        where: tuple[int, int] | None, says: str) -> None:
    result = run_cli("query", "--kb", str(query_kb), "-", input=data)  # type: ignore[arg-type]
    assert result.exit_code == 2
    assert says in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("avn-kb query: <stdin>:" + (f"{where[0]}:{where[1]}: " if where else ""))


# (name, --set options, what the message must say)
SETTINGS = [
    ("unknown fact", ["site=knee", "stage=II"], "unknown fact 'stage'"),
    ("value outside the domain", ["site=hip"], "'hip' is not one of"),
    ("wrong type", ["pain_score=seven"], "is not a number"),
    ("NaN", ["pain_score=nan"], "is not a number"),
    ("infinity", ["one_rep_max_kg=inf"], "is not a number"),
    ("overflow", ["one_rep_max_kg=1e999"], "is not a number"),
    ("empty value", ["site="], "'' is not one of"),
    ("no equals sign", ["site"], "write --set fact=value"),
    ("no fact name", ["=knee"], "write --set fact=value"),
    ("disagreeing stages", ["arco_stage=IIIA", "ficat_stage=I"], "collapse more than one value"),
    ("look-alike letter", ["site=kn\u0435e"], "is not one of"),
]


@pytest.mark.parametrize("name,settings,says", SETTINGS, ids=[s[0] for s in SETTINGS])
def test_bad_set_option_is_refused_naming_it(query_kb: Path, name: str, settings: list[str], says: str) -> None:
    args = [arg for setting in settings for arg in ("--set", setting)]
    result = run_cli("query", "--kb", str(query_kb), *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert says in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("avn-kb query: --set"), result.stderr


GOOD = '{"site": "knee", "arco_stage": "I", "phase": "chronic"}'
# (line text, what the message for it must say; None: a good line, answered)
BATCH = [
    (GOOD, None),
    ('{"site": "knee", ', "not valid JSON"),
    ("", None),
    ('{"stage": "II"}', "unknown fact 'stage'"),
    ('{"site": "hip"}', "'hip' is not one of"),
    ('{"pain_score": "7"}', "is not a number"),
    ('{"pain_score": NaN}', "NaN is not a number JSON allows"),
    ('{"pain_score": Infinity}', "Infinity is not a number JSON allows"),
    ("   ", None),
    ('{"arco_stage": "IIIA", "ficat_stage": "I"}', "collapse more than one value"),
    ("[1, 2]", "expected a mapping"),
    ('{"id": "P-7", "facts": {"site": "femoral-head", "arco_stage": "II"}}', None),
    ('{"pain_score": 1e999}', "is not a number"),
    ('"just a string"', "expected a mapping"),
    ('{"site": "knee"} trailing', "not valid JSON"),
    ('{"facts": {"stage": "II"}}', "unknown fact 'stage'"),
    ("\t", None),
    (GOOD, None),
]


def test_batch_reports_each_bad_line_and_still_answers_the_good_ones(query_kb: Path, tmp_path: Path) -> None:
    batch = tmp_path / "cases.jsonl"
    batch.write_text("\n".join(line for line, _ in BATCH) + "\n", encoding="utf-8")
    result = run_cli("query", "--kb", str(query_kb), "--batch", str(batch))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    answered = [json.loads(line)["line"] for line in result.stdout.splitlines()]
    assert answered == [n for n, (line, says) in enumerate(BATCH, 1) if says is None and line.strip()]
    messages = result.stderr.splitlines()
    expected = [(n, says) for n, (_, says) in enumerate(BATCH, 1) if says is not None]
    assert len(messages) == len(expected), messages
    for message, (number, says) in zip(messages, expected):
        assert re.match(rf"avn-kb query: {re.escape(str(batch))}:{number}(:\d+)?: ", message), message
        assert says in message, message


def _batch(tmp_path: Path, *lines: bytes) -> Path:
    batch = tmp_path / "cases.jsonl"
    batch.write_bytes(b"".join(line + b"\n" for line in lines))
    return batch


def test_batch_with_a_10mb_line_refuses_it_and_answers_the_rest(query_kb: Path, tmp_path: Path) -> None:
    batch = _batch(tmp_path, GOOD.encode(), b'{"site": "' + b"k" * 10_000_000 + b'"}', GOOD.encode())
    done = run_limited(["query", "--kb", str(query_kb), "--batch", str(batch)])
    assert done.within_limits(), str(done)
    assert done.exit_code == 2
    assert [json.loads(line)["line"] for line in done.stdout.splitlines()] == [1, 3]
    assert done.stderr.startswith(f"avn-kb query: {batch}:2: site: 'kkkk")


def test_batch_message_for_a_huge_value_stays_short(query_kb: Path, tmp_path: Path) -> None:
    batch = _batch(tmp_path, b'{"site": "' + b"k" * 10_000_000 + b'"}')
    result = run_cli("query", "--kb", str(query_kb), "--batch", str(batch))
    assert result.exit_code == 2
    assert len(result.stderr) < 10_000


@pytest.mark.parametrize("nested", [b"[" * 100_000 + b"]" * 100_000, b'{"a": ' * 5_000 + b"1" + b"}" * 5_000],
                         ids=["array", "object"])
def test_batch_with_deeply_nested_json_refuses_that_line_only(query_kb: Path, tmp_path: Path, nested: bytes) -> None:
    batch = _batch(tmp_path, GOOD.encode(), nested, GOOD.encode())
    result = run_cli("query", "--kb", str(query_kb), "--batch", str(batch))
    assert result.exit_code == 2
    assert [json.loads(line)["line"] for line in result.stdout.splitlines()] == [1, 3]
    assert result.stderr.startswith(f"avn-kb query: {batch}:2")


def test_batch_line_with_a_duplicate_fact_is_refused(query_kb: Path, tmp_path: Path) -> None:
    batch = _batch(tmp_path, b'{"site": "knee", "site": "femoral-head"}')
    result = run_cli("query", "--kb", str(query_kb), "--batch", str(batch))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "site" in result.stderr


def test_batch_json_error_column_is_on_the_line(query_kb: Path, tmp_path: Path) -> None:
    batch = _batch(tmp_path, b'{"site": "knee", ')
    result = run_cli("query", "--kb", str(query_kb), "--batch", str(batch))
    assert result.stderr.startswith(f"avn-kb query: {batch}:1:18: ")


def test_batch_with_a_byte_order_mark_answers_its_first_line(query_kb: Path, tmp_path: Path) -> None:
    batch = _batch(tmp_path, b"\xef\xbb\xbf" + GOOD.encode())
    result = run_cli("query", "--kb", str(query_kb), "--batch", str(batch))
    assert [json.loads(line)["line"] for line in result.stdout.splitlines()] == [1]


def test_batch_line_with_invalid_utf8_is_refused_as_such(query_kb: Path, tmp_path: Path) -> None:
    batch = _batch(tmp_path, b'{"id": "P\xe9-7", "facts": {"site": "knee"}}')
    result = run_cli("query", "--kb", str(query_kb), "--batch", str(batch))
    assert result.exit_code == 2
    assert "UTF-8" in result.stderr


def test_batch_on_stdin_reports_line_numbers(query_kb: Path) -> None:
    text = f"{GOOD}\n{{\"site\": \"hip\"}}\n\n{GOOD}\n"
    result = run_cli("query", "--kb", str(query_kb), "--batch", "-", input=text)
    assert result.exit_code == 2
    assert [json.loads(line)["line"] for line in result.stdout.splitlines()] == [1, 4]
    assert result.stderr.startswith("avn-kb query: -:2: site: 'hip' is not one of")


def test_case_file_over_the_size_limit_is_refused_within_limits(query_kb: Path, tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    with open(case, "wb") as out:
        out.write(b"site: knee\nnote: ")
        out.truncate(50 * 1024 * 1024)
    done = run_limited(["query", "--kb", str(query_kb), str(case)])
    assert done.within_limits(), str(done)
    assert done.exit_code == 2
    assert "over the 20,971,520-byte limit" in done.stderr


def test_endless_stdin_is_refused_within_limits(query_kb: Path) -> None:
    done = run_limited(["query", "--kb", str(query_kb), "-"], stdin=Path("/dev/zero"))
    assert done.within_limits(), str(done)
    assert done.exit_code == 2


def test_query_on_an_unusable_knowledge_base_exits_2_naming_the_file(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    (kb / "vocabulary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = run_cli("query", "--kb", str(kb), "--set", "site=knee")
    assert result.exit_code == 2
    first, *_, last = result.stderr.splitlines()
    assert first.startswith(f"{kb}/vocabulary.yaml:1:1: error AVN10")
    assert last == (f"avn-kb query: the knowledge base in {kb} cannot be used: its manifest or vocabulary did not "
                    f"load; run avn-kb validate {kb}")


# ------------------------------------------------------------------------------------------------
# No loss
# ------------------------------------------------------------------------------------------------

def test_interrupted_report_write_keeps_the_old_report_and_leaves_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    report.write_text("the previous report\n", encoding="utf-8")

    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    result = run_cli("validate", str(MINI), "--format", "json", "--output", str(report))
    assert result.exit_code == 130
    assert report.read_text(encoding="utf-8") == "the previous report\n"
    assert [p.name for p in report.parent.iterdir()] == ["report.json"]


def test_query_writes_nothing_into_the_knowledge_directory(query_kb: Path, tmp_path: Path) -> None:
    before = _snapshot(query_kb)
    batch = _batch(tmp_path, GOOD.encode(), b"{")
    run_cli("query", "--kb", str(query_kb), "--batch", str(batch), "--output", str(tmp_path / "answers.jsonl"))
    run_cli("query", "--kb", str(query_kb), "--set", "site=knee", "--explain", "--format", "markdown")
    assert _snapshot(query_kb) == before
