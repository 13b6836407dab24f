"""Kill and signal rules on stored records (tracker issue 5 item 3), on all three backends.

The golden cases that cancel or signal (08, 10, 11, 13, 14, 15, 18 and the batch kill of 06)
are rebuilt as the records stood before the request, the request is applied through
:func:`jobacct.signal.apply_kill`, and State, ExitCode and kill_requid of the job and each
step are compared with what the real Slurm 22.05 stored (golden/db/*.tsv).
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobacct.authz import check_cancel
from jobacct.config import make_engine, write_engine
from jobacct.exitcode import ExitCode
from jobacct.jobid import BATCH_STEP, EXTERN_STEP, JobIdError
from jobacct.model import Coordinator, Job, SignalRequest, Step, UserPrivilege
from jobacct.signal import (
    KILL_ARRAY_TASK,
    KILL_JOB_BATCH,
    KILL_OOM,
    KILL_STEPS_ONLY,
    KillRequest,
    Outcome,
    apply_kill,
    parse_signal,
    parse_target,
    request_errno,
)
from jobacct.slurm_errno import SlurmErrno, SlurmError
from jobacct.store import job_steps

GOLDEN_DB = Path(__file__).parent / "golden" / "db"
ROOT, ALICE = 0, 1001
#: Users of the authorization tests (kept apart from test_annotation's 2001-2005).
OWNER, OTHER, OPERATOR, ADMIN, COORD = 3001, 3002, 3003, 3004, 3005
T0 = 1795347000

STATE_NUM = {"PENDING": 0, "RUNNING": 1, "COMPLETED": 3, "CANCELLED": 4, "FAILED": 5}


# ---------------------------------------------------------------- helpers


def make_job(
    session: Session,
    job_id_raw: int,
    state: str,
    *,
    uid: int = ROOT,
    user: str = "root",
    cluster: str = "golden",
    steps: tuple[int, ...] = (),
    submit: int = T0,
    start: int | None = T0 + 1,
    **values: Any,
) -> Job:
    """A job record as it stood before a request: open steps have no end and no exit code."""
    if state == "PENDING":
        start = None
    job = Job(
        cluster=cluster,
        job_id_raw=job_id_raw,
        job_name=values.pop("job_name", f"job{job_id_raw}"),
        user_name=user,
        uid=uid,
        account=values.pop("account", "lc"),
        partition=values.pop("partition", "debug"),
        time_submit=submit,
        time_eligible=values.pop("time_eligible", submit),
        time_start=start,
        state=state,
        nnodes=1,
        ncpus=1,
        nodelist=values.pop("nodelist", "vm" if state != "PENDING" else "None assigned"),
        **values,
    )
    session.add(job)
    session.flush()
    for step_id in steps:
        session.add(
            Step(
                job_pk=job.id,
                step_id=step_id,
                step_name={BATCH_STEP: "batch", EXTERN_STEP: "extern"}.get(step_id, "sleep"),
                state="RUNNING",
                time_start=start,
                nnodes=1,
                ntasks=1,
                ncpus=1,
            )
        )
    session.flush()
    return job


def req(
    target: str,
    signal: int = 9,
    *,
    uid: int = ROOT,
    flags: int = 0,
    api: str = "slurm_kill_job",
    time: int = T0 + 100,
    cluster: str | None = "golden",
    reason: str | None = None,
    admin_comment: str | None = None,
) -> KillRequest:
    return KillRequest(cluster, target, signal, flags, uid, time, api, reason, admin_comment)


def golden_rows(name: str) -> list[dict[str, str]]:
    with (GOLDEN_DB / name).open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


GOLDEN_JOBS = {int(r["id_job"]): r for r in golden_rows("golden_job_table.tsv")}
GOLDEN_STEPS = golden_rows("steps_exit_view.tsv")


def stored_view(session: Session, job_id_raw: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """(state number, raw exit, kill_requid) of the job and of each step, golden's way."""
    job = session.scalars(select(Job).where(Job.job_id_raw == job_id_raw)).one()
    session.refresh(job)

    def raw(code: int | None, sig: int | None) -> int | None:
        if code is None and sig is None:
            return None
        return ExitCode(code or 0, sig or 0).to_wait_status()

    steps = [
        (s.step_id, STATE_NUM[s.state], raw(s.exit_code, s.exit_signal), s.kill_requid)
        for s in job_steps(session, job)
    ]
    return (STATE_NUM[job.state], raw(job.exit_code, job.exit_signal), job.kill_requid), steps


def golden_view(job_id_raw: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    row = GOLDEN_JOBS[job_id_raw]
    requid = None if row["kill_requid"] == "NULL" else int(row["kill_requid"])
    steps = sorted(
        (
            int(s["id_step"]),
            int(s["state"]),
            int(s["exit_code"]),
            None if s["kill_requid"] == "NULL" else int(s["kill_requid"]),
        )
        for s in GOLDEN_STEPS
        if int(s["id_job"]) == job_id_raw
    )
    return (int(row["state"]), int(row["exit_code"]), requid), steps


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    eng = write_engine(make_engine(store_url))
    with Session(eng) as s, s.begin():
        for uid, name, level in (
            (OPERATOR, "op", "Operator"),
            (ADMIN, "adm", "Administrator"),
        ):
            s.merge(UserPrivilege(uid=uid, user_name=name, admin_level=level))
        s.merge(Coordinator(uid=COORD, account="physics"))
    yield eng
    eng.dispose()


def session_of(engine: Engine) -> Session:
    return Session(engine)


# ---------------------------------------------------------------- parsing


def test_parse_signal_names_and_numbers() -> None:
    assert parse_signal("KILL") == 9
    assert parse_signal("sigusr1") == 10
    assert parse_signal("SIGTERM") == 15
    assert parse_signal("12") == 12
    for bad in ("BOGUS", "0", "65", "SIGSEGVX", ""):
        with pytest.raises(ValueError):
            parse_signal(bad)


def test_parse_target_forms() -> None:
    assert parse_target("123_[1-5,9]").tasks == frozenset({1, 2, 3, 4, 5, 9})
    assert parse_target("123_*").tasks == "*"
    assert parse_target("123+1").het_offset == 1
    assert parse_target("123.batch").step_id == BATCH_STEP
    assert parse_target("123_7.0").step_id == 0
    assert parse_target("123_[1-3]").job_part == "123_[1,2,3]"
    for bad in ("abc", "12abc", "0", "123_[]", "1.x"):
        with pytest.raises(JobIdError):
            parse_target(bad)


# ---------------------------------------------------------------- golden cases


def test_case08_scancel_running_job(engine: Engine) -> None:
    """`scancel 13`: CANCELLED by 0, 0:0; batch CANCELLED 0:15 (golden job 13)."""
    with session_of(engine) as s, s.begin():
        make_job(s, 13, "RUNNING", steps=(BATCH_STEP,))
        results = apply_kill(s, req("13", time=1795347125))
        assert [(r.job_id, r.outcome) for r in results] == [("13", Outcome.CANCELLED)]
    with session_of(engine) as s:
        assert stored_view(s, 13) == golden_view(13)
        job = s.scalars(select(Job).where(Job.job_id_raw == 13)).one()
        assert (job.time_end, job.cancel_time, job.cancel_signal, job.cancel_state) == (
            1795347125,
            1795347125,
            9,
            "RUNNING",
        )


def test_case10_usr1_to_batch_only_job_then_cancel(engine: Engine) -> None:
    """USR1 changes nothing (only non-batch steps get it); then `scancel 15` (golden job 15)."""
    with session_of(engine) as s, s.begin():
        make_job(s, 15, "RUNNING", steps=(BATCH_STEP,))
        results = apply_kill(s, req("15", 10))
        assert results[0].outcome is Outcome.RECORDED
        job = s.scalars(select(Job).where(Job.job_id_raw == 15)).one()
        assert job.state == "RUNNING" and job.kill_requid is None
        apply_kill(s, req("15", time=T0 + 200))
    with session_of(engine) as s:
        assert stored_view(s, 15) == golden_view(15)
        rows = s.scalars(select(SignalRequest).order_by(SignalRequest.id)).all()
        assert [(r.signal, r.state_before, r.result) for r in rows] == [
            (10, "RUNNING", "SLURM_SUCCESS"),
            (9, "RUNNING", "SLURM_SUCCESS"),
        ]


def test_case09_usr1_reaches_steps_only_as_a_record(engine: Engine) -> None:
    """USR1 to a job with a running step: the step may catch it, so only the request is
    recorded; the step's death (CANCELLED 0:10) arrives as its completion event."""
    with session_of(engine) as s, s.begin():
        make_job(s, 14, "RUNNING", steps=(BATCH_STEP, 0))
        assert apply_kill(s, req("14", 10))[0].outcome is Outcome.RECORDED
    with session_of(engine) as s:
        job_view, steps = stored_view(s, 14)
        assert job_view == (STATE_NUM["RUNNING"], None, None)
        assert steps == [(BATCH_STEP, 1, None, None), (0, 1, None, None)]


def test_case11_pending_job(engine: Engine) -> None:
    """USR1 to a pending job: TRANSITION_STATE_NO_UPDATE; cancel: CANCELLED by 0, no start."""
    with session_of(engine) as s, s.begin():
        make_job(
            s,
            20,
            "PENDING",
            submit=1795347188,
            time_eligible=1795350788,
            reason="BeginTime",
            timelimit=0xFFFFFFFE,
        )
        with pytest.raises(SlurmError) as refused:
            apply_kill(s, req("20", 10, time=1795347283))
        assert refused.value.errno is SlurmErrno.ESLURM_TRANSITION_STATE_NO_UPDATE
        apply_kill(s, req("20", time=1795347283))
    with session_of(engine) as s:
        assert stored_view(s, 20) == golden_view(20)
        job = s.scalars(select(Job).where(Job.job_id_raw == 20)).one()
        assert (job.time_start, job.time_end) == (None, 1795347283)
        results = [r.result for r in s.scalars(select(SignalRequest).order_by(SignalRequest.id))]
        assert results == ["ESLURM_TRANSITION_STATE_NO_UPDATE", "SLURM_SUCCESS"]


def test_case13_array_task(engine: Engine) -> None:
    """`scancel 23_2` on array 23: only task 2 (raw 26) is cancelled (golden jobs 23-26)."""
    with session_of(engine) as s, s.begin():
        for raw, task, state, code in ((24, 0, "COMPLETED", 0), (25, 1, "FAILED", 4)):
            job = make_job(s, raw, state, steps=(), array_job_id=23, array_task_id=task)
            job.exit_code, job.exit_signal, job.time_end = code, 0, T0 + 2
            s.add(
                Step(
                    job_pk=job.id,
                    step_id=BATCH_STEP,
                    step_name="batch",
                    state=state,
                    exit_code=code,
                    exit_signal=0,
                    time_start=T0 + 1,
                    time_end=T0 + 2,
                )
            )
        make_job(s, 26, "RUNNING", steps=(BATCH_STEP,), array_job_id=23, array_task_id=2)
        done = make_job(s, 23, "COMPLETED", array_job_id=23, array_task_id=3)
        done.exit_code, done.exit_signal, done.time_end = 0, 0, T0 + 2
        s.add(
            Step(
                job_pk=done.id,
                step_id=BATCH_STEP,
                step_name="batch",
                state="COMPLETED",
                exit_code=0,
                exit_signal=0,
                time_end=T0 + 2,
            )
        )
        s.flush()
        results = apply_kill(s, req("23_2"))
        assert [(r.job_id, r.job_id_raw, r.outcome) for r in results] == [
            ("23_2", 26, Outcome.CANCELLED)
        ]
        # A finished task answers ALREADY_DONE; a task that does not exist INVALID_JOB_ID.
        for target, errno in (
            ("23_1", SlurmErrno.ESLURM_ALREADY_DONE),
            ("23_99", SlurmErrno.ESLURM_INVALID_JOB_ID),
            ("23", SlurmErrno.ESLURM_ALREADY_DONE),
        ):
            with pytest.raises(SlurmError) as refused:
                apply_kill(s, req(target))
            assert refused.value.errno is errno, target
    with session_of(engine) as s:
        for raw in (23, 24, 25, 26):
            assert stored_view(s, raw) == golden_view(raw), raw


def test_case14_15_pending_and_running_cancels_by_two_users(engine: Engine) -> None:
    """Golden jobs 31-35: root cancels alice's pending jobs, alice her running one and is
    refused root's; root then cancels both remaining."""
    with session_of(engine) as s, s.begin():
        make_job(s, 31, "RUNNING", uid=ALICE, user="alice", steps=(BATCH_STEP,))
        make_job(s, 32, "PENDING", uid=ALICE, user="alice", time_eligible=None)
        make_job(s, 33, "PENDING", uid=ALICE, user="alice")
        make_job(s, 34, "RUNNING", steps=(BATCH_STEP,))
        make_job(s, 35, "RUNNING", uid=ALICE, user="alice", steps=(BATCH_STEP,))
        apply_kill(s, req("32"))
        apply_kill(s, req("33"))
        apply_kill(s, req("31", uid=ALICE))
        with pytest.raises(SlurmError) as refused:
            apply_kill(s, req("34", uid=ALICE))
        assert refused.value.errno is SlurmErrno.ESLURM_ACCESS_DENIED
        apply_kill(s, req("35"))
        apply_kill(s, req("34"))
    with session_of(engine) as s:
        for raw in (31, 32, 33, 34, 35):
            assert stored_view(s, raw) == golden_view(raw), raw


def test_case18_step_kill_through_controller(engine: Engine) -> None:
    """`scancel 42.0`: step CANCELLED by 0, 0:9; the job runs on, DerivedExitCode 0:9;
    `42.99` is an invalid step; a finished step is invalid too."""
    with session_of(engine) as s, s.begin():
        make_job(s, 42, "RUNNING", steps=(BATCH_STEP, 0))
        with pytest.raises(SlurmError) as refused:
            apply_kill(s, req("42.99", api="slurm_kill_job_step"))
        assert refused.value.errno is SlurmErrno.ESLURM_INVALID_JOB_ID
        results = apply_kill(s, req("42.0", api="slurm_kill_job_step"))
        assert [(r.step, r.outcome) for r in results] == [("0", Outcome.STEPS_KILLED)]
        with pytest.raises(SlurmError) as again:
            apply_kill(s, req("42.0", api="slurm_kill_job_step"))
        assert again.value.errno is SlurmErrno.ESLURM_INVALID_JOB_ID
        job = s.scalars(select(Job).where(Job.job_id_raw == 42)).one()
        assert job.state == "RUNNING"
        assert (job.derived_exit_code, job.derived_exit_signal) == (0, 9)
    with session_of(engine) as s:
        _, golden_steps = golden_view(42)
        _, steps = stored_view(s, 42)
        assert [st for st in steps if st[0] == 0] == [st for st in golden_steps if st[0] == 0]


def test_case06_batch_shell_sigkill(engine: Engine) -> None:
    """`scancel -b -s KILL`: the shell dies of SIGKILL: job FAILED 0:9, batch CANCELLED 0:9
    (golden job 8, whose shell was killed the same way); kill_requid kept but not shown."""
    with session_of(engine) as s, s.begin():
        make_job(s, 8, "RUNNING", steps=(BATCH_STEP,))
        assert apply_kill(s, req("8", flags=KILL_JOB_BATCH))[0].outcome is Outcome.FAILED
    with session_of(engine) as s:
        (state, code, requid), steps = stored_view(s, 8)
        golden_job, golden_steps = golden_view(8)
        assert (state, code) == golden_job[:2] and requid == ROOT
        assert steps == golden_steps


# ---------------------------------------------------------------- more rules


def test_running_job_with_steps_and_extern(engine: Engine) -> None:
    with session_of(engine) as s, s.begin():
        make_job(s, 50, "RUNNING", steps=(EXTERN_STEP, BATCH_STEP, 0, 1))
        apply_kill(s, req("50", reason="runaway"))
    with session_of(engine) as s:
        job_view, steps = stored_view(s, 50)
        assert job_view == (4, 0, ROOT)
        assert steps == [
            (BATCH_STEP, 4, 15, None),
            (EXTERN_STEP, 3, 0, None),
            (0, 4, 15, None),
            (1, 4, 15, None),
        ]
        job = s.scalars(select(Job).where(Job.job_id_raw == 50)).one()
        assert job.cancel_reason == "runaway"
        assert (job.derived_exit_code, job.derived_exit_signal) == (0, 15)


def test_suspended_job_steps_die_at_once(engine: Engine) -> None:
    with session_of(engine) as s, s.begin():
        make_job(s, 51, "SUSPENDED", steps=(BATCH_STEP, 0))
        with pytest.raises(SlurmError) as refused:
            apply_kill(s, req("51", 10))
        assert refused.value.errno is SlurmErrno.ESLURM_TRANSITION_STATE_NO_UPDATE
        apply_kill(s, req("51"))
    with session_of(engine) as s:
        assert stored_view(s, 51) == ((4, 0, ROOT), [(BATCH_STEP, 4, 9, None), (0, 4, 9, None)])


def test_batch_flag_rules(engine: Engine) -> None:
    with session_of(engine) as s, s.begin():
        make_job(s, 52, "RUNNING", steps=(0,))  # an salloc/srun job: no batch script
        with pytest.raises(SlurmError) as refused:
            apply_kill(s, req("52", flags=KILL_JOB_BATCH))
        assert refused.value.errno is SlurmErrno.ESLURM_JOB_SCRIPT_MISSING
        make_job(s, 53, "RUNNING", steps=(BATCH_STEP, 0))
        assert apply_kill(s, req("53", 10, flags=KILL_JOB_BATCH))[0].outcome is Outcome.RECORDED
        # SIGKILL to the steps only (slurm_signal_job): steps die, the job goes on.
        results = apply_kill(s, req("53", api="slurm_signal_job"))
        assert results[0].outcome is Outcome.STEPS_KILLED
    with session_of(engine) as s:
        assert stored_view(s, 53) == (
            (1, None, None),
            [(BATCH_STEP, 1, None, None), (0, 4, 9, None)],
        )


def test_steps_only_flag_and_oom_flag(engine: Engine) -> None:
    with session_of(engine) as s, s.begin():
        make_job(s, 54, "RUNNING", steps=(BATCH_STEP, 0, 1))
        apply_kill(s, req("54.1", api="slurm_kill_job_step", flags=KILL_OOM))
        apply_kill(s, req("54", flags=KILL_STEPS_ONLY))
    with session_of(engine) as s:
        job = s.scalars(select(Job).where(Job.job_id_raw == 54)).one()
        assert (job.state, job.kill_requid) == ("RUNNING", ROOT)
        states = {st.step_id: (st.state, st.exit_signal) for st in job_steps(s, job)}
        assert states == {
            BATCH_STEP: ("RUNNING", None),
            0: ("CANCELLED", 9),
            1: ("OUT_OF_MEMORY", 125),
        }


def test_direct_step_apis(engine: Engine) -> None:
    """slurm_signal_job_step / slurm_terminate_job_step bypass the controller: no requid,
    owner or root only (ESLURM_USER_ID_MISSING), ALREADY_DONE is success for terminate."""
    with session_of(engine) as s, s.begin():
        make_job(s, 55, "RUNNING", uid=OWNER, user="owner", steps=(BATCH_STEP, 0, 1))
        with pytest.raises(SlurmError) as refused:
            apply_kill(s, req("55.0", api="slurm_terminate_job_step", uid=OPERATOR))
        assert refused.value.errno is SlurmErrno.ESLURM_USER_ID_MISSING
        assert (
            apply_kill(s, req("55.0", 10, api="slurm_signal_job_step", uid=OWNER))[0].outcome
            is Outcome.RECORDED
        )
        apply_kill(s, req("55.0", api="slurm_terminate_job_step", uid=OWNER))
        again = apply_kill(s, req("55.0", api="slurm_terminate_job_step", uid=OWNER))
        assert again[0].outcome is Outcome.NOTHING
        apply_kill(s, req("55.batch", api="slurm_signal_job_step", uid=OWNER))
    with session_of(engine) as s:
        view = stored_view(s, 55)
        assert view == (
            (5, 9, None),
            [(BATCH_STEP, 4, 9, None), (0, 4, 9, None), (1, 4, 15, None)],
        )


def test_unsplit_array_tasks(engine: Engine) -> None:
    """Pending tasks inside the meta record: SIGKILL removes them, other signals are refused;
    the meta record is CANCELLED by the caller when it empties (§6.5)."""
    with session_of(engine) as s, s.begin():
        make_job(s, 60, "PENDING", array_job_id=60, array_task_str="3-9%2")
        for raw, task in ((61, 0), (62, 1), (63, 2)):
            make_job(s, raw, "RUNNING", steps=(BATCH_STEP,), array_job_id=60, array_task_id=task)
        with pytest.raises(SlurmError) as refused:
            apply_kill(s, req("60_4", 10))
        assert refused.value.errno is SlurmErrno.ESLURM_TRANSITION_STATE_NO_UPDATE
        results = apply_kill(s, req("60_[1,4-5,9,12]"))
        assert [(r.job_id, r.outcome, r.errno.name) for r in results] == [
            ("60_1", Outcome.CANCELLED, "SLURM_SUCCESS"),
            ("60_4", Outcome.TASKS_REMOVED, "SLURM_SUCCESS"),
            ("60_5", Outcome.TASKS_REMOVED, "SLURM_SUCCESS"),
            ("60_9", Outcome.TASKS_REMOVED, "SLURM_SUCCESS"),
            ("60_12", Outcome.REFUSED, "ESLURM_INVALID_JOB_ID"),
        ]
        assert request_errno(results) is SlurmErrno.ESLURM_INVALID_JOB_ID
        meta = s.scalars(select(Job).where(Job.job_id_raw == 60)).one()
        assert (meta.state, meta.array_task_str) == ("PENDING", "3,6-8%2")
        apply_kill(s, req("60_[3,6-8]", uid=ROOT))
        assert (meta.state, meta.array_task_str, meta.kill_requid) == ("CANCELLED", None, ROOT)
        # The whole array: the running tasks left.
        results = apply_kill(s, req("60"))
        assert {(r.job_id, r.errno.name) for r in results} == {
            ("60", "ESLURM_ALREADY_DONE"),
            ("60_0", "SLURM_SUCCESS"),
            ("60_1", "ESLURM_ALREADY_DONE"),
            ("60_2", "SLURM_SUCCESS"),
        }


def test_whole_array_and_array_task_flag(engine: Engine) -> None:
    with session_of(engine) as s, s.begin():
        make_job(s, 70, "PENDING", array_job_id=70, array_task_str="2-5")
        make_job(s, 71, "RUNNING", steps=(BATCH_STEP,), array_job_id=70, array_task_id=0)
        apply_kill(s, req("70", flags=KILL_ARRAY_TASK))
        assert {j.job_id_raw: j.state for j in s.scalars(select(Job))} == {
            70: "CANCELLED",
            71: "RUNNING",
        }
        meta = s.scalars(select(Job).where(Job.job_id_raw == 70)).one()
        assert meta.array_task_str == "2-5"  # the tasks it held when cancelled
        results = apply_kill(s, req("70_*"))
        assert [(r.job_id, r.outcome) for r in results] == [("70_0", Outcome.CANCELLED)]


def test_het_jobs(engine: Engine) -> None:
    with session_of(engine) as s, s.begin():
        make_job(s, 80, "PENDING", het_job_id=80, het_job_offset=0)
        make_job(s, 81, "PENDING", het_job_id=80, het_job_offset=1)
        for target in ("80+1", "81"):
            with pytest.raises(SlurmError) as refused:
                apply_kill(s, req(target))
            assert refused.value.errno is SlurmErrno.ESLURM_NOT_WHOLE_HET_JOB
        results = apply_kill(s, req("80"))
        assert [r.job_id for r in results] == ["80+0", "80+1"]
        make_job(s, 90, "RUNNING", steps=(BATCH_STEP,), het_job_id=90, het_job_offset=0)
        make_job(s, 91, "RUNNING", steps=(0,), het_job_id=90, het_job_offset=1)
        apply_kill(s, req("90+1"))  # a running component alone
        assert {j.job_id_raw: j.state for j in s.scalars(select(Job))}[90] == "RUNNING"
        apply_kill(s, req("90+0"))
        make_job(s, 95, "RUNNING")
        with pytest.raises(SlurmError) as not_het:
            apply_kill(s, req("95+0"))
        assert not_het.value.errno is SlurmErrno.ESLURM_NOT_HET_JOB
        with pytest.raises(SlurmError) as invalid:
            apply_kill(s, req("95+2"))
        assert invalid.value.errno is SlurmErrno.ESLURM_INVALID_JOB_ID
    with session_of(engine) as s:
        states = {j.job_id_raw: (j.state, j.kill_requid) for j in s.scalars(select(Job))}
        assert states == {
            80: ("CANCELLED", ROOT),
            81: ("CANCELLED", ROOT),
            90: ("CANCELLED", ROOT),
            91: ("CANCELLED", ROOT),
            95: ("RUNNING", None),
        }


def test_errors_for_missing_and_malformed(engine: Engine) -> None:
    with session_of(engine) as s, s.begin():
        for target, api in (
            ("999", "slurm_kill_job"),
            ("abc", "slurm_kill_job"),
            ("999.0", "slurm_kill_job_step"),
            ("999", "slurm_signal_job"),
        ):
            with pytest.raises(SlurmError) as refused:
                apply_kill(s, req(target, api=api))
            assert refused.value.errno is SlurmErrno.ESLURM_INVALID_JOB_ID
        make_job(s, 100, "PENDING")
        with pytest.raises(SlurmError) as pending:
            apply_kill(s, req("100", api="slurm_signal_job"))
        assert pending.value.errno is SlurmErrno.ESLURM_JOB_PENDING
        with pytest.raises(SlurmError) as step_of_pending:
            apply_kill(s, req("100.0", api="slurm_kill_job_step"))
        assert step_of_pending.value.errno is SlurmErrno.ESLURM_TRANSITION_STATE_NO_UPDATE
        with pytest.raises(ValueError):
            apply_kill(s, req("100", api="kill"))


# ---------------------------------------------------------------- authorization (§6.6)


@pytest.mark.parametrize(
    ("uid", "allowed"),
    [(OWNER, True), (ROOT, True), (OPERATOR, True), (ADMIN, True), (COORD, True), (OTHER, False)],
)
def test_who_may_cancel(engine: Engine, uid: int, allowed: bool) -> None:
    with session_of(engine) as s, s.begin():
        job = make_job(s, 110, "RUNNING", uid=OWNER, user="owner", account="physics")
        if allowed:
            check_cancel(s, uid, job, "110")
            apply_kill(s, req("110", uid=uid))
            assert job.kill_requid == uid
        else:
            with pytest.raises(SlurmError) as refused:
                apply_kill(s, req("110", uid=uid))
            assert refused.value.errno is SlurmErrno.ESLURM_ACCESS_DENIED
            assert job.state == "RUNNING"
            rows = s.scalars(select(SignalRequest)).all()
            assert [(r.uid, r.result) for r in rows] == [(OTHER, "ESLURM_ACCESS_DENIED")]


def test_coordinator_of_another_account_and_admin_comment(engine: Engine) -> None:
    with session_of(engine) as s, s.begin():
        job = make_job(s, 111, "RUNNING", uid=OWNER, user="owner", account="chem")
        with pytest.raises(SlurmError) as coord:
            check_cancel(s, COORD, job, "111")
        assert coord.value.errno is SlurmErrno.ESLURM_ACCESS_DENIED
        for uid in (OWNER, OPERATOR):
            with pytest.raises(SlurmError) as missing:
                apply_kill(s, req("111", uid=uid, admin_comment="node tux3 flaky"))
            assert missing.value.errno is SlurmErrno.ESLURM_USER_ID_MISSING
        apply_kill(s, req("111", uid=ADMIN, admin_comment="node tux3 flaky"))
        assert (job.state, job.admin_comment) == ("CANCELLED", "node tux3 flaky")


def test_finished_job_of_another_user_is_access_denied(engine: Engine) -> None:
    """Golden case 18: alice `scancel 1` (root's finished job) is refused, not ALREADY_DONE."""
    with session_of(engine) as s, s.begin():
        job = make_job(s, 1, "COMPLETED")
        job.time_end = T0 + 5
        with pytest.raises(SlurmError) as refused:
            apply_kill(s, req("1", uid=ALICE))
        assert refused.value.errno is SlurmErrno.ESLURM_ACCESS_DENIED
        with pytest.raises(SlurmError) as done:
            apply_kill(s, req("1"))
        assert done.value.errno is SlurmErrno.ESLURM_ALREADY_DONE


# ---------------------------------------------------------------- concurrency


def test_concurrent_cancels_serialise(engine: Engine) -> None:
    """Eight cancels of one job at once: exactly one wins, the others answer ALREADY_DONE,
    and every request is in the provenance log (row locks / BEGIN IMMEDIATE)."""
    with session_of(engine) as s, s.begin():
        make_job(s, 120, "RUNNING", steps=(BATCH_STEP,))
    answers: list[str] = []
    lock = threading.Lock()

    def cancel(uid: int) -> None:
        with Session(engine) as s, s.begin():
            try:
                apply_kill(s, req("120", uid=uid, time=T0 + uid))
                answer = "SLURM_SUCCESS"
            except SlurmError as exc:
                answer = exc.errno.name
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=cancel, args=(ADMIN if i == 0 else ROOT,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == ["ESLURM_ALREADY_DONE"] * 7 + ["SLURM_SUCCESS"]
    with session_of(engine) as s:
        rows = s.scalars(select(SignalRequest)).all()
        assert sorted(r.result for r in rows) == sorted(answers)
        job = s.scalars(select(Job).where(Job.job_id_raw == 120)).one()
        winner = next(r for r in rows if r.result == "SLURM_SUCCESS")
        assert (job.kill_requid, job.cancel_time) == (winner.uid, winner.time)
