"""`avn-kb query --batch`: the line format (avn_kb.load.batch, schema/batch-line.schema.json), per-line
as_of and audience, clear errors for ambiguous lines, and `--compact` answers that expand back to
exactly the full ones (schema/query-result-compact.schema.json)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from avn_kb.load.batch import BatchLine, batch_line
from avn_kb.load.knowledge import load_knowledge
from avn_kb.load.schemas import schema, validator
from avn_kb.output.answers.compact import STATIC, expand
from tests.conftest import MINI, SHIPPED, run_cli

VOCABULARY = load_knowledge(MINI, str(MINI)).kb.vocabulary
KNEE = {"site": "knee", "phase": "chronic"}

# (line, what the loader makes of it, whether the schema alone accepts it). The loader also knows
# the vocabulary, so it refuses a few lines the schema cannot judge (an unknown fact or value).
LINES: list[tuple[str, BatchLine | list[str], bool]] = [
    ('{"site": "knee", "phase": "chronic"}', BatchLine(KNEE), True),
    ('{"id": "p1", "site": "knee", "phase": "chronic"}', BatchLine(KNEE, "p1"), True),
    ('{"id": "p1", "as_of": "2027-03-01", "audience": "patient", "site": "knee", "phase": "chronic"}',
     BatchLine(KNEE, "p1", dt.date(2027, 3, 1), "patient"), True),
    ('{"id": "p1", "facts": {"site": "knee", "phase": "chronic"}}', BatchLine(KNEE, "p1"), True),
    ('{"facts": {"site": "knee", "phase": "chronic"}, "as_of": "2027-03-01", "audience": "clinician"}',
     BatchLine(KNEE, None, dt.date(2027, 3, 1), "clinician"), True),
    ("{}", BatchLine({}), True),
    ('{"id": "p1", "facts": {"site": "knee"}, "phase": "chronic"}',
     ['c.jsonl:3: ambiguous: phase beside "facts": put every fact inside "facts" (only id, as_of and audience go '
      'beside it)'], False),
    ('{"facts": "site=knee"}', ['c.jsonl:3: "facts" must be an object of fact names to values'], False),
    ('{"id": 7, "site": "knee"}', ["c.jsonl:3: id must be a non-empty string"], False),
    ('{"as_of": "1 March 2027", "site": "knee"}',
     ["c.jsonl:3: as_of '1 March 2027' is not a date in the form YYYY-MM-DD"], False),
    ('{"audience": "nurse", "site": "knee"}', ["c.jsonl:3: audience 'nurse' is not one of clinician, patient"], False),
    ('["knee"]', ['c.jsonl:3: document: this is a list, expected a mapping: a batch line is bare facts '
                  '({"site": ...}) or {"id": ..., "facts": {...}}'], False),
    ('{"site": "hip"}', ["c.jsonl:3: site: 'hip' is not one of: femoral-head, knee, humeral-head"], True),
    ('{"site": "knee", "site": "talus"}', ["c.jsonl:3: site is given twice (knee, talus): give it once"], True),
    ('{"site": ', ["c.jsonl:3:10: not valid JSON (Expecting value)"], False),
]


@pytest.mark.parametrize("line, expected, schema_valid", LINES, ids=[row[0][:40] for row in LINES])
def test_batch_line(line: str, expected: BatchLine | list[str], schema_valid: bool) -> None:
    assert VOCABULARY is not None
    found, errors = batch_line(VOCABULARY, line, "c.jsonl:3")
    if isinstance(expected, BatchLine):
        assert (found, errors) == (expected, [])
    else:
        assert (found, [str(e) for e in errors]) == (None, expected)
    try:
        value = json.loads(line)
    except ValueError:
        return
    assert validator("batch-line").is_valid(value) is schema_valid


@pytest.mark.parametrize("option", ["id", "as_of", "audience", "facts"])
def test_a_fact_named_like_an_option_is_ambiguous(tmp_path: Path, option: str) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(MINI, kb)
    vocabulary = kb / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text().replace(
        "facts:\n", f"facts:\n  {option}:\n    type: enum\n    label: Odd\n    values: [x, y]\n", 1))
    loaded = load_knowledge(kb, str(kb)).kb.vocabulary
    assert loaded is not None and loaded.fact_type(option) == "enum"
    line = json.dumps({option: "x", "site": "knee"})
    found, errors = batch_line(loaded, line, "c.jsonl:1")
    assert (found, [str(e) for e in errors]) == (None, [
        f"c.jsonl:1: ambiguous: {option!r} is a fact of the vocabulary and a batch-line option; write the line "
        'as {"facts": {...}} with the options beside it'])


def batch(tmp_path: Path, lines: list[str], *args: str, kb: Path = MINI) -> tuple[int, list[dict[str, Any]], str]:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    result = run_cli("query", "--kb", str(kb), "--batch", str(path), "--as-of", "2027-01-15", *args)
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def single(*args: str, kb: Path = MINI) -> dict[str, Any]:
    result = run_cli("query", "--kb", str(kb), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_each_line_is_answered_as_a_single_query_with_its_own_options(tmp_path: Path) -> None:
    code, answers, stderr = batch(tmp_path, [
        '{"id": "p1", "site": "knee", "phase": "chronic"}',
        '{"id": "p2", "as_of": "2027-03-01", "audience": "patient", "facts": {"site": "femoral-head", '
        '"arco_stage": "II"}}'])
    assert (code, stderr) == (0, "")
    first = single("--set", "site=knee", "--set", "phase=chronic", "--as-of", "2027-01-15")
    second = single("--set", "site=femoral-head", "--set", "arco_stage=II", "--as-of", "2027-03-01",
                    "--audience", "patient")
    assert answers == [{**first, "line": 1, "id": "p1"}, {**second, "line": 2, "id": "p2"}]
    assert (answers[1]["as_of"], answers[1]["audience"]) == ("2027-03-01", "patient")


def test_a_bad_line_is_named_and_the_others_are_answered(tmp_path: Path) -> None:
    code, answers, stderr = batch(tmp_path, ['{"id": "p1", "facts": {"site": "knee"}, "phase": "chronic"}',
                                             '{"site": "knee"}'])
    assert code == 2 and [a["line"] for a in answers] == [2]
    assert stderr == (f"avn-kb query: {tmp_path / 'cases.jsonl'}:1: ambiguous: phase beside \"facts\": put every "
                      "fact inside \"facts\" (only id, as_of and audience go beside it)\n")


CASES = ['{"id": "p1", "site": "knee", "phase": "chronic"}', '{"site": "femoral-head", "arco_stage": "II"}',
         '{"id": "p3", "audience": "patient", "site": "femoral-head", "arco_stage": "IIIA", "phase": "chronic"}',
         '{"site": "humeral-head"}', "{}"]


@pytest.mark.parametrize("kb", [MINI, SHIPPED], ids=["mini", "shipped"])
@pytest.mark.parametrize("extra", [[], ["--explain"], ["--all", "--include-status", "draft"]],
                         ids=["default", "explain", "all"])
def test_compact_expands_to_the_full_answers(tmp_path: Path, kb: Path, extra: list[str]) -> None:
    cases = CASES if kb == MINI else [*CASES[:3], '{"site": "knee", "ficat_stage": "II", "phase": "chronic"}']
    code, full, _ = batch(tmp_path, cases, *extra, kb=kb)
    compact_code, compact, _ = batch(tmp_path, cases, "--compact", *extra, kb=kb)
    assert code == compact_code == 0
    head, lines = compact[0], compact[1:]
    checker = validator("query-result-compact")
    for line in compact:
        checker.validate(line)
    assert "references" in head and all("references" not in line and "tool" not in line for line in lines)
    assert [expand(head, line) for line in lines] == full
    assert any(answer["references"] for answer in full)  # the reference lists were rebuilt, not empty
    for answer in full:
        validator("query-result").validate(answer)


def test_compact_is_smaller_and_says_the_header_once(tmp_path: Path) -> None:
    cases = [json.dumps({"id": f"p{i}", "site": "femoral-head", "arco_stage": "II", "phase": "chronic"})
             for i in range(20)]
    _, full, _ = batch(tmp_path, cases, kb=SHIPPED)
    _, compact, _ = batch(tmp_path, cases, "--compact", kb=SHIPPED)
    # What repeats (the knowledge base, the references, what recommendations say) is most of it.
    assert len(json.dumps(compact)) < 0.4 * len(json.dumps(full))
    assert sum("knowledge_base" in line for line in compact) == 1


@pytest.mark.parametrize("args", [["--set", "site=knee", "--compact"], ["--format", "text", "--compact"]])
def test_compact_needs_a_json_batch(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"site": "knee"}\n')
    extra = [] if "--set" in args else ["--batch", str(path)]
    result = run_cli("query", "--kb", str(MINI), *extra, *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("avn-kb query: --compact is for --batch answers in JSON Lines (--format json, the "
                             "default with --batch)\n")


def test_batch_honours_format_text(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "p1", "audience": "patient", "site": "knee", "phase": "chronic"}\n')
    result = run_cli("query", "--kb", str(MINI), "--batch", str(path), "--format", "text", "--as-of", "2026-06-01")
    expected = run_cli("query", "--kb", str(MINI), "--set", "site=knee", "--set", "phase=chronic",
                       "--audience", "patient", "--as-of", "2026-06-01")
    assert result.exit_code == 0
    assert result.stdout == f"=== line 1, case p1 ===\n{expected.stdout}\n"


def test_every_field_of_an_answered_recommendation_is_static_or_per_case() -> None:
    """A field added to the full answer must be placed: in the header (STATIC) or on each line
    (the compact schema), never lost by --compact."""
    full = set(schema("query-result")["properties"]["recommendations"]["items"]["properties"])
    per_case = set(schema("query-result-compact")["$defs"]["answer"]["properties"]["recommendations"]["items"]
                   ["properties"])
    assert (full - {"id"}) == set(STATIC) | (per_case - {"id"}) and not set(STATIC) & per_case


def test_compact_from_an_incomplete_knowledge_base_says_so_once(tmp_path: Path) -> None:
    kb = tmp_path / "broken"
    shutil.copytree(MINI, kb)
    (kb / "recommendations" / "offloading.yaml").write_text("topic: offloading\nrecommendations: [\n")
    _, full, _ = batch(tmp_path, CASES, "--allow-incomplete", kb=kb)
    code, compact, stderr = batch(tmp_path, CASES, "--allow-incomplete", "--compact", kb=kb)
    assert code == 0 and "answering from an incomplete knowledge base" in stderr
    head = compact[0]
    assert head["incomplete"] is True and [p["code"] for p in head["problems"]] == ["AVN102"]
    assert head["notices"][0].startswith("INCOMPLETE: ")
    assert [expand(head, line) for line in compact[1:]] == full


@pytest.mark.parametrize("options", [["--compact"], [], ["--format", "text"], ["--explain", "--all"]],
                         ids=["compact", "json", "text", "explain"])
@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "output-file"])
def test_jobs_give_the_same_output_in_the_same_order_as_one(tmp_path: Path, options: list[str], to_file: bool,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from avn_kb.cli import batch as batch_module

    monkeypatch.setattr(batch_module, "BLOCK", 16 * 1024)  # the workers, forked in this process, too

    # More bytes than two blocks, bad ones and blank ones among them, so that several workers share
    # the batch and the reports of bad lines must come back in order too. To a file (-o) the workers
    # write their blocks themselves; to the test's stdout (not a file) the parent writes them.
    bad = '{"site": "knee", "nosuch": 1}'
    lines = [CASES[n % 4] if n % 97 else bad for n in range(2 * batch_module.BLOCK // 40 + 17)]
    lines[5] = ""
    assert len("\n".join(lines)) > 2 * batch_module.BLOCK
    (tmp_path / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    runs = []
    for jobs in ("1", "2", "3"):
        output = ["-o", str(tmp_path / f"answers-{jobs}")] if to_file else []
        result = run_cli("query", "--kb", str(SHIPPED), "--batch", str(tmp_path / "cases.jsonl"), *options,
                         "--jobs", jobs, "--as-of", "2026-12-01", *output)
        runs.append((result.exit_code, (tmp_path / f"answers-{jobs}").read_bytes() if to_file else result.stdout_bytes,
                     result.stderr))
    assert {code for code, _, _ in runs} == {2}
    assert runs[0][1] and all(written == runs[0][1] for _, written, _ in runs)
    assert runs[0][2].count("unknown fact 'nosuch'") == lines.count(bad) > 5
    assert all(stderr == runs[0][2] for _, _, stderr in runs)
    if to_file:
        assert sorted(p.name for p in tmp_path.iterdir()) == ["answers-1", "answers-2", "answers-3", "cases.jsonl"]


def test_jobs_without_a_batch_is_a_usage_error() -> None:
    result = run_cli("query", "--kb", str(SHIPPED), "--set", "site=knee", "--jobs", "2")
    assert result.exit_code == 2 and "--jobs is for --batch" in result.stderr


@pytest.mark.parametrize("mode", ["file", "append", "pipe"])
def test_jobs_write_the_same_bytes_to_a_redirected_stdout(tmp_path: Path, mode: str) -> None:
    """Standard output redirected to a file: the workers write their blocks at their offsets
    (after the header), and the file ends where one job's output ends; appended to (where an
    offset is not honoured) or a pipe: the parent writes. Whatever was in an appended file stays."""
    import subprocess
    import sys

    from avn_kb.cli import batch as batch_module

    lines = [CASES[n % 4] for n in range(3 * batch_module.BLOCK // 40)]
    (tmp_path / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    outputs = []
    for jobs in ("1", "2"):
        target = tmp_path / f"answers-{jobs}"
        target.write_bytes(b"before\n" if mode == "append" else b"")
        command = [sys.executable, "-m", "avn_kb", "query", "--kb", str(SHIPPED), "--batch",
                   str(tmp_path / "cases.jsonl"), "--compact", "--jobs", jobs, "--as-of", "2026-12-01"]
        if mode == "pipe":
            done = subprocess.run(command, capture_output=True, check=False)
            target.write_bytes(done.stdout)
        else:
            with target.open("ab" if mode == "append" else "r+b") as stdout:
                done = subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, check=False)
        assert (done.returncode, done.stderr) == (0, b"")
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") == len(lines) + 1 + (mode == "append")
    assert outputs[0].startswith(b"before\n" if mode == "append" else b'{"tool": ')


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_write_that_fails_midway_is_exit_2_and_leaves_no_file(tmp_path: Path, jobs: str) -> None:
    """The file size limit (RLIMIT_FSIZE) makes a write fail as a full disk would, in the parent
    or in a worker writing its block: one line naming the file, exit 2, nothing left behind."""
    import resource
    import subprocess
    import sys

    from avn_kb.cli import batch as batch_module

    lines = [CASES[n % 4] for n in range(3 * batch_module.BLOCK // 40)]  # several blocks, several writers
    (tmp_path / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.RLIM_INFINITY))

    done = subprocess.run([sys.executable, "-m", "avn_kb", "query", "--kb", str(SHIPPED), "--batch", "cases.jsonl",
                           "--compact", "--jobs", jobs, "-o", "answers.jsonl"], cwd=tmp_path, capture_output=True,
                          text=True, preexec_fn=limited, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "avn-kb query: cannot write answers.jsonl: File too large\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.jsonl"]


@pytest.mark.parametrize("at", [None, 7])
def test_pieces_are_written_whole_however_little_each_write_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 at: int | None) -> None:
    """A batch writes its answers as pieces (writev, pwritev); a system call may write less than
    asked, and what is left is written next, in order."""
    import os

    from avn_kb.cli import batch_output

    real_writev, real_pwritev = os.writev, os.pwritev
    monkeypatch.setattr(os, "writev", lambda fd, buffers: real_writev(fd, [bytes(b"".join(buffers)[:5])]))
    monkeypatch.setattr(os, "pwritev", lambda fd, buffers, offset: real_pwritev(fd, [bytes(b"".join(buffers)[:5])],
                                                                                offset))
    monkeypatch.setattr(batch_output, "IOV_MAX", 3)
    pieces = [b"first piece, ", b"", b"a", b"nother", b" and the last one\n"] * 3
    target = tmp_path / "out"
    target.write_bytes(b"0123456")
    descriptor = os.open(target, os.O_WRONLY | (os.O_APPEND if at is None else 0))
    try:
        batch_output.write_all(descriptor, pieces, at)
    finally:
        os.close(descriptor)
    assert target.read_bytes() == b"0123456" + b"".join(pieces)


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "output-file"])
def test_jobs_fork_no_workers_for_a_batch_of_one_block(tmp_path: Path, to_file: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The first block is answered before the workers fork; when it is the only one there is
    nothing left for them, and none are forked (a Pool forks its workers when it is made)."""
    from avn_kb.cli import batch_jobs

    forked: list[int] = []
    real = batch_jobs.in_parallel

    def in_parallel(*args: Any, **kwargs: Any) -> Any:
        forked.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(batch_jobs, "in_parallel", in_parallel)
    (tmp_path / "cases.jsonl").write_text("\n".join(CASES) + "\n", encoding="utf-8")
    runs = []
    for jobs in ("1", "2"):
        output = ["-o", str(tmp_path / f"answers-{jobs}")] if to_file else []
        result = run_cli("query", "--kb", str(SHIPPED), "--batch", str(tmp_path / "cases.jsonl"), "--compact",
                         "--jobs", jobs, "--as-of", "2026-12-01", *output)
        runs.append((result.exit_code, (tmp_path / f"answers-{jobs}").read_bytes() if to_file else result.stdout_bytes))
    assert runs[0] == runs[1] and runs[0][0] == 0 and runs[0][1].count(b"\n") == len(CASES) + 1
    assert forked == []
