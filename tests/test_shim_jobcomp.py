"""``jobacct shim jobcomp``: the environment a real slurmctld gives jobcomp/script (§7.2).

Environment sets are made from the golden slurmdbd job table (what Slurm 22.05 recorded for
each job) exactly as ``jobcomp_script.c`` formats them, then applied; the records must match
the golden store built from slurmdbd's tables and sacct's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct import migrate
from jobacct.config import make_engine
from jobacct.exitcode import ExitCode
from jobacct.model import Event, Job
from jobacct.shim.apply import apply
from jobacct.shim.jobcomp import JOBCOMP_SEQ, events_from_env
from jobacct.slurmdbd_import import read_mysql_tsv, state_name
from tests.conftest import GOLDEN, build_golden_store

_END_STATES = {
    "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
    "PREEMPTED", "BOOT_FAIL", "DEADLINE",
}  # fmt: skip
_NO_VAL = 4294967294


def _code(raw: str | None) -> str:
    return str(ExitCode.from_wait_status(int(raw or 0)))


def golden_envs() -> list[dict[str, str]]:
    """One jobcomp/script environment per finished golden job, as slurmctld sets it."""
    envs = []
    for row in read_mysql_tsv(GOLDEN / "db" / "golden_job_table.tsv"):
        state, _flags = state_name(int(row["state"] or 0))
        if state not in _END_STATES or int(row["flags"] or 0) & 0:
            continue
        cpus = next(
            (p.split("=")[1] for p in (row["tres_alloc"] or "").split(",") if p.startswith("1=")),
            "0",
        )
        timelimit = int(row["timelimit"] or 0)
        envs.append(
            {
                "JOBID": row["id_job"] or "",
                "SUBMIT": row["time_submit"] or "",
                "START": row["time_start"] or "0",
                "END": row["time_end"] or "0",
                "ELIGIBLE": row["time_eligible"] or "0",
                "JOBSTATE": state,
                "EXITCODE": _code(row["exit_code"]),
                "DERIVED_EC": _code(row["derived_ec"]),
                "UID": row["id_user"] or "",
                "GID": row["id_group"] or "",
                "USERNAME": {"0": "root", "1001": "alice"}[row["id_user"] or "0"],
                "GROUPNAME": "",
                "ARRAYJOBID": row["id_array_job"] or "0",
                "ARRAYTASKID": row["id_array_task"] or str(_NO_VAL),
                "PROCS": cpus,
                "NODECNT": row["nodes_alloc"] or "0",
                "NODES": row["nodelist"] or "",
                "BATCH": "yes",
                "CLUSTER": "golden",
                "ACCOUNT": row["account"] or "",
                "JOBNAME": row["job_name"] or "",
                "PARTITION": row["partition"] or "",
                "QOS": "normal",
                "WORK_DIR": row["work_dir"] or "",
                "RESERVATION": "",
                "DEPENDENCY": "",
                "CONSTRAINTS": row["constraints"] or "",
                "DB_FLAGS": "",
                "STATEREASONPREV": "None",
                "LIMIT": "UNLIMITED" if timelimit == 0xFFFFFFFF else f"{timelimit}",
                "PATH": "/bin:/usr/bin",
            }
        )
    return envs


@pytest.fixture(scope="module")
def golden_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_golden_store(tmp_path_factory.mktemp("golden") / "golden.sqlite")


def test_golden_environments_give_the_golden_records(golden_url: str, tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "shim.sqlite")
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    envs = golden_envs()
    assert len(envs) >= 35
    for env in envs:
        apply(engine, events_from_env(env, "unused"))
    golden = make_engine(golden_url)
    columns = (
        "state", "exit_code", "exit_signal", "derived_exit_code", "derived_exit_signal",
        "time_start", "time_end", "uid", "account", "partition", "job_name", "nnodes",
        "ncpus", "array_job_id", "array_task_id", "timelimit", "nodelist",
    )  # fmt: skip
    with Session(engine) as mine, Session(golden) as theirs:
        compared = 0
        for job in mine.scalars(select(Job)):
            ref = theirs.scalars(
                select(Job).where(
                    Job.job_id_raw == job.job_id_raw, Job.time_submit == job.time_submit
                )
            ).one()
            for column in columns:
                if ref.nodelist is None and column in ("nnodes", "ncpus"):
                    continue  # no nodes: slurmdbd's record keeps the requested counts
                assert getattr(job, column) == getattr(ref, column), (job.job_id_raw, column)
            compared += 1
        assert compared == len(envs)
    engine.dispose()
    golden.dispose()


def test_a_second_run_with_the_same_environment_is_a_duplicate(sqlite_url: str) -> None:
    env = golden_envs()[1]  # job 2: exit 3 -> FAILED 3:0
    engine = make_engine(sqlite_url)
    first = apply(engine, events_from_env(env, "x"))
    second = apply(engine, events_from_env(env, "x"))
    assert (first.applied, second.applied, second.duplicates) == (3, 0, 3)
    with Session(engine) as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.exit_code, job.job_id_raw) == ("FAILED", 3, 2)
        seqs = sorted(session.scalars(select(Event.seq)))
        assert seqs == [JOBCOMP_SEQ, JOBCOMP_SEQ + 1, JOBCOMP_SEQ + 2]
    engine.dispose()


def _run(env: dict[str, str], db: str) -> subprocess.CompletedProcess[str]:
    # Only slurmctld's variables, plus the database a wrapper script would export (§7.2).
    full = {**env, "JOBACCT_DATABASE_URL": db, "TZ": "UTC"}
    full["PYTHONPATH"] = os.pathsep.join(sys.path)
    return subprocess.run(
        [sys.executable, "-m", "jobacct", "shim", "jobcomp"],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/tmp",
        stdin=subprocess.DEVNULL,
    )


def test_cli_as_slurmctld_runs_it(sqlite_url: str) -> None:
    env = golden_envs()[0]
    result = _run(env, sqlite_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("3 events: 3 applied")
    again = _run(env, sqlite_url)
    assert again.returncode == 0
    assert "3 already applied" in again.stdout


def test_cli_missing_variable_is_one_error_line(sqlite_url: str) -> None:
    env = {k: v for k, v in golden_envs()[0].items() if k != "JOBID"}
    result = _run(env, sqlite_url)
    assert result.returncode == 2
    assert result.stderr == (
        "jobacct: error: jobcomp: environment variable JOBID is missing or empty\n"
    )
