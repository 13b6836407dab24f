"""Importing slurmdbd's own job and step tables (``mysql -B`` dumps of the golden cluster).

The golden tables and the golden ``sacct -a --parsable2 --format=ALL`` output come from the
same real Slurm 22.05: importing either must make ``jobacct sacct`` print the same cells.
"""

from __future__ import annotations

import calendar
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct import caller
from jobacct import sacct_command as sacct_cmd
from jobacct.cli import main
from jobacct.config import make_engine
from jobacct.errors import ImportFormatError
from jobacct.importer import import_sacct
from jobacct.model import Job, Step
from jobacct.slurmdbd_import import (
    REASONS_2205,
    format_tres,
    import_slurmdbd,
    job_flags_text,
    read_mysql_tsv,
    reason_text,
    state_name,
)
from tests.conftest import GOLDEN, golden_stdout, parse_case
from tests.test_golden_sacct import EXACT

JOB_TABLE = GOLDEN / "db" / "golden_job_table.tsv"
STEP_TABLE = GOLDEN / "db" / "golden_step_table.tsv"
USERS = {0: "root", 1001: "alice"}
GROUPS = {0: "root", 1001: "alice"}
HIDDEN = ["20", "21", "22", "32", "33"]
#: The fields the two imports must print alike (QOS needs a qos map: tested separately).
FIELDS = (
    "JobID,JobIDRaw,JobName,User,UID,Account,Partition,State,ExitCode,DerivedExitCode,"
    "Comment,AdminComment,SystemComment,Submit,Start,End,Eligible,Elapsed,Timelimit,NNodes,"
    "NCPUS,NodeList,ReqMem,MaxRSS,TotalCPU,UserCPU,SystemCPU,Reason,"
    # beyond the list asked for: every other field both importers store
    "Flags,AllocTRES,ReqTRES,Priority,WorkDir,SubmitLine,Constraints,WCKey,GID,Group,ReqCPUS,"
    "NTasks,Suspended,TimelimitRaw,AllocCPUS,AllocNodes,CPUTime,CPUTimeRAW,ElapsedRaw,"
    # the step usage statistics and the remaining fields of Slurm 22.05
    "AssocID,AveCPU,AveCPUFreq,AveDiskRead,AveDiskWrite,AvePages,AveRSS,AveVMSize,BlockID,"
    "ConsumedEnergy,ConsumedEnergyRaw,Container,DBIndex,Layout,MaxDiskRead,MaxDiskReadNode,"
    "MaxDiskReadTask,MaxDiskWrite,MaxDiskWriteNode,MaxDiskWriteTask,MaxPages,MaxPagesNode,"
    "MaxPagesTask,MaxRSSNode,MaxRSSTask,MaxVMSize,MaxVMSizeNode,MaxVMSizeTask,McsLabel,"
    "MinCPU,MinCPUNode,MinCPUTask,QOSRAW,ReqCPUFreq,ReqCPUFreqGov,ReqCPUFreqMax,"
    "ReqCPUFreqMin,ReqNodes,ReservationId,Reserved,ResvCPU,ResvCPURAW,TRESUsageInAve,"
    "TRESUsageInMax,TRESUsageInMaxNode,TRESUsageInMaxTask,TRESUsageInMin,TRESUsageInMinNode,"
    "TRESUsageInMinTask,TRESUsageInTot,TRESUsageOutAve,TRESUsageOutMax,TRESUsageOutMaxNode,"
    "TRESUsageOutMaxTask,TRESUsageOutMin,TRESUsageOutMinNode,TRESUsageOutMinTask,"
    "TRESUsageOutTot,WCKeyID"
)
#: Clock of the queries: after every golden job ended, so Elapsed never depends on "now".
NOW = 1795400000


@pytest.fixture(autouse=True)
def _as_root_at_fixed_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(caller, "caller_uid", lambda: 0)
    monkeypatch.setattr(sacct_cmd, "_now", lambda: NOW)
    yield


def _import_tables(url: str, **kwargs: Any) -> Any:
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            return import_slurmdbd(
                session,
                read_mysql_tsv(JOB_TABLE),
                read_mysql_tsv(STEP_TABLE),
                "golden",
                USERS,
                GROUPS,
                **kwargs,
            )
    finally:
        engine.dispose()


def _sacct(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> list[list[str]]:
    capsys.readouterr()
    status = main(["--db", url, "sacct", "-P", *args])
    out, err = capsys.readouterr()
    assert status == 0, err
    return [line.split("|") for line in out.splitlines()]


def _listing(url: str, capsys: pytest.CaptureFixture[str], fields: str) -> dict[str, list[str]]:
    rows = _sacct(url, capsys, "-a", "-S", "2026-11-22", "-E", "2026-11-23", "-o", fields)
    header, body = rows[0], rows[1:]
    assert header == fields.split(",")
    by_id = {row[0]: row for row in body}
    assert len(by_id) == len(body), "JobIDs repeat"
    return by_id


@pytest.fixture
def sacct_store(tmp_path: Path) -> str:
    """A second store holding the golden sacct -P output, imported by import_sacct."""
    from jobacct import migrate

    url = "sqlite:///" + str(tmp_path / "from_sacct.sqlite")
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    with Session(engine) as session, session.begin():
        lines = golden_stdout(GOLDEN / "sacct" / "03_parsable2_ALL.txt").splitlines()
        import_sacct(session, lines, "golden")
    engine.dispose()
    return url


def _snapshot(url: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            jobs = [
                tuple(getattr(j, c.key) for c in Job.__table__.columns)
                for j in session.scalars(select(Job).order_by(Job.id))
            ]
            steps = [
                tuple(getattr(s, c.key) for c in Step.__table__.columns)
                for s in session.scalars(select(Step).order_by(Step.id))
            ]
        return jobs + steps
    finally:
        engine.dispose()


# ---------------------------------------------------------------- (1) same cells as sacct


def test_golden_tables_print_like_the_golden_sacct_output(
    sqlite_url: str, sacct_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _import_tables(sqlite_url)
    assert (result.jobs_seen, result.steps_seen) == (44, 50)
    assert result.warnings == []
    from_db = _listing(sqlite_url, capsys, FIELDS)
    from_sacct = _listing(sacct_store, capsys, FIELDS)
    names = FIELDS.split(",")
    assert len(from_sacct) == 89  # every job and step row of 03_parsable2_ALL
    differences = [
        (job_id, name, mine, theirs)
        for job_id, row in from_sacct.items()
        for name, mine, theirs in zip(names, from_db[job_id], row, strict=True)
        if mine != theirs
    ]
    assert differences == []
    # The only extra rows are pending-cancelled jobs whose (future --begin) eligible time lies
    # inside this window; 03 was listed with sacct's default window, which ended before it.
    assert sorted(set(from_db) - set(from_sacct)) == ["20", "33"]


def test_qos_names_come_from_a_map(
    sqlite_url: str, sacct_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_tables(sqlite_url, qos_names={1: "normal"})
    mine = _listing(sqlite_url, capsys, "JobID,QOS")
    theirs = _listing(sacct_store, capsys, "JobID,QOS")
    assert all(mine[job_id] == row for job_id, row in theirs.items())


def test_golden_values_that_need_a_rule(sqlite_url: str) -> None:
    _import_tables(sqlite_url)
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        jobs = {j.job_id_raw: j for j in session.scalars(select(Job))}
        # 27_1 waited on the array's task limit: state_reason_prev 72 in 22.05.
        assert jobs[29].reason == "JobArrayTaskLimit"
        assert (jobs[29].array_job_id, jobs[29].array_task_id) == (27, 1)
        assert jobs[22].reason == "DependencyNeverSatisfied"
        assert jobs[32].reason == "JobHeldUser"
        # A user's DerivedExitCode (sacctmgr / sjobexitmod) is detected as an annotation.
        assert (jobs[36].derived_exit_code, jobs[36].derived_exit_signal) == (0, 49)
        assert jobs[36].derived_annotated and jobs[37].derived_annotated
        assert not jobs[7].derived_annotated  # 2:0 is what its steps give
        assert jobs[44].state == "REQUEUED"
        assert jobs[1].het_job_id is None and jobs[1].het_job_offset is None
        assert jobs[1].array_job_id is None and jobs[1].array_task_id is None
        assert jobs[20].timelimit == 0xFFFFFFFE and jobs[1].timelimit == 0xFFFFFFFF
        assert jobs[20].nodelist is None and jobs[20].time_start is None
        assert jobs[1].kill_requid is None and jobs[31].kill_requid == 1001
        assert jobs[38].comment is None  # derived_es ''
        assert jobs[1].req_mem == 16000 and jobs[1].alloc_tres == "billing=1,cpu=1,node=1"
        steps = session.scalars(select(Step).where(Step.job_pk == jobs[42].id)).all()
        assert {s.step_id for s in steps} == {-5, 0}
        assert all(s.step_het_component is None for s in steps)
    engine.dispose()


#: Recorded sacct views (golden/sacct) that a store imported from the tables reproduces byte
#: for byte. 11g lists pending-cancelled jobs, which only the tables hold (03 lacks them).
VIEWS = [name for name in EXACT if name not in ("14_e.txt", "15_helpformat.txt")]
VIEW_USERS = {"root": 0, "alice": 1001}


@pytest.fixture(scope="module")
def tables_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from jobacct import migrate

    url = "sqlite:///" + str(tmp_path_factory.mktemp("tables") / "tables.sqlite")
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    engine.dispose()
    _import_tables(url, qos_names={1: "normal"})
    return url


@pytest.mark.parametrize("name", VIEWS)
def test_recorded_views_from_the_tables(
    name: str,
    tables_store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for entry in parse_case(GOLDEN / "sacct" / name):
        argv, user = shlex.split(entry["command"]), entry["user"]
        if argv[:2] == ["runuser", "-u"]:
            user, argv = argv[2], argv[4:]
        when = calendar.timegm(time.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S"))
        monkeypatch.setattr(sacct_cmd, "_now", lambda when=when: when)
        monkeypatch.setattr(caller, "caller_uid", lambda user=user: VIEW_USERS[user])
        capsys.readouterr()
        status = main(["--db", tables_store, "sacct", *argv[1:]])
        out, _ = capsys.readouterr()
        assert out == entry["stdout"], entry["command"]
        assert status == int(entry["status"])


# ---------------------------------------------------------------- (2) the hidden jobs


def test_pending_cancelled_jobs_are_imported(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_tables(sqlite_url)
    rows = _sacct(
        sqlite_url,
        capsys,
        "-j",
        ",".join(HIDDEN),
        "-o",
        "JobID,State,Start,End,Eligible,NodeList,AllocCPUS,Reason",
    )
    by_id = {row[0]: row for row in rows[1:]}
    assert sorted(by_id, key=int) == HIDDEN
    for job_id, row in by_id.items():
        assert row[1] == "CANCELLED by 0", job_id
        assert row[6] == "1", job_id  # AllocCPUS from tres_req: they never got tres_alloc
    for job_id in ("20", "22", "32", "33"):
        assert by_id[job_id][2] == "None"
        assert by_id[job_id][5] == "None assigned"
    # Job 21 (sbatch --hold, cancelled in the second it was submitted) has time_start set in
    # the job table, so its Start is that time, not None.
    assert by_id["21"][2] == "2026-11-22T11:34:46"
    assert [by_id[j][7] for j in HIDDEN] == [
        "BeginTime",
        "None",
        "DependencyNeverSatisfied",
        "JobHeldUser",
        "BeginTime",
    ]


def test_job_20_matches_its_recorded_sacct_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_tables(sqlite_url)
    fields = "JobID,State,ExitCode,DerivedExitCode,Submit,Eligible,Start,End,Elapsed,NodeList,"
    fields += "AllocCPUS,Reason"
    rows = _sacct(sqlite_url, capsys, "-j", "20", "-X", "-o", fields)
    assert "|".join(rows[1]) == (
        "20|CANCELLED by 0|0:0|0:0|2026-11-22T11:33:08|2026-11-22T12:33:08|None|"
        "2026-11-22T11:34:43|00:00:00|None assigned|1|BeginTime"
    )


# ---------------------------------------------------------------- (3) idempotent


def test_second_import_changes_nothing(sqlite_url: str) -> None:
    first = _import_tables(sqlite_url)
    assert (first.jobs_changed, first.steps_changed) == (44, 50)
    before = _snapshot(sqlite_url)
    second = _import_tables(sqlite_url)
    assert (second.jobs_seen, second.steps_seen) == (44, 50)
    assert (second.jobs_changed, second.steps_changed) == (0, 0)
    assert _snapshot(sqlite_url) == before


# ---------------------------------------------------------------- (4) bad rows write nothing


def _copy_with(path: Path, source: Path, line_no: int, column: str, value: str) -> Path:
    lines = source.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    cells = lines[line_no - 1].split("\t")
    cells[header.index(column)] = value
    lines[line_no - 1] = "\t".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_malformed_tsv_row_names_its_line(tmp_path: Path) -> None:
    lines = JOB_TABLE.read_text(encoding="utf-8").split("\n")
    lines[6] = lines[6].rsplit("\t", 1)[0]  # line 7 loses its last cell
    bad = tmp_path / "jobs.tsv"
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"jobs\.tsv:7: 52 fields, the header has 53"):
        read_mysql_tsv(bad)


def test_bad_value_writes_nothing_and_names_the_lines(sqlite_url: str, tmp_path: Path) -> None:
    jobs = _copy_with(tmp_path / "jobs.tsv", JOB_TABLE, 5, "state", "99")
    jobs = _copy_with(jobs, jobs, 9, "exit_code", "abc")
    steps = _copy_with(tmp_path / "steps.tsv", STEP_TABLE, 3, "job_db_inx", "999")
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        with pytest.raises(ImportFormatError) as caught:
            import_slurmdbd(
                session,
                read_mysql_tsv(jobs),
                read_mysql_tsv(steps),
                "golden",
                USERS,
                GROUPS,
                job_source="jobs.tsv",
                step_source="steps.tsv",
            )
        message = str(caught.value)
        assert "3 unreadable rows; nothing was imported" in message
        assert "jobs.tsv:5: unknown state 99" in message
        assert "jobs.tsv:9: exit_code 'abc' is not a whole integer" in message
        assert "steps.tsv:3: job_db_inx 999 is not in the job table" in message
        assert session.scalars(select(Job)).first() is None
        assert session.scalars(select(Step)).first() is None
    engine.dispose()


def test_tsv_escapes_and_null(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(b"a\tb\tc\nx\\ty\\\\z\\n\tNULL\t\\0\n")
    assert read_mysql_tsv(path) == [{"a": "x\ty\\z\n", "b": None, "c": "\0"}]
    (tmp_path / "empty.tsv").write_text("")
    with pytest.raises(ImportFormatError, match="no header"):
        read_mysql_tsv(tmp_path / "empty.tsv")


def test_unknown_reason_and_flags_are_warnings(sqlite_url: str, tmp_path: Path) -> None:
    jobs = _copy_with(tmp_path / "jobs.tsv", JOB_TABLE, 2, "state_reason_prev", "500")
    jobs = _copy_with(jobs, jobs, 3, "flags", "4096")
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        result = import_slurmdbd(
            session,
            read_mysql_tsv(jobs),
            read_mysql_tsv(STEP_TABLE),
            "golden",
            USERS,
            GROUPS,
        )
        assert len(result.warnings) == 2
        assert "state_reason_prev 500 is not a Slurm 22.05 reason" in result.warnings[0]
        assert "flags 4096" in result.warnings[1]
        job1, job2 = (session.scalars(select(Job).where(Job.job_id_raw == n)).one() for n in (1, 2))
        assert job1.reason == "500" and job2.flags is None
    engine.dispose()


# ---------------------------------------------------------------- value tables


def test_reason_numbers_are_22_05s() -> None:
    assert reason_text(0) == "None"
    assert reason_text(9) == "BeginTime"
    assert reason_text(16) == "JobHeldUser"
    assert reason_text(24) == "NonZeroExitCode"
    assert reason_text(25) == "TimeLimit"
    # 33, 34 and what 22.05.8 does not name: as real 22.05.8 sacct prints them (test_oracle)
    assert reason_text(33) == "BlockMaxError"
    assert reason_text(34) == "BlockFreeAction"
    assert reason_text(39) == "DependencyNeverSatisfied"
    assert reason_text(72) == "JobArrayTaskLimit"
    assert reason_text(167) == "DeadLine"
    assert reason_text(181) == "OutOfMemory"
    assert reason_text(199) == "199" and reason_text(201) == "201"
    assert sorted(REASONS_2205) == list(range(199))


def test_states_flags_and_tres() -> None:
    assert state_name(3) == ("COMPLETED", 0)
    assert state_name(11) == ("OUT_OF_MEMORY", 0)
    assert state_name(1024) == ("REQUEUED", 0)
    assert state_name(8192 | 1) == ("RESIZING", 0)
    assert state_name(524288 | 4) == ("REVOKED", 0)
    assert state_name(4 | 1 << 15) == ("CANCELLED", 1 << 15)
    with pytest.raises(ValueError):
        state_name(12)
    assert job_flags_text(20) == "SchedMain,StartRecieved"
    assert job_flags_text(18) == "SchedSubmit,StartRecieved"
    assert job_flags_text(24) == "SchedBackfill,StartRecieved"
    assert job_flags_text(16) == "StartRecieved"
    assert job_flags_text(0) is None  # an empty cell in real 22.05.8 sacct
    assert job_flags_text(32) is None
    assert format_tres("1=1,3=18446744073709551614,4=1,5=1") == ("billing=1,cpu=1,node=1", [])
    assert format_tres("1=1,2=0,4=1") == ("cpu=1,mem=0,node=1", [])
    assert format_tres("1=4,2=4096,4=1,1001=2") == ("cpu=4,mem=4G,node=1", [1001])
    assert format_tres("1001=2", {1001: "gres/gpu"}) == ("gres/gpu=2", [])
    assert format_tres("") == (None, [])
    with pytest.raises(ValueError):
        format_tres("1=x")


def test_step_without_exit_code_and_per_cpu_memory(sqlite_url: str, tmp_path: Path) -> None:
    steps = _copy_with(tmp_path / "steps.tsv", STEP_TABLE, 2, "exit_code", "-2")
    jobs = _copy_with(tmp_path / "jobs.tsv", JOB_TABLE, 2, "tres_req", "1=1,4=1")
    jobs = _copy_with(jobs, jobs, 2, "mem_req", str(0x8000000000000000 | 2000))
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        import_slurmdbd(
            session, read_mysql_tsv(jobs), read_mysql_tsv(steps), "golden", USERS, GROUPS
        )
        job = session.scalars(select(Job).where(Job.job_id_raw == 1)).one()
        assert job.req_mem == 2000
        step = session.scalars(select(Step).where(Step.job_pk == job.id)).one()
        assert (step.exit_code, step.exit_signal) == (None, None)
    engine.dispose()


# ---------------------------------------------------------------- the command


def test_cli_imports_once_and_reports(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user_map = tmp_path / "passwd"
    user_map.write_text("root:x:0:0:root:/root:/bin/bash\n# a comment\n1001 alice\n")
    argv = [
        "--db",
        sqlite_url,
        "import",
        "slurmdbd",
        "--job-table",
        str(JOB_TABLE),
        "--step-table",
        str(STEP_TABLE),
        "--cluster",
        "golden",
        "--user-map",
        str(user_map),
    ]
    capsys.readouterr()
    assert main(argv) == 0
    # Nothing on stdout (pipelines); the summary is one line on stderr, with the rate.
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        f"{JOB_TABLE}, {STEP_TABLE}: 44 job and 50 step rows, 44 jobs and 50 steps new or changed ("
    )
    assert err.endswith(" rows/s)\n") and err.count("\n") == 1
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert ": 44 job and 50 step rows, 0 jobs and 0 steps new or changed (" in err
    rows = _sacct(sqlite_url, capsys, "-j", "31,32", "-X", "-o", "JobID,User,UID,State")
    assert rows[1:] == [
        ["31", "alice", "1001", "CANCELLED by 1001"],
        ["32", "alice", "1001", "CANCELLED by 0"],
    ]


def test_cli_default_names_come_from_this_host(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import pwd

    argv = [
        "--db",
        sqlite_url,
        "import",
        "slurmdbd",
        "--job-table",
        str(JOB_TABLE),
        "--step-table",
        str(STEP_TABLE),
        "--cluster",
        "golden",
    ]
    assert main(argv) == 0
    rows = _sacct(sqlite_url, capsys, "-j", "1", "-X", "-o", "JobID,User")
    assert rows[1] == ["1", pwd.getpwuid(0).pw_name]


def test_cli_bad_row_fails_and_writes_nothing(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = _copy_with(tmp_path / "jobs.tsv", JOB_TABLE, 4, "time_submit", "soon")
    argv = [
        "--db",
        sqlite_url,
        "import",
        "slurmdbd",
        "--job-table",
        str(jobs),
        "--step-table",
        str(STEP_TABLE),
        "--cluster",
        "golden",
    ]
    capsys.readouterr()
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{jobs}:4: time_submit 'soon' is not a whole integer" in err
    assert "nothing was imported" in err
    assert _snapshot(sqlite_url) == []
