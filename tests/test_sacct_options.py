"""``jobacct sacct`` selection options (issue 3): every §4.5 option that applies to stored records.

The store is a small import of ``sacct -P`` text; the clock is 2026-11-22T12:00:00 UTC and the
caller is root unless a test says otherwise. SQL-level filters run on SQLite, PostgreSQL and
MariaDB (``store_url``); rules applied in Python (``-N``, ``-T``, ``--array``) and bad input
run on SQLite.
"""

from __future__ import annotations

import calendar
import json
import sqlite3
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from jobacct import caller, fastread
from jobacct import sacct_command as sacct_cmd
from jobacct.cli import main
from jobacct.config import make_engine
from jobacct.importer import import_sacct
from jobacct.jobid import parse_selectors
from jobacct.query import (
    CountRange,
    FilterError,
    JobFilter,
    Window,
    default_window,
)
from jobacct.sqltext import joined_lines_sql


def _epoch(stamp: str) -> int:
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S"))


NOW = _epoch("2026-11-22T12:00:00")
MIDNIGHT = _epoch("2026-11-22T00:00:00")
ROOT, ALICE = 0, 1001

COLUMNS = [
    "JobID", "JobIDRaw", "JobName", "User", "UID", "Group", "GID", "Account", "Partition", "QOS",
    "WCKey", "Reason", "Timelimit", "NNodes", "NCPUS", "NodeList", "Constraints", "Flags",
    "State", "ExitCode", "Submit", "Eligible", "Start", "End", "Suspended",
]  # fmt: skip
D = "2026-11-22T"
Y = "2026-11-21T"

ALICE_JOB = {"User": "alice", "UID": "1001", "Group": "users", "GID": "100", "Account": "phys"}
BOB_JOB = {"User": "bob", "UID": "1002", "Group": "staff", "GID": "200", "Account": "chem"}


def job(jobid: str, name: str, owner: dict[str, str], **cells: str) -> str:
    """One job row of the sacct -P text; JobIDRaw defaults to the JobID."""
    values = {
        "JobID": jobid,
        "JobIDRaw": jobid,
        "JobName": name,
        "Partition": "batch",
        "QOS": "normal",
        "WCKey": "wk1",
        "Reason": "None",
        "Timelimit": "01:00:00",
        "NNodes": "1",
        "NCPUS": "1",
        "NodeList": "None assigned",
        "Flags": "SchedMain,StartRecieved",
        "ExitCode": "0:0",
        "Suspended": "00:00:00",
        **owner,
        **cells,
    }
    values.setdefault("Eligible", values["Submit"])
    return "|".join(values.get(c, "") for c in COLUMNS)


def step(jobid: str, name: str, nodes: str, start: str, end: str, state: str = "COMPLETED") -> str:
    values = {
        "JobID": jobid,
        "JobIDRaw": jobid,
        "JobName": name,
        "NNodes": "1",
        "NCPUS": "1",
        "NodeList": nodes,
        "State": state,
        "ExitCode": "0:0",
        "Start": start,
        "End": end,
        "Suspended": "00:00:00",
    }
    return "|".join(values.get(c, "") for c in COLUMNS)


TUX = [
    job(
        "100", "overnight", ALICE_JOB, Timelimit="1-00:00:00", NNodes="2", NCPUS="8",
        NodeList="tux[1-2]", Constraints="intel", State="COMPLETED",
        Submit=Y + "21:59:00", Start=Y + "22:00:00", End=D + "02:00:00",
    ),
    step("100.0", "early", "tux1", Y + "22:00:00", Y + "23:00:00"),
    step("100.1", "late", "tux2", Y + "23:30:00", D + "01:30:00"),
    job(
        "101", "alpha", ALICE_JOB, NNodes="2", NCPUS="8", NodeList="tux[0-1]",
        Constraints="intel", State="COMPLETED",
        Submit=D + "08:00:00", Start=D + "08:00:10", End=D + "09:00:10",
    ),
    step("101.batch", "batch", "tux0", D + "08:00:10", D + "09:00:10"),
    step("101.0", "solver", "tux[0-1]", D + "08:01:00", D + "08:59:00"),
    job(
        "102", "beta", BOB_JOB, Partition="gpu", QOS="high", WCKey="wk2",
        Reason="NonZeroExitCode", Timelimit="02:00:00", NCPUS="4", NodeList="gpu7",
        Constraints="intel&ib", Flags="SchedBackfill,StartRecieved", State="FAILED",
        ExitCode="1:0", Submit=D + "09:00:00", Start=D + "09:00:05", End=D + "10:30:00",
    ),
    job(
        "103", "gamma", ALICE_JOB, Reason="TimeLimit", Timelimit="00:30:00", NNodes="4",
        NCPUS="16", NodeList="tux[2-3,7,10]", State="TIMEOUT", Suspended="00:05:00",
        Submit=D + "10:00:00", Start=D + "10:00:00", End=D + "10:30:30",
    ),
    job(
        "104", "delta", BOB_JOB, Partition="batch,gpu", Reason="Priority",
        Timelimit="UNLIMITED", NCPUS="0", Flags="SchedSubmit", State="PENDING",
        Submit=D + "11:00:00", Start="Unknown", End="Unknown",
    ),
    job(
        "105", "eps", {**BOB_JOB, "User": "carol", "UID": "1003"}, Partition="debug",
        QOS="low", Timelimit="00:10:00", NCPUS="0", State="CANCELLED by 0",
        Submit=D + "11:10:00", Start="None", End=D + "11:30:00",
    ),
    job(
        "106", "zeta", ALICE_JOB, Timelimit="12:00:00", NCPUS="2", NodeList="tux5",
        State="RUNNING", Submit=D + "11:00:00", Start=D + "11:00:00", End="Unknown",
    ),
    step("106.batch", "batch", "tux5", D + "11:00:00", "Unknown", "RUNNING"),
    job(
        "107_[1-3,5%2]", "arr", ALICE_JOB, JobIDRaw="107", Timelimit="00:05:00", NCPUS="0",
        State="PENDING", Submit=D + "11:20:00", Start="Unknown", End="Unknown",
    ),
    job(
        "107_0", "arr", ALICE_JOB, JobIDRaw="108", Timelimit="00:05:00", NodeList="tux9",
        State="COMPLETED", Submit=D + "11:20:00", Start=D + "11:20:05", End=D + "11:21:00",
    ),
    job(
        "110+0", "het", BOB_JOB, JobIDRaw="110", NodeList="tux8", State="COMPLETED",
        Submit=D + "11:40:00", Start=D + "11:40:00", End=D + "11:45:00",
    ),
    job(
        "110+1", "het", BOB_JOB, JobIDRaw="111", Partition="gpu", NodeList="gpu1",
        State="COMPLETED", Submit=D + "11:40:00", Start=D + "11:40:00", End=D + "11:45:00",
    ),
    job(
        "120", "revoked", BOB_JOB, State="REVOKED",
        Submit=D + "11:50:00", Start="Unknown", End=D + "11:50:00",
    ),
]  # fmt: skip
LAKE = [
    job(
        "201", "lakejob", {"User": "dave", "UID": "1004", "Group": "lake", "GID": "300"},
        Account="hydro", Partition="lake", NodeList="tux0", State="COMPLETED",
        Submit=D + "08:30:00", Start=D + "08:30:00", End=D + "08:40:00",
    ),
]  # fmt: skip

#: Every job line of a plain listing of the day, in sacct's order (submit time, then ids).
ALL_DAY = [
    "100", "101", "201", "102", "103", "104", "106", "105", "107_[1-3,5%2]", "107_0",
    "110+0", "110+1",
]  # fmt: skip


def seed(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as s, s.begin():
        import_sacct(s, ["|".join(COLUMNS), *TUX], "tux")
        import_sacct(s, ["|".join(COLUMNS), *LAKE], "lake")
    engine.dispose()


Run = Callable[..., tuple[int, str, str]]


def _runner(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*args: str, uid: int = ROOT, now: int = NOW) -> tuple[int, str, str]:
        monkeypatch.setattr(sacct_cmd, "_now", lambda: now)
        monkeypatch.setattr(caller, "caller_uid", lambda: uid)
        status = main(["--db", url, "sacct", *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture
def run_all(
    store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """``jobacct sacct`` over the seeded store, on each backend."""
    seed(store_url)
    return _runner(store_url, monkeypatch, capsys)


@pytest.fixture
def run(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """``jobacct sacct`` over the seeded store, on SQLite."""
    seed(sqlite_url)
    return _runner(sqlite_url, monkeypatch, capsys)


def lines(run: Run, *args: str, uid: int = ROOT) -> list[str]:
    """The output lines of a run that must succeed without a word on stderr."""
    status, out, err = run(*args, uid=uid)
    assert (status, err) == (0, ""), err
    return out.splitlines()


def ids(run: Run, *args: str, uid: int = ROOT) -> list[str]:
    """The JobID column of ``-P -n`` output (job lines only unless the args show steps)."""
    return lines(run, "-P", "-n", "-o", "JobID", *args, uid=uid)


# ---------------------------------------------------------------- SQL-level filters


def test_plain_listing_of_the_day(run_all: Run) -> None:
    # Revoked federation siblings are hidden without -D (§4.7); -D shows them.
    assert ids(run_all, "-a", "-X") == ALL_DAY
    assert ids(run_all, "-a", "-X", "-D")[-1] == "120"


def test_group_by_name_or_gid(run_all: Run) -> None:
    alice = ["100", "101", "103", "106", "107_[1-3,5%2]", "107_0"]
    bob_carol = ["102", "104", "105", "110+0", "110+1"]
    assert ids(run_all, "-a", "-X", "-g", "users") == alice
    assert ids(run_all, "--group", "200", "-a", "-X") == bob_carol
    assert ids(run_all, "-a", "-X", "--gid", "users,300") == [
        "100", "101", "201", "103", "106", "107_[1-3,5%2]", "107_0"
    ]  # fmt: skip
    assert ids(run_all, "-a", "-X", "-g", "nosuchgroup") == []


def test_partition_exact_names(run_all: Run) -> None:
    # sacct compares the stored partition string: a pending job submitted to "batch,gpu"
    # is not in -r gpu.
    assert ids(run_all, "-a", "-X", "-r", "gpu") == ["102", "110+1"]
    assert ids(run_all, "-a", "-X", "--partition", "debug,lake") == ["201", "105"]
    assert ids(run_all, "-a", "-X", "-r", "batch,gpu") == [
        "100", "101", "102", "103", "106", "107_[1-3,5%2]", "107_0", "110+0", "110+1"
    ]  # fmt: skip


def test_qos_case_insensitive(run_all: Run) -> None:
    assert ids(run_all, "-a", "-X", "-q", "HIGH") == ["102"]
    assert ids(run_all, "-a", "-X", "--qos", "low,High") == ["102", "105"]


def test_wckeys(run_all: Run) -> None:
    assert ids(run_all, "-a", "-X", "-W", "wk2") == ["102"]
    assert ids(run_all, "-a", "-X", "--wckeys", "nope") == []


def test_reason_case_insensitive(run_all: Run) -> None:
    assert ids(run_all, "-a", "-X", "-R", "nonzeroexitcode") == ["102"]
    assert ids(run_all, "-a", "-X", "--reason", "TimeLimit,PRIORITY") == ["103", "104"]


def test_timelimit_min_alone_is_exact(run_all: Run) -> None:
    # sacct: -k alone selects that exact limit; -K only bounds a -k range.
    assert ids(run_all, "-a", "-X", "-k", "30") == ["103"]
    assert ids(run_all, "-a", "-X", "-k", "0:29:30") == ["103"]  # 29.5 min rounds up
    assert ids(run_all, "-a", "-X", "--timelimit-min", "UNLIMITED") == ["104"]


def test_timelimit_range(run_all: Run) -> None:
    in_30_to_60 = ["101", "201", "103", "110+0", "110+1"]
    assert ids(run_all, "-a", "-X", "-k", "30", "-K", "60") == in_30_to_60
    assert ids(run_all, "-a", "-X", "-k", "30:00", "--timelimit-max", "1:00:00") == in_30_to_60
    assert ids(run_all, "-a", "-X", "-k", "1-0", "-K", "UNLIMITED") == ["100", "104"]
    # -K alone is ignored, as in sacct.
    assert ids(run_all, "-a", "-X", "-K", "5") == ALL_DAY


def test_node_and_cpu_counts(run_all: Run) -> None:
    assert ids(run_all, "-a", "-X", "-i", "2") == ["100", "101"]
    assert ids(run_all, "-a", "-X", "--nnodes", "2-4") == ["100", "101", "103"]
    assert ids(run_all, "-a", "-X", "-I", "8-16") == ["100", "101", "103"]
    assert ids(run_all, "-a", "-X", "--ncpus", "4") == ["102"]
    assert ids(run_all, "-a", "-X", "-I", "0") == ["104", "105", "107_[1-3,5%2]"]


def test_constraints_all_items(run_all: Run) -> None:
    assert ids(run_all, "-a", "-X", "-C", "intel") == ["100", "101", "102"]
    assert ids(run_all, "-a", "-X", "--constraints", "ib,INTEL") == ["102"]


def test_job_flags_any(run_all: Run) -> None:
    assert ids(run_all, "-a", "-X", "-F", "SchedBackfill") == ["102"]
    assert ids(run_all, "-a", "-X", "--flags", "schedsubmit,SchedBackfill") == ["102", "104"]
    assert ids(run_all, "-a", "-X", "-F", "StartReceived") == [
        i for i in ALL_DAY if i != "104"
    ]  # fmt: skip


def test_clusters_all(run_all: Run) -> None:
    assert ids(run_all, "-a", "-X", "-M", "lake") == ["201"]
    assert ids(run_all, "-a", "-X", "-M", "lake", "-L") == ALL_DAY
    assert ids(run_all, "-a", "-X", "--clusters", "all") == ALL_DAY
    assert ids(run_all, "-a", "-X", "-M", "-1") == ALL_DAY
    assert ids(run_all, "-a", "-X", "--allclusters") == ALL_DAY


def test_whole_hetjob(run_all: Run) -> None:
    assert ids(run_all, "-X", "-j", "111") == ["110+1"]
    assert ids(run_all, "-X", "-j", "111", "--whole-hetjob=yes") == ["110+0", "110+1"]
    assert ids(run_all, "-X", "-j", "110") == ["110+0", "110+1"]
    assert ids(run_all, "-X", "-j", "110", "--whole-hetjob", "no") == ["110+0"]
    assert ids(run_all, "-X", "-j", "110+1") == ["110+1"]
    assert ids(run_all, "-X", "-j", "110+1", "--whole-hetjob=yes") == ["110+0", "110+1"]


def test_jobs_forms(run_all: Run) -> None:
    assert ids(run_all, "-j", "101.bat") == ["101.batch"]
    assert ids(run_all, "-j", "101.0,107_0") == ["101.0", "107_0"]
    assert ids(run_all, "-j", "107") == ["107_[1-3,5%2]", "107_0"]
    # -X prints the job line even when -j names a step (sacct skips steps first).
    assert ids(run_all, "-X", "-j", "101.batch") == ["101"]


def test_state_terminal_uses_end_between_start_and_end(run_all: Run) -> None:
    # E == S is moved one second on: [09:00:10, 09:00:11] holds 101's end.
    assert ids(run_all, "-a", "-X", "-s", "CD", "-S", D + "09:00:10", "-E", D + "09:00:10") == [
        "101"
    ]
    # -s without -E: E defaults to -S (then +1), so 09:00:11.. misses it.
    assert ids(run_all, "-a", "-X", "-s", "CD", "-S", D + "09:00:11") == []
    assert ids(run_all, "-a", "-X", "-s", "completed,f,TO", "-S", D + "09:00", "-E", "now") == [
        "101", "102", "103", "107_0", "110+0", "110+1"
    ]  # fmt: skip


def test_state_running_pending_suspended(run_all: Run) -> None:
    assert ids(run_all, "-a", "-X", "-s", "R", "-S", D + "10:15", "-E", D + "10:20") == [
        "102",
        "103",
    ]
    # -s alone: the window is the instant now.
    assert ids(run_all, "-a", "-X", "-s", "R") == ["106"]
    assert ids(run_all, "-a", "-X", "-s", "PD") == ["104", "107_[1-3,5%2]"]
    assert ids(run_all, "-a", "-X", "-s", "pending", "-S", D + "11:00", "-E", D + "11:30") == [
        "104", "105", "107_[1-3,5%2]", "107_0"
    ]  # fmt: skip
    assert ids(run_all, "-a", "-X", "-s", "S", "-S", D + "10:00", "-E", D + "11:00") == ["103"]
    # Revoked records need -D to be seen at all.
    assert ids(run_all, "-a", "-X", "-s", "RV", "-S", D + "11:00", "-E", "now") == []
    assert ids(run_all, "-a", "-X", "-D", "-s", "RV", "-S", D + "11:00", "-E", "now") == ["120"]


# ---------------------------------------------------------------- rules applied in Python


def test_nodelist_matches_any_node_of_compressed_lists(run: Run) -> None:
    assert ids(run, "-a", "-X", "-N", "tux7") == ["103"]
    # tux1 is in tux[1-2] and tux[0-1], not in tux[2-3,7,10] (no prefix match on tux10).
    assert ids(run, "-a", "-X", "-N", "tux1") == ["100", "101"]
    assert ids(run, "-a", "-X", "--nodelist", "tux[0,9],gpu[1-7]") == [
        "101", "201", "102", "107_0", "110+1"
    ]  # fmt: skip
    assert ids(run, "-a", "-X", "-N", "tux0", "-M", "tux") == ["101"]
    assert ids(run, "-a", "-X", "-N", "nowhere1") == []


def test_nodelist_filters_steps_and_implies_all_users(run: Run) -> None:
    # Steps that did not run on the nodes are left out, as slurmdbd does with node_inx.
    assert ids(run, "-N", "tux0", "-M", "tux") == ["101", "101.batch", "101.0"]
    assert ids(run, "-N", "tux1", "-S", Y + "00:00") == ["100", "100.0", "101", "101.0"]
    # Alice sees bob's job 102 with -N (all users), only her own without it.
    assert ids(run, "-X", "-N", "gpu7", uid=ALICE) == ["102"]
    assert "102" not in ids(run, "-X", uid=ALICE)
    assert ids(run, "-X", "-N", "gpu7", "-u", "alice", uid=ALICE) == []


def test_steps_outside_the_window_are_left_out(run: Run) -> None:
    # slurmdbd's step query: steps that ran during the window only.
    assert ids(run, "-j", "100") == ["100", "100.0", "100.1"]
    assert ids(run, "-a", "-S", D + "00:00", "-E", D + "08:00") == ["100", "100.1"]


def test_truncate_clips_start_end_and_elapsed(run: Run) -> None:
    fmt = ["-P", "-o", "JobID,Start,End,Elapsed,ElapsedRaw"]
    assert lines(run, "-a", "-S", D + "00:00", "-E", D + "08:00", *fmt) == [
        "JobID|Start|End|Elapsed|ElapsedRaw",
        "100|2026-11-21T22:00:00|2026-11-22T02:00:00|04:00:00|14400",
        "100.1|2026-11-21T23:30:00|2026-11-22T01:30:00|02:00:00|7200",
    ]
    assert lines(run, "-a", "-T", "-S", D + "00:00", "-E", D + "08:00", *fmt) == [
        "JobID|Start|End|Elapsed|ElapsedRaw",
        "100|2026-11-22T00:00:00|2026-11-22T02:00:00|02:00:00|7200",
        "100.1|2026-11-22T00:00:00|2026-11-22T01:30:00|01:30:00|5400",
    ]


def test_truncate_running_and_pending_jobs(run: Run) -> None:
    fmt = ["-P", "-n", "-o", "JobID,Start,End,Elapsed"]
    # A running job ends at the window's end; so does its running step.
    assert lines(run, "-T", "-j", "106", "-S", D + "11:15", "-E", D + "11:30", *fmt) == [
        "106|2026-11-22T11:15:00|2026-11-22T11:30:00|00:15:00",
        "106.batch|2026-11-22T11:15:00|2026-11-22T11:30:00|00:15:00",
    ]
    # The window's end is capped at now (E = now + 1 by default).
    assert lines(run, "--truncate", "-X", "-j", "106", "-S", D + "11:50", *fmt) == [
        "106|2026-11-22T11:50:00|2026-11-22T12:00:00|00:10:00"
    ]
    # A job that never started starts when its clipped end is: zero elapsed.
    assert lines(run, "-T", "-X", "-j", "104", "-S", D + "11:30", "-E", D + "11:45", *fmt) == [
        "104|2026-11-22T11:45:00|2026-11-22T11:45:00|00:00:00"
    ]


def test_array_expands_pending_tasks(run: Run) -> None:
    fmt = ["-X", "-P", "-n", "-o", "JobID,JobIDRaw,State"]
    assert lines(run, "-j", "107", *fmt) == ["107_[1-3,5%2]|107|PENDING", "107_0|108|COMPLETED"]
    assert lines(run, "-j", "107", "--array", *fmt) == [
        "107_1|107|PENDING",
        "107_2|107|PENDING",
        "107_3|107|PENDING",
        "107_5|107|PENDING",
        "107_0|108|COMPLETED",
    ]


def test_array_is_a_print_option_json_ignores_it(run: Run) -> None:
    # sacct --json dumps each record once, with or without --array.
    plain = json.loads("\n".join(lines(run, "-X", "-j", "107", "--json")))
    expanded = json.loads("\n".join(lines(run, "-X", "-j", "107", "--json", "--array")))
    assert [j["job_id"] for j in expanded["jobs"]] == [107, 108]
    assert expanded["jobs"] == plain["jobs"]


def test_array_and_truncate_in_fixed_width_output(run: Run) -> None:
    def row(jobid: str, state: str) -> str:
        return (
            f"{jobid:<12} {'arr':>10} {'batch':>10} {'phys':>10} {'0':>10} {state:>10} {'0:0':>8} "
        )

    assert lines(run, "-X", "-j", "107_0,107", "--array") == [
        "JobID           JobName  Partition    Account  AllocCPUS      State ExitCode ",
        "------------ ---------- ---------- ---------- ---------- ---------- -------- ",
        row("107_1", "PENDING"),
        row("107_2", "PENDING"),
        row("107_3", "PENDING"),
        row("107_5", "PENDING"),
        f"{'107_0':<12} {'arr':>10} {'batch':>10} {'phys':>10} {'1':>10} {'COMPLETED':>10} "
        f"{'0:0':>8} ",
    ]
    # Suspended time is clipped to the clipped run time (the store keeps only the total).
    assert lines(
        run,
        "-T",
        "-X",
        "-j",
        "103",
        "-S",
        D + "10:20",
        "-E",
        D + "10:25",
        "-o",
        "JobID,Start,End,Elapsed,Suspended,CPUTimeRAW",
    ) == [
        "JobID                      Start                 End    Elapsed  Suspended CPUTimeRAW ",
        "------------ ------------------- ------------------- ---------- ---------- ---------- ",
        "103          2026-11-22T10:20:00 2026-11-22T10:25:00   00:00:00   00:05:00          0 ",
    ]


# ---------------------------------------------------------------- the default window (§4.7)


@pytest.mark.parametrize(
    ("jobs", "states", "start", "end", "window"),
    [
        (None, None, None, None, (MIDNIGHT, NOW + 1)),
        ("7", None, None, None, (0, NOW + 1)),
        (None, "COMPLETED", None, None, (NOW, NOW + 1)),
        (None, "COMPLETED", MIDNIGHT, None, (MIDNIGHT, MIDNIGHT + 1)),
        ("7", "COMPLETED", None, None, (0, NOW + 1)),
        ("7", "COMPLETED", MIDNIGHT, None, (MIDNIGHT, MIDNIGHT + 1)),
        (None, None, MIDNIGHT, NOW - 60, (MIDNIGHT, NOW - 60)),
        (None, None, MIDNIGHT, NOW, (MIDNIGHT, NOW + 1)),
        ("7", None, 1000, 2000, (1000, 2000)),
    ],
)
def test_default_window_table(
    jobs: str | None,
    states: str | None,
    start: int | None,
    end: int | None,
    window: tuple[int, int],
) -> None:
    f = JobFilter(
        selectors=parse_selectors(jobs) if jobs else [],
        states=[states] if states else [],
        start=start,
        end=end,
    )
    assert default_window(f, NOW, MIDNIGHT) == Window(*window)


def test_start_after_defaulted_end(run: Run) -> None:
    # -E defaults to now, moved to now + 1: the message shows the effective times.
    assert run("-S", "now+1hour") == (
        2,
        "",
        "jobacct: error: Start time (2026-11-22T13:00:00) requested is after end time "
        "(2026-11-22T12:00:01).\n",
    )


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-i", "5-2"], "invalid node count range '5-2': minimum 5 is above maximum 2"),
        (["-i", "two"], "invalid node count range 'two': expected min[-max], e.g. 2 or 2-8"),
        (["-I", "4-0"], "invalid CPU count range '4-0': the maximum must be at least 1"),
        (["-I", "3000000000"], "invalid CPU count range '3000000000': 3000000000 is too big"),
        (["-N", "tux["], "invalid node list 'tux[': unbalanced brackets"),
        (["-N", "tux[3-1]"], "invalid node list 'tux[3-1]': start > stop"),
        (["-N", ","], "invalid node list ',': no node names"),
        (["-k", "0"], "invalid time limit '0': must be at least 1 minute"),
        (["-K", "0:0"], "invalid time limit '0:0': must be at least 1 minute"),
        (
            ["-k", "1h"],
            "invalid time limit '1h': expected minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S",
        ),
        (
            ["-k", "60", "-K", "30"],
            "invalid time limit range: --timelimit-min '60' is above --timelimit-max '30'",
        ),
        (["-s", "CG"], "job state 'CG' is not supported / accounted"),
        (["-s", "cd,SE"], "job state 'SE' is not supported / accounted"),
        (["-s", "special_exit"], "job state 'special_exit' is not supported / accounted"),
        (["-s", "COMPLETE"], "unrecognized job state value 'COMPLETE'"),
        (["-s", "CD,CANCELED"], "unrecognized job state value 'CANCELED'"),
        (["-s", "bogus"], "unrecognized job state value 'bogus'"),
        (
            ["-F", "SchedMain,Bogus"],
            "invalid job flag 'Bogus': expected SchedSubmit, SchedMain, SchedBackfill or "
            "StartReceived",
        ),
        (["--whole-hetjob", "maybe"], "invalid --whole-hetjob value 'maybe': use yes or no"),
        (
            ["-j", "107_[1-3]"],
            "invalid job id '107_[1-3]': sacct -j takes no array task ranges; give each task "
            "(123_1,123_2,...) or the array id (123) for all of them",
        ),
        (
            ["-j", "101,107_[1,3]"],
            "invalid job id '107_[1,3]': sacct -j takes no array task ranges; give each task "
            "(123_1,123_2,...) or the array id (123) for all of them",
        ),
    ],
)
def test_bad_values_one_error_line(run: Run, args: list[str], message: str) -> None:
    assert run("-a", *args) == (2, "", f"jobacct: error: {message}\n")


# ---------------------------------------------------------------- query plans (SQLite)

#: Skewed statistics like a real store after ANALYZE: a million jobs, array and het ids
#: mostly NULL (so SQLite sees them as unselective), a few thousand users and accounts.
_STATS = {
    "ix_job_uid_time_start_time_end": "1000000 400 2 1",
    "ix_job_time_end": "1000000 2",
    "ix_job_time_eligible_time_end": "1000000 2 1",
    "ix_job_state_time_end": "1000000 100000 2",
    "ix_job_job_id_raw": "1000000 1",
    "ix_job_het_job_id": "1000000 1000000",
    "ix_job_array_job_id_array_task_id": "1000000 1000000 1000000",
    "ix_job_account_time_end": "1000000 1000 2",
    "ix_job_exit_code_exit_signal": "1000000 100000 100000",
    "ix_job_derived_exit_code_derived_exit_signal": "1000000 100000 100000",
    "sqlite_autoindex_job_1": "1000000 1000000 1 1",
}

_DAY = Window(MIDNIGHT, NOW + 1)
PLAN_SHAPES: dict[str, tuple[JobFilter, Window]] = {
    "default": (JobFilter(), _DAY),
    "-g": (JobFilter(gids=[100], group_names=["users"]), _DAY),
    "-r": (JobFilter(partitions=["gpu"]), _DAY),
    "-q": (JobFilter(qos=["high"]), _DAY),
    "-W": (JobFilter(wckeys=["wk1"]), _DAY),
    "-R": (JobFilter(reasons=["None"]), _DAY),
    "-C": (JobFilter(constraints=["intel"]), _DAY),
    "-F": (JobFilter(job_flags=["schedmain"]), _DAY),
    "-k -K": (JobFilter(timelimit_min=30, timelimit_max=60), _DAY),
    "-i -I": (JobFilter(nnodes=CountRange(2, 4), ncpus=CountRange(8)), _DAY),
    "-N": (JobFilter(nodes=frozenset({"tux1", "gpu7"})), _DAY),
    "-u": (JobFilter(uids=[1001]), _DAY),
    "-s CD,F": (JobFilter(states=["COMPLETED", "FAILED"]), _DAY),
    "-s PD": (JobFilter(states=["PENDING"]), _DAY),
    "-s R": (JobFilter(states=["RUNNING"]), _DAY),
    "-s S": (JobFilter(states=["SUSPENDED"]), _DAY),
    "-j": (JobFilter(selectors=parse_selectors("101,107_0,110+1,7.batch")), Window(0, NOW + 1)),
    "-j -S": (JobFilter(selectors=parse_selectors("101")), _DAY),
    "-j --whole-hetjob=yes": (
        JobFilter(selectors=parse_selectors("111,110+1"), whole_hetjob=True),
        Window(0, NOW + 1),
    ),
    "-j --whole-hetjob=no": (
        JobFilter(selectors=parse_selectors("110"), whole_hetjob=False),
        Window(0, NOW + 1),
    ),
    "-X every filter": (
        JobFilter(
            allocations_only=True,
            nodes=frozenset({"tux1"}),
            partitions=["batch"],
            qos=["normal"],
            timelimit_min=30,
            nnodes=CountRange(1, 2),
            gids=[100],
            reasons=["None"],
        ),
        _DAY,
    ),
}


@pytest.mark.parametrize("stats", [False, True], ids=["no-stats", "analyzed"])
@pytest.mark.parametrize("shape", list(PLAN_SHAPES))
def test_sqlite_plan_never_scans_job(sqlite_url: str, shape: str, stats: bool) -> None:
    engine = make_engine(sqlite_url)
    try:
        if stats:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
                conn.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'job'"))
                for index, stat in _STATS.items():
                    conn.execute(
                        text("INSERT INTO sqlite_stat1 VALUES ('job', :idx, :stat)"),
                        {"idx": index, "stat": stat},
                    )
            engine.dispose()
    finally:
        engine.dispose()
    f, window = PLAN_SHAPES[shape]
    conn = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        # The server path's joined statement (run here on SQLite) and the fast path's
        # selection: the same WHERE, so the same index must drive both.
        job_cols = fastread.table_columns(conn, "job")
        step_cols = [c for c in fastread.table_columns(conn, "step") if c != "job_pk"]
        statements = [
            joined_lines_sql(f, window.start, window.end, job_cols, step_cols),
            fastread.selection_sql(f, window.start, window.end),
        ]
        for sql, params in statements:
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
            scans = [line for line in plan if line.startswith("SCAN job") or line == "SCAN step"]
            assert not scans, "\n".join(plan)
            # The outer search of job uses the index that bounds the shape (a one-sided time
            # range would be a full scan in disguise).
            searches = [line for line in plan if line.startswith("SEARCH job USING")]
            assert searches and PLAN_INDEX[shape] in searches[0], "\n".join(plan)
    finally:
        conn.close()


def test_fast_path_reads_never_sort(sqlite_url: str) -> None:
    # The job and step statements of the fast path walk the selection table in order and
    # the step index: no temporary B-tree (a sort of every line) and no scan of step.
    conn = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        conn.execute("BEGIN")
        fastread.create_selection(conn, JobFilter(), MIDNIGHT, NOW + 1)
        job_sql, step_sql, params = fastread.merged_sql(
            MIDNIGHT, NOW + 1, ["id", "job_name"], ["step_id", "step_name"]
        )
        for sql, args in ((job_sql, {}), (step_sql, params)):
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
            assert not [line for line in plan if "TEMP B-TREE" in line], "\n".join(plan)
            assert not [line for line in plan if line.startswith("SCAN job")], plan
            assert "SCAN step" not in plan, plan
        conn.execute("COMMIT")
    finally:
        conn.close()


_ELIGIBLE = "INDEX ix_job_time_eligible_time_end (time_eligible>? AND time_eligible<?)"
_IDS = "INTEGER PRIMARY KEY (rowid=?)"
#: Which index drives each shape's search of job.
PLAN_INDEX = {
    **dict.fromkeys(PLAN_SHAPES, _ELIGIBLE),
    "-u": "INDEX ix_job_uid_time_start_time_end (uid=?)",
    "-s CD,F": "INDEX ix_job_state_time_end (state=? AND time_end>? AND time_end<?)",
    "-s R": "INDEX ix_job_time_end (time_end>? AND time_end<?)",
    "-s S": "INDEX ix_job_time_end (time_end",
    "-j": _IDS,
    "-j -S": _IDS,
    "-j --whole-hetjob=yes": _IDS,
    "-j --whole-hetjob=no": _IDS,
}


def test_filter_error_is_a_value_error() -> None:
    assert issubclass(FilterError, ValueError)
