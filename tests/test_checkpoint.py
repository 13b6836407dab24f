"""Checkpoint accounting (tracker issue 5 item 5, slurm-semantics.md §9), on all backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobacct import caller
from jobacct.checkpoint import CheckpointRequest, apply_checkpoint
from jobacct.cli import main
from jobacct.config import make_engine, write_engine
from jobacct.jobid import BATCH_STEP
from jobacct.model import Job, Step, UserPrivilege
from jobacct.slurm_errno import SlurmErrno, SlurmError
from tests.test_signal import OPERATOR, OTHER, OWNER, T0, make_job


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    eng = write_engine(make_engine(store_url))
    with Session(eng) as s, s.begin():
        s.merge(UserPrivilege(uid=OPERATOR, user_name="op", admin_level="Operator"))
    yield eng
    eng.dispose()


def ckpt(
    action: str,
    step: str = "0",
    *,
    job: int = 500,
    uid: int = OWNER,
    code: int | None = None,
    msg: str | None = None,
    time: int = T0 + 50,
) -> CheckpointRequest:
    return CheckpointRequest("golden", job, step, uid, time, action, code, msg, None)


def step_row(s: Session, job_id_raw: int, step_id: int) -> Step:
    job = s.scalars(select(Job).where(Job.job_id_raw == job_id_raw)).one()
    return s.scalars(select(Step).where(Step.job_pk == job.id, Step.step_id == step_id)).one()


def test_highest_code_and_its_message_are_kept(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        make_job(s, 500, "RUNNING", uid=OWNER, user="owner", steps=(BATCH_STEP, 0))
        apply_checkpoint(s, ckpt("create"))
        for code, msg in ((0, "ok"), (5, "disk full"), (3, "slow node"), (5, "again"), (0, "ok")):
            apply_checkpoint(s, ckpt("task_complete", code=code, msg=msg, time=T0 + 60 + code))
        result = apply_checkpoint(s, ckpt("error"))
        assert (result.error_code, result.error_msg) == (5, "disk full")
        apply_checkpoint(s, ckpt("complete", code=7, msg="image write failed", time=T0 + 90))
    with Session(engine) as s:
        step = step_row(s, 500, 0)
        assert (step.checkpoint_error_code, step.checkpoint_error_msg) == (7, "image write failed")
        assert step.checkpoint_time == T0 + 90
        assert step_row(s, 500, BATCH_STEP).checkpoint_error_code is None


def test_disable_enable_and_refusals(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        make_job(s, 500, "RUNNING", uid=OWNER, user="owner", steps=(BATCH_STEP, 0, 1))
        assert apply_checkpoint(s, ckpt("able")).able is True
        apply_checkpoint(s, ckpt("disable"))
        for action in ("able", "create", "vacate", "requeue", "restart"):
            with pytest.raises(SlurmError) as refused:
                apply_checkpoint(s, ckpt(action))
            assert refused.value.errno is SlurmErrno.ESLURM_DISABLED, action
        # The other steps are not disabled; a job-wide request covers every open step.
        assert apply_checkpoint(s, ckpt("create", "1")).able is True
        with pytest.raises(SlurmError) as wide:
            apply_checkpoint(s, ckpt("create", ""))
        assert wide.value.errno is SlurmErrno.ESLURM_DISABLED
        assert apply_checkpoint(s, ckpt("enable")).able is True
        result = apply_checkpoint(s, ckpt("create", "*"))
        assert result.steps == ("batch", "0", "1")
        make_job(s, 501, "PENDING", uid=OWNER, user="owner")
        with pytest.raises(SlurmError) as pending:
            apply_checkpoint(s, ckpt("create", job=501))
        assert pending.value.errno is SlurmErrno.ESLURM_JOB_PENDING
        done = make_job(s, 502, "COMPLETED", uid=OWNER, user="owner", steps=(0,))
        done.time_end = T0 + 9
        with pytest.raises(SlurmError) as finished:
            apply_checkpoint(s, ckpt("complete", job=502, code=1, msg="late"))
        assert finished.value.errno is SlurmErrno.ESLURM_ALREADY_DONE
        for request, errno in (
            (ckpt("create", job=999), SlurmErrno.ESLURM_INVALID_JOB_ID),
            (ckpt("create", "7"), SlurmErrno.ESLURM_INVALID_JOB_ID),
            (ckpt("create", "x.y"), SlurmErrno.ESLURM_INVALID_JOB_ID),
            (ckpt("create", uid=OTHER), SlurmErrno.ESLURM_ACCESS_DENIED),
        ):
            with pytest.raises(SlurmError) as refused:
                apply_checkpoint(s, request)
            assert refused.value.errno is errno
        assert apply_checkpoint(s, ckpt("create", uid=OPERATOR)).able is True
        with pytest.raises(ValueError):
            apply_checkpoint(s, ckpt("snapshot"))


def test_a_finished_step_is_already_done(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        make_job(s, 500, "RUNNING", uid=OWNER, user="owner", steps=(BATCH_STEP, 0))
        step_row(s, 500, 0).time_end = T0 + 5
        with pytest.raises(SlurmError) as refused:
            apply_checkpoint(s, ckpt("complete", code=2, msg="x"))
        assert refused.value.errno is SlurmErrno.ESLURM_ALREADY_DONE


def test_sacct_shows_checkpoint_errors(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobacct.fields import FIELDS_BY_NAME

    if "checkpointerror" not in FIELDS_BY_NAME:
        pytest.skip("sacct's Checkpoint* fields are not registered in fields.py yet")
    engine = write_engine(make_engine(store_url))
    with Session(engine) as s, s.begin():
        make_job(s, 500, "RUNNING", uid=OWNER, user="owner", steps=(BATCH_STEP, 0))
        apply_checkpoint(s, ckpt("complete", code=4, msg="quota exceeded"))
    engine.dispose()
    monkeypatch.setattr(caller, "caller_uid", lambda: 0)
    status = main(
        [
            "--db",
            store_url,
            "sacct",
            "-j",
            "500",
            "-P",
            "-o",
            "JobID,CheckpointError,Checkpointerrormsg",
        ]
    )
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "JobID|CheckpointError|CheckpointErrorMsg",
        "500||",
        "500.batch||",
        "500.0|4|quota exceeded",
    ]
