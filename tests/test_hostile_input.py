"""Hostile and absurd input refused in one line (tracker issue 14, the first reproductions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobacct.cli import main
from jobacct.exitcode import ExitCode, ExitCodeError
from jobacct.fields import MAX_FIELD_WIDTH, FieldError, resolve_format
from jobacct.jobid import JobIdError, parse_selector


@pytest.mark.parametrize("text", ["\u0663", "\uff11", "1\uff10", "\u0663:0", "0:\u0669"])
def test_exit_codes_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ExitCodeError):
        ExitCode.parse(text)


@pytest.mark.parametrize("text", ["\uff12\uff10\uff11", "20\u0661", "201.\u0661", "2\u00b2"])
def test_job_ids_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(JobIdError):
        parse_selector(text)


@pytest.mark.parametrize(
    "spec", ["JobID%2000000000", "JobID%99999999999", "JobID%-99999999999999999999", "JobID%\uff12"]
)
def test_widths_are_bounded(spec: str) -> None:
    with pytest.raises(FieldError):
        resolve_format(spec)


def test_widest_width_still_allowed() -> None:
    assert resolve_format(f"JobID%{MAX_FIELD_WIDTH},State%-{MAX_FIELD_WIDTH}")[1].width == (
        -MAX_FIELD_WIDTH
    )


@pytest.mark.parametrize("spec", ["JobID%2000000000", "JobID%-99999999999999999999"])
def test_sacct_huge_width_is_one_error_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], spec: str
) -> None:
    status = main(["--db", sqlite_url, "sacct", "-j", "1", "-o", spec])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("jobacct: error: invalid width")


# ---------------------------------------------------------------- db commands on odd schemas


def _db(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["--db", url, "db", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _set_versions(url: str, *revisions: str) -> None:
    from sqlalchemy import text

    from jobacct.config import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        for revision in revisions:
            conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})
    engine.dispose()


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        (("0099",), "database schema 0099 is not one this jobacct knows (head "),
        (("garbage-rev",), "database schema garbage-rev is not one this jobacct knows"),
        (("0005", "0006"), "database records several schema revisions (0005, 0006)"),
    ],
)
@pytest.mark.parametrize("command", ["init", "upgrade", "current"])
def test_db_commands_on_an_unknown_schema_are_one_line(
    store_url: str,
    capsys: pytest.CaptureFixture[str],
    versions: tuple[str, ...],
    message: str,
    command: str,
) -> None:
    from jobacct import migrate

    _set_versions(store_url, *versions)
    try:
        status, out, err = _db(store_url, capsys, command)
        assert (status, out) == (4, "")
        assert err.startswith("jobacct: error: " + message) and err.count("\n") == 1
    finally:
        _set_versions(store_url, migrate.HEAD)  # the server databases are shared


def test_db_upgrade_to_an_unknown_revision(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _db(store_url, capsys, "upgrade", "0077")
    assert (status, out) == (2, "")
    assert err.startswith("jobacct: error: unknown revision '0077'")


def test_db_init_refuses_a_file_that_is_not_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("not a database\n")
    status, _out, err = _db(str(path), capsys, "init")
    assert status == 3
    assert err == "jobacct: error: cannot use the database: file is not a database\n"
    assert path.read_text() == "not a database\n"


def test_db_init_refuses_another_applications_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE inventory (item TEXT)")
    status, _out, err = _db(str(path), capsys, "init")
    assert status == 4
    assert "not jobacct's (inventory)" in err
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"inventory"}


# ---------------------------------------------------------------- text that reaches terminals

HOSTILE = "\x1b]0;owned\x07<script>alert(1)</script>\x9b\u202eevil"


def _hostile_job(url: str) -> None:
    from jobacct.config import make_engine
    from jobacct.shim.apply import apply
    from tests.test_shim_apply import SUBMIT, ev

    engine = make_engine(url)
    apply(engine, [
        ev("job_submit", 0, 501, uid=1001, user_name="alice", account="lc", job_name="x",
           comment=HOSTILE, partition=HOSTILE, eligible=SUBMIT),
        ev("job_start", 1, 501, time=SUBMIT + 1, nodelist="vm", nnodes=1, ncpus=1),
        ev("job_end", 2, 501, time=SUBMIT + 9, state="FAILED", exit=256),
    ])  # fmt: skip
    engine.dispose()


def test_sjobexitmod_list_escapes_on_a_terminal(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobacct.cli import output

    _hostile_job(store_url)
    monkeypatch.setattr(output, "_is_tty", lambda _stream: True)
    main(["--db", store_url, "sjobexitmod", "-l", "501"])
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e")
    assert "\\x1b]0;owned\\x07" in out  # (the Comment column is 14 wide: cut before U+202E)


def test_sjobexitmod_list_piped_is_unchanged(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _hostile_job(store_url)
    capsys.readouterr()
    main(["--db", store_url, "sacct", "-j", "501", "-X", "-P", "-o", "Comment", "-n"])
    assert capsys.readouterr().out == HOSTILE + "\n"


def test_sjobexitmod_refuses_a_bidi_override(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _hostile_job(store_url)
    capsys.readouterr()
    status = main(["--db", store_url, "sjobexitmod", "-r", "fine\u202eenif", "501"])
    _out, err = capsys.readouterr()
    assert status == 2
    assert "bidirectional formatting character U+202E" in err and err.count("\n") == 1
    main(["--db", store_url, "sacct", "-j", "501", "-X", "-P", "-o", "Comment", "-n"])
    assert capsys.readouterr().out == HOSTILE + "\n"  # unchanged


@pytest.mark.parametrize("fmt", ["markdown", "csv"])
def test_reports_escape_hostile_text(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    import sys

    _hostile_job(store_url)
    capsys.readouterr()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    window = ("-S", "2026-09-21", "-E", "2026-09-22")
    status = main(["--db", store_url, "report", "failures", *window, "--format", fmt])
    out = capsys.readouterr().out
    assert status == 0
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e")
    if fmt == "markdown":
        assert "<script>" not in out and "&lt;script&gt;" in out


# ---------------------------------------------------------------- tracebacks that were


@pytest.mark.parametrize(
    "args",
    [
        ("sacct", "-u", "99999999999999999999999"),
        ("sacct", "-g", "99999999999999999999999"),
        ("report", "failures", "-u", "99999999999999999999999"),
    ],
)
def test_huge_ids_are_one_line(
    store_url: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    capsys.readouterr()
    status = main(["--db", store_url, *args])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.startswith("jobacct: error: invalid ") and err.count("\n") == 1


def _ingest(url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str) -> str:
    from jobacct.config import make_engine
    from tests.shim_helpers import dump_store

    engine = make_engine(url)
    before = dump_store(engine)
    source = tmp_path / "events.jsonl"
    source.write_text(text)
    capsys.readouterr()
    status = main(["--db", url, "shim", "ingest", str(source)])
    _out, err = capsys.readouterr()
    assert status == 1 and err.count("\n") == 1, err
    assert dump_store(engine) == before  # nothing written
    engine.dispose()
    return err


def _line(seq: int, **fields: object) -> str:
    import json

    key = {"schema": 1, "cluster": "t", "job_id_raw": 5, "submit": 1790000000, "seq": seq}
    return json.dumps({**key, **fields}) + "\n"


_SUBMIT = _line(0, type="job_submit", uid=1)
_WHEN = 1790000009


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000 + "\n", "JSON nested too deeply"),
        (_line(0, type="job_submit", uid=1, req_mem=2**63), "req_mem"),
        (
            _SUBMIT
            + _line(1, type="step_end", step="0", time=_WHEN, exit=0, max_rss=2**64 - 1),
            "max_rss",
        ),
        (
            _SUBMIT + _line(1, type="job_end", time=5, state="FAILED", exit=256),
            "time 5 is before the job's submit time 1790000000",
        ),
        (
            _SUBMIT
            + _line(1, type="signal", uid=0, signal=999, time=_WHEN, api="slurm_kill_job"),
            "signal",
        ),
    ],
    ids=["deep", "req_mem", "max_rss", "end-before-submit", "signal-999"],
)  # fmt: skip
def test_shim_refuses_absurd_events(
    store_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    text: str,
    message: str,
) -> None:
    err = _ingest(store_url, capsys, tmp_path, text)
    assert message in err


def test_annotation_that_is_not_utf8_is_one_line(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _hostile_job(store_url)
    capsys.readouterr()
    status = main(["--db", store_url, "sjobexitmod", "-r", "bad\udcff", "501"])
    _out, err = capsys.readouterr()
    assert status == 2
    assert err == "jobacct: error: argument 'bad\\udcff' is not valid UTF-8\n"


# ---------------------------------------------------------------- scancel bounds


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("100,",), "scancel: error: Invalid job id 100,\n"),
        (("100,,101",), "scancel: error: Invalid job id 100,,101\n"),
        (("-Q", "100_[1-99999999]"), "scancel: error: Invalid job id 100_[1-99999999]\n"),
        (("-w", "/dev/zero"), "scancel: error: Node list file /dev/zero is larger than 16777216"),
    ],
)
def test_scancel_refuses_absurd_ids_and_files(
    store_url: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    from jobacct.config import make_engine
    from tests.shim_helpers import dump_store

    _hostile_job(store_url)
    engine = make_engine(store_url)
    before = dump_store(engine)
    capsys.readouterr()
    status = main(["--db", store_url, "scancel", *args])
    _out, err = capsys.readouterr()
    assert status == 1
    assert err.startswith(message) and err.count("\n") == 1
    assert dump_store(engine) == before
    engine.dispose()


def test_array_task_lists_are_bounded() -> None:
    from jobacct.query import MAX_ARRAY_SIZE, array_task_ids

    assert array_task_ids(f"0-{MAX_ARRAY_SIZE - 1}:1000000") == [
        0,
        1000000,
        2000000,
        3000000,
        4000000,
    ]
    assert array_task_ids(f"1-{MAX_ARRAY_SIZE}") is None


# ---------------------------------------------------------------- annotation commands


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sjobexitmod", "-e", "3", "501.batch"), "invalid job id '501.batch'"),
        (("sjobexitmod", "-l", "-e", "1", "501"), "-l/--history list only: -e"),
        (("sjobexitmod", "--history", "-r", "x", "501"), "-l/--history list only: -r"),
        (("modify-job", "-i", "where", "JobID=501", "set", "Comment=a", "Comment=b"),
         "Comment set twice"),
        (("modify-job", "-i", "where", "StartTime=2026-01-01", "StartTime=2026-02-01",
          "JobID=501", "set", "Comment=a"), "condition StartTime given twice"),
    ],
)  # fmt: skip
def test_annotation_commands_refuse_what_they_would_drop(
    store_url: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    from jobacct.config import make_engine
    from tests.shim_helpers import dump_store

    _hostile_job(store_url)
    engine = make_engine(store_url)
    before = dump_store(engine)
    capsys.readouterr()
    status = main(["--db", store_url, *args])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert message in err and err.count("\n") == 1
    assert dump_store(engine) == before
    engine.dispose()


def test_modify_job_repeated_where_adds_up(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from jobacct.config import make_engine
    from jobacct.shim.apply import apply
    from tests.test_shim_apply import ev

    _hostile_job(store_url)
    engine = make_engine(store_url)
    apply(engine, [ev("job_submit", 0, 502, uid=1001, user_name="alice", account="lc")])
    engine.dispose()
    status = main(["--db", store_url, "modify-job", "-i", "where", "JobID=501", "where",
                   "JobID=502", "set", "Comment=both"])  # fmt: skip
    assert status == 0
    capsys.readouterr()
    main(["--db", store_url, "sacct", "-j", "501,502", "-X", "-P", "-n", "-o", "JobID,Comment"])
    assert capsys.readouterr().out == "501|both\n502|both\n"


def test_shim_job_that_ran_without_eligible_is_listed(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A controller that sends no ``eligible``: the job that ran is in windowed listings as
    in the failures report (it was hidden: NULL eligible means never eligible, §4.7)."""
    from jobacct.config import make_engine
    from jobacct.shim.apply import apply
    from tests.test_shim_apply import SUBMIT, ev

    engine = make_engine(store_url)
    apply(engine, [
        ev("job_submit", 0, 503, uid=1001, user_name="alice", account="lc", job_name="ran"),
        ev("job_start", 1, 503, time=SUBMIT + 5, nodelist="vm", nnodes=1, ncpus=1),
        ev("job_end", 2, 503, time=SUBMIT + 50, state="FAILED", exit=256),
        ev("job_submit", 0, 504, uid=1001, user_name="alice", account="lc", job_name="held"),
        ev("job_start", 1, 504, time=SUBMIT + 9, nodelist="", nnodes=0, ncpus=0),
        ev("job_end", 2, 504, time=SUBMIT + 9, state="CANCELLED", exit=0, kill_requid=0),
    ])  # fmt: skip
    engine.dispose()
    capsys.readouterr()
    window = ["-S", "2026-09-21", "-E", "2026-09-22"]
    main(["--db", store_url, "sacct", "-a", "-X", "-P", "-n", *window, "-o", "JobID,Eligible"])
    # 504 never had nodes nor an eligible time: hidden like Slurm's held jobs (golden 21).
    assert capsys.readouterr().out == "503|2026-09-21T14:13:20\n"


# ---------------------------------------------------------------- imports


def _dump(tmp_path: Path, column: str, value: str) -> Path:
    from tests.conftest import GOLDEN

    lines = (GOLDEN / "db" / "golden_job_table.tsv").read_text().split("\n")
    header = lines[0].split("\t")
    row = lines[1].split("\t")
    row[header.index(column)] = value
    path = tmp_path / f"job_{column}.tsv"
    path.write_text(lines[0] + "\n" + "\t".join(row) + "\n")
    return path


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("time_end", "99999999999999", "time_end '99999999999999' is not a time (after 2106)"),
        ("id_job", "0", "id_job '0' is not a job id"),
        ("job_name", "a\\0b", "job_name holds a NUL byte"),
        ("job_name", "x" * 70000, "job_name is over 65535 characters"),
        ("state", "77", "unknown state 77"),
        ("id_user", "-1", "id_user '-1' is not a whole integer"),
        ("id_user", "99999999999999999999999", "id_user '99999999999999999999999' is out of range"),
    ],
)
def test_slurmdbd_import_refuses_absurd_cells(
    store_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    column: str, value: str, message: str,
) -> None:  # fmt: skip
    from jobacct.config import make_engine
    from tests.shim_helpers import dump_store

    engine = make_engine(store_url)
    before = dump_store(engine)
    steps = tmp_path / "steps.tsv"
    from tests.conftest import GOLDEN

    steps.write_text((GOLDEN / "db" / "golden_step_table.tsv").read_text().split("\n")[0] + "\n")
    job = _dump(tmp_path, column, value)
    capsys.readouterr()
    args = ["import", "slurmdbd", "--cluster", "t", "--job-table", str(job), "--step-table"]
    status = main(["--db", store_url, *args, str(steps)])
    _out, err = capsys.readouterr()
    assert status == 1
    assert message in err
    assert dump_store(engine) == before
    engine.dispose()


_SACCT_HEADER = "JobID|JobName|State|ExitCode|Submit|UID"


@pytest.mark.parametrize(
    ("text", "options", "status", "message"),
    [
        (f"{_SACCT_HEADER}\n5|x|EXPLODED|0:0|2026-11-22T10:00:00|1001\n", (), 1,
         "invalid State 'EXPLODED'"),
        (f"{_SACCT_HEADER}\n5|x|CANCELLED by -1|0:0|2026-11-22T10:00:00|1001\n", (), 1,
         "invalid State 'CANCELLED by -1'"),
        (f"{_SACCT_HEADER}\n5|x|COMPLETED|0:0|2026-11-22T10:00:00|1001\n", ("--cluster", ""), 2,
         "invalid cluster name ''"),
        (f"{_SACCT_HEADER}\n5|x|COMPLETED|0:0|2026-11-22T10:00:00|1001\n",
         ("--cluster", "c" * 100), 2, "invalid cluster name"),
    ],
)  # fmt: skip
def test_sacct_import_refuses_what_sacct_never_prints(
    store_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    text: str, options: tuple[str, ...], status: int, message: str,
) -> None:  # fmt: skip
    from jobacct.config import make_engine
    from tests.shim_helpers import dump_store

    engine = make_engine(store_url)
    before = dump_store(engine)
    source = tmp_path / "sacct.txt"
    source.write_text(text)
    capsys.readouterr()
    got = main(["--db", store_url, "import", "sacct", *(options or ("--cluster", "t")),
                str(source)])  # fmt: skip
    _out, err = capsys.readouterr()
    assert got == status, err
    assert message in err
    assert dump_store(engine) == before
    engine.dispose()


def test_sacct_import_reads_a_byte_order_mark(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from jobacct import migrate
    from jobacct.config import make_engine

    engine = make_engine(sqlite_url, create=True)
    migrate.upgrade(engine)
    engine.dispose()
    source = tmp_path / "bom.txt"
    source.write_text(f"\ufeff{_SACCT_HEADER}\n6|x|COMPLETED|0:0|2026-11-22T10:00:00|1001\n")
    assert main(["--db", sqlite_url, "import", "sacct", "--cluster", "t", str(source)]) == 0
    capsys.readouterr()
    main(["--db", sqlite_url, "sacct", "-j", "6", "-P", "-n", "-o", "JobID,JobName,State"])
    assert capsys.readouterr().out == "6|x|COMPLETED\n"


@pytest.mark.parametrize(
    "args",
    [
        ("import", "sacct", "--cluster", "t", "/dev/zero"),
        ("import", "slurmdbd", "--cluster", "t", "--job-table", "/dev/zero", "--step-table",
         "/dev/zero"),
    ],
)  # fmt: skip
def test_imports_of_an_endless_line_stop(
    store_url: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    capsys.readouterr()
    status = main(["--db", store_url, *args])
    _out, err = capsys.readouterr()
    assert status == 1
    assert err == "jobacct: error: /dev/zero:1: line longer than 16777216 bytes\n"


def test_empty_user_map_is_refused(
    store_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.conftest import GOLDEN

    capsys.readouterr()
    status = main(["--db", store_url, "import", "slurmdbd", "--cluster", "golden",
                   "--job-table", str(GOLDEN / "db" / "golden_job_table.tsv"),
                   "--step-table", str(GOLDEN / "db" / "golden_step_table.tsv"),
                   "--user-map", "/dev/null"])  # fmt: skip
    _out, err = capsys.readouterr()
    assert status == 2
    assert err == "jobacct: error: /dev/null: no users in the user map\n"


def test_slurmdbd_dump_with_a_renamed_column_is_refused(
    store_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.conftest import GOLDEN

    lines = (GOLDEN / "db" / "golden_job_table.tsv").read_text().split("\n")
    job = tmp_path / "jobs.tsv"
    job.write_text("\n".join([lines[0].replace("\tjob_name\t", "\tjob_nameX\t"), *lines[1:]]))
    capsys.readouterr()
    status = main(["--db", store_url, "import", "slurmdbd", "--cluster", "golden",
                   "--job-table", str(job),
                   "--step-table", str(GOLDEN / "db" / "golden_step_table.tsv")])  # fmt: skip
    _out, err = capsys.readouterr()
    assert status == 1
    assert "column 'job_nameX' is not a column of Slurm 22.05's job or step table" in err


def test_sacct_record_printed_twice_with_other_values_is_said(
    store_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 14: a conflicting duplicate row won silently. Joined outputs of two runs print a
    job twice legitimately (RUNNING, then FAILED): the later is kept, with one warning line."""
    source = tmp_path / "joined.txt"
    source.write_text(
        f"{_SACCT_HEADER}\n19|x|RUNNING|0:0|2026-11-22T10:00:00|1001\n"
        "19|x|FAILED|1:0|2026-11-22T10:00:00|1001\n"
    )
    capsys.readouterr()
    assert main(["--db", store_url, "import", "sacct", "--cluster", "t", str(source)]) == 0
    _out, err = capsys.readouterr()
    assert "jobacct: warning: " in err
    assert (
        "job 19 submitted at 1795341600 printed again with other exit_code, state (line 2)" in err
    )
    main(["--db", store_url, "sacct", "-j", "19", "-P", "-n", "-o", "JobID,State,ExitCode"])
    assert capsys.readouterr().out == "19|FAILED|1:0\n"


def test_live_import_url_cannot_name_local_files(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the daemon the --from connection is made with the daemon's rights: options
    naming local files (read_default_file, unix_socket, ssl_*) are refused."""
    url = "mysql+pymysql://root@127.0.0.1/x?read_default_file=/etc/shadow"
    capsys.readouterr()
    status = main(["--db", sqlite_url, "import", "slurmdbd", "--cluster", "golden", "--from", url])
    _out, err = capsys.readouterr()
    assert status == 2
    assert err.startswith("jobacct: error: --from URL option(s) read_default_file not allowed")
