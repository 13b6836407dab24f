"""Signal and checkpoint events: dispatched to the kill/checkpoint rules, journaled with the
answer; refusals fail the batch naming the event, ESLURM_ALREADY_DONE does not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct.config import make_engine
from jobacct.model import Event, Job, Step
from jobacct.shim.apply import ShimEventError, apply
from tests.shim_helpers import dump_store
from tests.test_shim_apply import SUBMIT, ev


def _running(job: int = 7) -> list[dict[str, Any]]:
    return [
        ev("job_submit", 0, job, uid=1001, user_name="alice", account="lc"),
        ev("job_start", 1, job, time=SUBMIT + 5, nodelist="vm", nnodes=1, ncpus=2),
        ev("step_start", 2, job, step="batch", time=SUBMIT + 5),
    ]


def _cancel(seq: int, uid: int = 1001, job: int = 7) -> dict[str, Any]:
    return ev(
        "signal", seq, job, uid=uid, signal="KILL", time=SUBMIT + 20, api="slurm_kill_job",
        reason="wrong input",
    )  # fmt: skip


def test_cancel_in_the_same_batch_follows_the_lower_seqs(store_url: str) -> None:
    engine = make_engine(store_url)
    # Arrival order reversed: the cancel (seq 3) is applied after seqs 0-2 all the same.
    summary = apply(engine, [_cancel(3), *reversed(_running())])
    assert summary.applied == 4
    with Session(engine) as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.kill_requid, job.time_end) == ("CANCELLED", 1001, SUBMIT + 20)
        results = {seq: result for seq, result in session.execute(select(Event.seq, Event.result))}
        assert results[3] == "SUCCESS"
    # The controller's own job_end for the cancel arrives later and agrees.
    apply(engine, [ev("job_end", 4, time=SUBMIT + 20, state="CANCELLED", exit=0, kill_requid=1001)])
    # A second cancel is normal: journaled as ESLURM_ALREADY_DONE, no record changes.
    before = dump_store(engine)
    again = apply(engine, [_cancel(5)])
    assert (again.applied, again.already_done) == (1, 1)
    assert dump_store(engine) == before
    with Session(engine) as session:
        assert session.scalar(select(Event.result).where(Event.seq == 5)) == "ESLURM_ALREADY_DONE"
    engine.dispose()


@pytest.mark.parametrize(
    ("event", "errno"),
    [
        (_cancel(3, uid=1002), "ESLURM_ACCESS_DENIED"),
        (_cancel(0, job=99), "ESLURM_INVALID_JOB_ID"),
    ],
    ids=["not-permitted", "unknown-job"],
)
def test_refused_request_fails_the_batch(store_url: str, event: dict[str, Any], errno: str) -> None:
    engine = make_engine(store_url)
    apply(engine, _running())
    before = dump_store(engine)
    with pytest.raises(ShimEventError) as info:
        apply(engine, [ev("step_start", 9, step="0", time=SUBMIT + 9), event])
    key = f"[tux/{event['job_id_raw']}/{SUBMIT}/seq {event['seq']}]"
    assert str(info.value).startswith(f"event #2 {key}: {errno}")
    assert dump_store(engine) == before
    engine.dispose()


def test_checkpoint_event_is_dispatched(store_url: str) -> None:
    engine = make_engine(store_url)
    apply(engine, _running())
    summary = apply(
        engine, [ev("checkpoint", 3, uid=1001, time=SUBMIT + 30, step="batch", action="disable")]
    )
    assert summary.applied == 1
    with Session(engine) as session:
        assert session.scalar(select(Event.result).where(Event.seq == 3)) == "SUCCESS"
        assert session.scalar(select(Step.checkpointable).where(Step.step_id == -5)) is False
    engine.dispose()
