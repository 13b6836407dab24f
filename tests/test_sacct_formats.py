"""``jobacct sacct --json / --ndjson / --csv``, and what a terminal gets from the table.

The store is the golden corpus (the same import as tests/test_golden_sacct.py); ``--json`` is
compared with what real Slurm 22.05.8 printed for ``sacct -j 2,3,8,12,13 --json``
(golden ``sacct/07c_json_some.txt``): same keys and nesting, same stored values, and right
exit codes where 22.05 prints every plain exit as SUCCESS/0.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import create_engine, update

from jobacct import caller
from jobacct import sacct_command as sacct_cmd
from jobacct.cli import main
from jobacct.fields import Column, Ctx, resolve_format
from jobacct.formats import OutputMode, output_mode, terminal
from jobacct.formats.csvout import csv_lines
from jobacct.formats.jsondoc import exit_code_object, signal_name, tres_list
from jobacct.formats.jsonout import json_document, ndjson_lines
from jobacct.model import Job
from jobacct.query import JobFilter, Window, iter_lines
from tests.conftest import GOLDEN, build_golden_store, parse_case
from tests.test_golden_sacct import _epoch, run_recorded

#: ``sacct -j 2,3,8,12,13 --json`` of Slurm 22.05.8, and when it was run.
JSON_CASE = parse_case(GOLDEN / "sacct" / "07c_json_some.txt")[0]
WHEN = JSON_CASE["time"]

CSV_NAME = 'a|b,"c"\nd'
MARKUP_NAME = "[red]x[/red]"
EVIL_NAME = "evil\x1b]0;pwned\x07\x1b[2J\ttab\x9bC1\x7f"
CRLF_COMMENT = 'line one\r\nline two, "quoted" | piped'


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The golden records, as tests/test_golden_sacct.py's golden_store holds them."""
    return build_golden_store(tmp_path_factory.mktemp("formats") / "golden.sqlite")


@pytest.fixture(scope="module")
def nasty_store(store: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the golden store with hostile job names and comments (set directly: sacct -P
    input cannot carry newlines, and the annotation commands refuse control characters)."""
    path = tmp_path_factory.mktemp("nasty") / "nasty.sqlite"
    shutil.copy(store.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as conn:
        for job_id, values in (
            (2, {"job_name": CSV_NAME}),
            (3, {"job_name": MARKUP_NAME, "comment": MARKUP_NAME}),
            (8, {"job_name": EVIL_NAME, "admin_comment": EVIL_NAME}),
            (12, {"comment": CRLF_COMMENT}),
        ):
            conn.execute(update(Job).where(Job.job_id_raw == job_id).values(**values))
    engine.dispose()
    return url


def run(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    tty: bool = False,
) -> tuple[int, str, str]:
    """``jobacct sacct ARGS`` as root at the 07c clock; ``tty`` fakes a terminal on stdout."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty, raising=False)
    monkeypatch.setattr(sacct_cmd, "_now", lambda: _epoch(WHEN))
    monkeypatch.setattr(caller, "caller_uid", lambda: 0)
    status = main(["--db", url, "sacct", *args])
    out, err = capsys.readouterr()
    return status, out, err


def golden_json() -> dict[str, Any]:
    # sacct printed no newline after the document, so the file's "--- stderr" marker
    # follows it on the same line: decode the document alone.
    doc, _ = json.JSONDecoder().raw_decode(JSON_CASE["stdout"])
    return dict(doc)


def assert_same_shape(mine: Any, theirs: Any, path: str = "") -> None:
    """Dicts have the same keys, recursively; list items are compared with 22.05's first
    item (entries of one list share their keys)."""
    if isinstance(theirs, dict):
        assert isinstance(mine, dict), path
        assert set(mine) == set(theirs), (path, set(mine) ^ set(theirs))
        for key in theirs:
            assert_same_shape(mine[key], theirs[key], f"{path}/{key}")
    elif isinstance(theirs, list):
        assert isinstance(mine, list), path
        if theirs and mine and isinstance(theirs[0], dict):
            for i, item in enumerate(mine):
                # TRES lists differ in length; steps line up one to one.
                assert_same_shape(item, theirs[min(i, len(theirs) - 1)], f"{path}[{i}]")


# ------------------------------------------------------------------------------- --json


def test_json_has_22_05_keys_and_nesting(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_recorded(JSON_CASE["command"], "root", WHEN, store, monkeypatch, capsys)
    assert (status, err) == (0, "")
    doc = json.loads(out)
    theirs = golden_json()
    assert list(doc) == ["meta", "errors", "warnings", "jobs"]
    assert doc["errors"] == [] and doc["warnings"] == []
    assert_same_shape(doc["meta"], theirs["meta"])
    assert [j["job_id"] for j in doc["jobs"]] == [j["job_id"] for j in theirs["jobs"]]
    for mine, real in zip(doc["jobs"], theirs["jobs"], strict=True):
        # Every key 22.05 prints, in its order.
        assert list(mine) == list(real)
        assert [list(s) for s in mine["steps"]] == [list(s) for s in real["steps"]]
        assert_same_shape(mine, real, str(real["job_id"]))


JOB_VALUES = [
    "account",
    "allocation_nodes",
    "array",
    "association",
    "cluster",
    "comment",
    "constraints",
    "group",
    "het",
    "job_id",
    "kill_request_user",
    "name",
    "nodes",
    "partition",
    "priority",
    "qos",
    "state",
    "user",
    "wckey",
    "working_directory",
]
TIME_VALUES = ["elapsed", "eligible", "end", "start", "submission", "suspended", "limit"]
STEP_TIME_VALUES = ["elapsed", "end", "start", "suspended"]


def test_json_values_are_the_stored_ones(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run_recorded(JSON_CASE["command"], "root", WHEN, store, monkeypatch, capsys)
    for mine, real in zip(json.loads(out)["jobs"], golden_json()["jobs"], strict=True):
        where = real["job_id"]
        assert {k: mine[k] for k in JOB_VALUES} == {k: real[k] for k in JOB_VALUES}, where
        assert {k: mine["time"][k] for k in TIME_VALUES} == {
            k: real["time"][k] for k in TIME_VALUES
        }, where
        assert len(mine["steps"]) == len(real["steps"])
        for step, real_step in zip(mine["steps"], real["steps"], strict=True):
            assert step["step"] == real_step["step"]
            for key in ("state", "nodes", "tasks", "kill_request_user"):
                assert step[key] == real_step[key], (where, key)
            assert {k: step["time"][k] for k in STEP_TIME_VALUES} == {
                k: real_step["time"][k] for k in STEP_TIME_VALUES
            }
            if real_step["exit_code"]["status"] == "SIGNALED":
                assert step["exit_code"] == real_step["exit_code"]
        for key in ("exit_code", "derived_exit_code"):
            if real[key]["status"] == "SIGNALED":
                # 22.05 gets signals right: {"signal_id": 9, "name": "Killed"}.
                assert mine[key] == real[key], (where, key)


def test_json_exit_codes_are_right_where_22_05_printed_success(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run_recorded(JSON_CASE["command"], "root", WHEN, store, monkeypatch, capsys)
    jobs = {j["job_id"]: j for j in json.loads(out)["jobs"]}
    real = {j["job_id"]: j for j in golden_json()["jobs"]}
    # Job 2 ran `exit 3`: sacct prints 3:0; 22.05's JSON said SUCCESS/0 (its bug).
    assert real[2]["exit_code"] == {"status": "SUCCESS", "return_code": 0}
    assert jobs[2]["exit_code"] == {"status": "ERROR", "return_code": 3}
    assert jobs[2]["steps"][0]["exit_code"] == {"status": "ERROR", "return_code": 3}
    # Job 3: step 3.0 exited 7, so DerivedExitCode is 7:0.
    assert jobs[3]["derived_exit_code"] == {"status": "ERROR", "return_code": 7}
    assert jobs[3]["steps"][1]["exit_code"] == {"status": "ERROR", "return_code": 7}
    assert jobs[3]["exit_code"] == {"status": "SUCCESS", "return_code": 0}
    # Job 8's batch shell killed itself: 0:9 for the job and its batch step.
    killed = {
        "status": "SIGNALED",
        "return_code": None,
        "signal": {"signal_id": 9, "name": "Killed"},
    }
    assert jobs[8]["exit_code"] == killed
    assert jobs[8]["steps"][0]["exit_code"] == killed
    assert jobs[12]["steps"][0]["exit_code"]["signal"] == {"signal_id": 15, "name": "Terminated"}


def test_json_exit_codes_agree_with_the_text_format(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, text, _ = run(store, monkeypatch, capsys, "-a", "-P", "-n", "-o", "jobid,exitcode")
    exit_codes = dict(line.split("|") for line in text.splitlines())
    _, out, _ = run(store, monkeypatch, capsys, "-a", "--json")
    seen = 0
    for job in json.loads(out)["jobs"]:
        job_id = _display_id(job)
        assert _as_text(job["exit_code"]) == exit_codes[job_id], job_id
        for step in job["steps"]:
            step_id = f"{job_id}.{step['step']['id']}"
            assert _as_text(step["exit_code"]) == exit_codes[step_id], step_id
            seen += 1
    assert seen > 30


def _display_id(job: dict[str, Any]) -> str:
    if job["array"]["job_id"]:
        return f"{job['array']['job_id']}_{job['array']['task_id']}"
    return str(job["job_id"])


def _as_text(exit_code: dict[str, Any]) -> str:
    if exit_code["status"] == "PENDING":
        return ""
    if exit_code["status"] == "SIGNALED":
        return f"0:{exit_code['signal']['signal_id']}"
    return f"{exit_code['return_code']}:0"


def test_json_selection_options_apply_and_format_options_do_not(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, plain, _ = run(store, monkeypatch, capsys, "-j", "3", "--json")
    _, formatted, _ = run(store, monkeypatch, capsys, "-j", "3", "--json", "-o", "jobid", "-n")
    assert plain == formatted
    _, out, _ = run(store, monkeypatch, capsys, "-j", "3", "-X", "--json")
    (job,) = json.loads(out)["jobs"]
    assert job["steps"] == []
    # -j 3.0 shows only that step, still nested in its job.
    _, out, _ = run(store, monkeypatch, capsys, "-j", "3.0", "--json")
    (job,) = json.loads(out)["jobs"]
    assert [s["step"]["id"] for s in job["steps"]] == [0]
    assert job["name"] == "step7_script0"
    _, out, _ = run(store, monkeypatch, capsys, "-j", "999999", "--json")
    assert json.loads(out)["jobs"] == []


def test_json_one_record_per_job_with_steps_nested(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, text, _ = run(store, monkeypatch, capsys, "-a", "-P", "-n", "-o", "jobidraw")
    ids = text.split()
    _, out, _ = run(store, monkeypatch, capsys, "-a", "--json")
    jobs = json.loads(out)["jobs"]
    assert [str(j["job_id"]) for j in jobs] == [i for i in ids if "." not in i]
    nested = [f"{j['job_id']}.{s['step']['id']}" for j in jobs for s in j["steps"]]
    assert nested == [i for i in ids if "." in i]


# ------------------------------------------------------------------------------ --ndjson


def test_ndjson_is_one_job_per_line_like_json(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(store, monkeypatch, capsys, "-a", "--ndjson")
    assert (status, err) == (0, "")
    assert out.endswith("\n")
    lines = out.splitlines()
    records = [json.loads(line) for line in lines]
    _, doc, _ = run(store, monkeypatch, capsys, "-a", "--json")
    assert records == json.loads(doc)["jobs"]
    assert all(isinstance(r["steps"], list) for r in records)
    _, none, _ = run(store, monkeypatch, capsys, "-j", "999999", "--ndjson")
    assert none == ""


# --------------------------------------------------------------------------------- --csv


def test_csv_round_trips_hostile_names(
    nasty_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fields = "jobid,jobname,state,exitcode,comment,admincomment"
    status, out, err = run(
        nasty_store, monkeypatch, capsys, "-j", "2,3,8,12", "--csv", "-o", fields
    )
    assert (status, err) == (0, "")
    # RFC 4180: CRLF ends records; the newline inside a quoted name is kept as stored.
    assert out.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == ["JobID", "JobName", "State", "ExitCode", "Comment", "AdminComment"]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["2"][1] == CSV_NAME
    assert by_id["3"][1:5:3] == [MARKUP_NAME, MARKUP_NAME]
    assert by_id["8"][1] == EVIL_NAME and by_id["8"][5] == EVIL_NAME
    assert by_id["12"][4] == CRLF_COMMENT
    assert by_id["2.batch"][1:4] == ["batch", "FAILED", "3:0"]
    # The values are -P's wherever -P can carry them.
    _, parsable, _ = run(nasty_store, monkeypatch, capsys, "-j", "13", "-P", "-o", fields)
    _, as_csv, _ = run(nasty_store, monkeypatch, capsys, "-j", "13", "--csv", "-o", fields)
    assert [line.split("|") for line in parsable.splitlines()] == list(
        csv.reader(io.StringIO(as_csv, newline=""))
    )


def test_csv_noheader(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(store, monkeypatch, capsys, "-j", "2", "--csv", "-n", "-o", "jobid,state")
    assert out == "2,FAILED\r\n2.batch,FAILED\r\n"


# ------------------------------------------------------------------- option conflicts


@pytest.mark.parametrize(
    "flags",
    [
        ["--json", "--csv"],
        ["--json", "--ndjson"],
        ["--ndjson", "--csv"],
        ["--json", "-P"],
        ["--csv", "-p"],
        ["--ndjson", "-P"],
        ["-p", "--json"],
    ],
)
def test_machine_formats_exclude_each_other(
    flags: list[str],
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(store, monkeypatch, capsys, "-j", "2", *flags)
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("jobacct: error: ") and "cannot be used together" in err


def test_output_mode() -> None:
    def mode(**on: bool) -> OutputMode:
        flags = dict.fromkeys(("json", "ndjson", "csv", "parsable", "parsable2"), False)
        return output_mode(**(flags | on))

    assert mode() is OutputMode.TABLE
    assert mode(parsable=True, parsable2=True) is OutputMode.PARSABLE2  # sacct: -P wins
    assert mode(csv=True) is OutputMode.CSV
    assert mode(ndjson=True) is OutputMode.NDJSON


# ------------------------------------------------------------- terminals and colour


def _strip_sgr(text: str) -> str:
    for code in (terminal.RESET, terminal.RED, terminal.GREEN, terminal.YELLOW, terminal.CYAN):
        text = text.replace(code, "")
    return text


def test_colour_only_on_a_terminal(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    args = ("-j", "2,3,5", "-o", "jobid,jobname,state,exitcode,derivedexitcode")
    _, piped, _ = run(store, monkeypatch, capsys, *args)
    assert "\x1b" not in piped
    _, coloured, _ = run(store, monkeypatch, capsys, *args, tty=True)
    assert f"{terminal.RED}FAILED{terminal.RESET}" in coloured
    assert f"{terminal.GREEN}COMPLETED{terminal.RESET}" in coloured
    assert f"{terminal.YELLOW}CANCELLED{terminal.RESET}" in coloured  # 5.0, killed
    assert f"{terminal.RED}3:0{terminal.RESET}" in coloured
    assert f"{terminal.RED}0:9{terminal.RESET}" in coloured
    assert f"{terminal.GREEN}0:0" not in coloured and f"{terminal.RED}0:0" not in coloured
    # Same text, same widths, once the colour codes are taken out.
    assert _strip_sgr(coloured) == piped


@pytest.mark.parametrize(
    "extra", [["-P"], ["-p"], ["--csv"], ["--json"], ["--ndjson"], ["--parsable2", "-n"]]
)
def test_no_colour_outside_the_table(
    extra: list[str],
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    _, out, _ = run(store, monkeypatch, capsys, "-j", "2,8", *extra, tty=True)
    assert "\x1b" not in out


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"NO_COLOR": "yes"}, {"TERM": "dumb"}])
def test_no_colour_when_asked(
    env: dict[str, str],
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TERM", "xterm")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _, out, _ = run(store, monkeypatch, capsys, "-j", "2", tty=True)
    assert "\x1b" not in out
    assert "FAILED" in out


def test_control_characters_are_neutralised_on_a_terminal(
    nasty_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    args = ("-j", "8", "-X", "-o", "jobid,jobname%60,admincomment%60,state")
    _, out, _ = run(nasty_store, monkeypatch, capsys, *args, tty=True)
    assert "\x1b" not in out and "\x07" not in out and "\t" not in out and "\x9b" not in out
    shown = "evil\\x1b]0;pwned\\x07\\x1b[2J\\x09tab\\x9bC1\\x7f"
    assert out.count(shown) == 2
    header, dashes, line = out.splitlines()
    assert len(line) == len(header) == len(dashes)
    # -P on a terminal too; piped, every byte is the stored one.
    _, parsable, _ = run(
        nasty_store, monkeypatch, capsys, "-j", "8", "-X", "-P", "-n", "-o", "jobname", tty=True
    )
    assert parsable == shown + "\n"
    _, piped, _ = run(
        nasty_store, monkeypatch, capsys, "-j", "8", "-X", "-P", "-n", "-o", "jobname"
    )
    assert piped == EVIL_NAME + "\n"


def test_colour_and_escapes_together_keep_widths(
    nasty_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    _, out, _ = run(
        nasty_store, monkeypatch, capsys, "-j", "8", "-o", "jobid,jobname,state,exitcode", tty=True
    )
    lines = _strip_sgr(out).splitlines()
    assert "\x1b" not in _strip_sgr(out)
    assert {len(line) for line in lines} == {len(lines[0])}
    assert lines[2].split()[1] == "evil\\x1b]+"  # cut to 10 like any long name


def test_markup_is_never_interpreted(
    nasty_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    args = ("-j", "3", "-X", "-o", "jobname%20,comment%20")
    for extra, tty in (([], True), ([], False), (["-P"], False), (["--csv"], True)):
        _, out, _ = run(nasty_store, monkeypatch, capsys, *args, *extra, tty=tty)
        assert out.count(MARKUP_NAME) == 2, (extra, tty)
    _, out, _ = run(nasty_store, monkeypatch, capsys, "-j", "3", "--ndjson")
    job = json.loads(out)
    assert job["name"] == MARKUP_NAME and job["comment"]["job"] == MARKUP_NAME


def test_json_is_ascii_so_control_characters_stay_escaped(
    nasty_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for flag in ("--json", "--ndjson"):
        _, out, _ = run(nasty_store, monkeypatch, capsys, "-j", "2,8,12", flag, tty=True)
        assert out.isascii()
        assert not any(ch in out for ch in "\x1b\x07\r\t")
        names = [
            j["name"]
            for j in (
                json.loads(out)["jobs"]
                if flag == "--json"
                else [json.loads(line) for line in out.splitlines()]
            )
        ]
        assert names[:2] == [CSV_NAME, EVIL_NAME]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_real_terminal(nasty_store: str, tmp_path: Path) -> None:
    """End to end through a pty: colour and escaping happen, as a person would see them."""
    controller, child = os.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jobacct",
            "--db",
            nasty_store,
            "sacct",
            "-j",
            "2,8",
            "-o",
            "jobname%40,state",
        ],
        stdout=child,
        stderr=subprocess.PIPE,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO once the child has closed its side
            break
        if not data:
            break
        chunks.append(data)
    os.close(controller)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    shown = b"".join(chunks).decode()
    assert f"{terminal.RED}FAILED{terminal.RESET}" in shown
    assert "evil\\x1b]0;pwned" in shown
    assert "\x1b]" not in shown and "\x07" not in shown


# ------------------------------------------------------------ streaming and memory


def _golden_rows(url: str) -> list[tuple[SimpleNamespace, bool]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [
            (SimpleNamespace(**row._asdict()), is_step)
            for row, is_step in iter_lines(conn, JobFilter(), Window(0, 2**40))
        ]
    engine.dispose()
    return rows


def _many(
    rows: list[tuple[SimpleNamespace, bool]], copies: int, seen: list[int]
) -> Iterator[tuple[SimpleNamespace, bool]]:
    for copy in range(copies):
        for row, is_step in rows:
            seen[0] += 1
            yield SimpleNamespace(**(vars(row) | {"id": row.id + copy * 100_000})), is_step


def test_json_streams_one_job_at_a_time(store: str) -> None:
    rows = _golden_rows(store)
    seen = [0]
    chunks = json_document(_many(rows, 1000, seen), Ctx(now=_epoch(WHEN)))
    head = next(chunks)
    assert head.startswith('{\n  "meta": ')
    first_job = json.loads(head.split("\n    ", 1)[1])
    steps_of_first = len(first_job["steps"])
    # Only the first job's lines and one more (which tells the job is complete) were read.
    assert seen[0] == 1 + steps_of_first + 1
    next(chunks)
    assert seen[0] <= 2 * (1 + 10)
    seen = [0]
    lines = ndjson_lines(_many(rows, 1000, seen), Ctx(now=_epoch(WHEN)))
    next(lines)
    assert seen[0] == 1 + steps_of_first + 1


def test_memory_stays_flat(store: str) -> None:
    rows = _golden_rows(store)
    ctx = Ctx(now=_epoch(WHEN))
    columns: list[Column] = resolve_format("jobid,jobname,state,exitcode,comment")

    def peak(copies: int) -> tuple[int, int]:
        size = 0
        tracemalloc.start()
        try:
            for produce in (
                lambda: json_document(_many(rows, copies, [0]), ctx),
                lambda: ndjson_lines(_many(rows, copies, [0]), ctx),
                lambda: csv_lines(_many(rows, copies, [0]), columns, ctx),
            ):
                for chunk in produce():
                    size += len(chunk)
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()

    small_peak, small_size = peak(2)
    big_peak, big_size = peak(16)
    assert big_size > 7 * small_size
    # Eight times the output, not eight times the memory (caches are bounded), and far
    # less memory than output: nothing holds the whole result.
    assert big_peak < 2 * small_peak + 1_000_000
    assert big_peak < big_size // 4


# ----------------------------------------------------------------------- the pieces


def test_exit_code_objects() -> None:
    assert exit_code_object(0, 0) == {"status": "SUCCESS", "return_code": 0}
    assert exit_code_object(3, 0) == {"status": "ERROR", "return_code": 3}
    assert exit_code_object(255, None) == {"status": "ERROR", "return_code": 255}
    assert exit_code_object(None, None) == {"status": "PENDING", "return_code": None}
    assert exit_code_object(0, 11)["signal"] == {"signal_id": 11, "name": "Segmentation fault"}
    assert exit_code_object(0, 49)["signal"]["name"] == "Real-time signal 15"  # golden job 36
    assert signal_name(125) == "Unknown signal 125"
    assert signal_name(10) == "User defined signal 1"


def test_tres_lists() -> None:
    assert tres_list("billing=1,cpu=1,mem=16000M,node=1,gres/gpu=2") == [
        {"type": "cpu", "name": None, "id": 1, "count": 1},
        {"type": "mem", "name": None, "id": 2, "count": 16000},
        {"type": "node", "name": None, "id": 4, "count": 1},
        {"type": "billing", "name": None, "id": 5, "count": 1},
        {"type": "gres", "name": "gpu", "id": None, "count": 2},
    ]
    assert tres_list("mem=1.50G") == [{"type": "mem", "name": None, "id": 2, "count": 1536}]
    usage = tres_list(
        "cpu=00:01:02,fs/disk=0,mem=3280K",
        usage=True,
        nodes="cpu=vm,fs/disk=vm,mem=vm",
        tasks="cpu=0,fs/disk=0,mem=1",
    )
    assert usage == [
        {"type": "cpu", "name": None, "id": 1, "count": 62000, "task": 0, "node": "vm"},
        {"type": "mem", "name": None, "id": 2, "count": 3358720, "task": 1, "node": "vm"},
        {"type": "fs", "name": "disk", "id": 6, "count": 0, "task": 0, "node": "vm"},
    ]
    assert tres_list(None) == [] and tres_list("") == []
    assert tres_list("cpu=abc") == [{"type": "cpu", "name": None, "id": 1, "count": None}]


def test_paint_keeps_width_and_neutralise() -> None:
    (state,) = resolve_format("state")
    fitted = " " * 4 + "FAILED"
    painted = terminal.paint_cell(state, "FAILED", fitted)
    assert painted == f"    {terminal.RED}FAILED{terminal.RESET}"
    assert _strip_sgr(painted) == fitted
    assert terminal.paint_cell(state, "PENDING", fitted) == fitted
    assert terminal.neutralise("a\x1b[31mb\x00\n\x85é") == "a\\x1b[31mb\\x00\\x0a\\x85é"
