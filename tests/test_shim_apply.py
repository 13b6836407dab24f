"""Applying events: out-of-order merges, idempotency, the journal, and refused batches."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobacct.config import make_engine
from jobacct.model import Event, Job, Step
from jobacct.shim.apply import ShimEventError, apply
from jobacct.shim.events import json_schema
from tests.shim_helpers import dump_store

SUBMIT = 1_790_000_000


def ev(kind: str, seq: int, job: int = 7, **fields: Any) -> dict[str, Any]:
    return {
        "schema": 1,
        "type": kind,
        "cluster": "tux",
        "job_id_raw": job,
        "submit": SUBMIT,
        "seq": seq,
        **fields,
    }


def lifecycle(job: int = 7) -> list[dict[str, Any]]:
    """Job 7: batch step exits 0, step 0 exits 2, step 1 killed by SIGKILL; script exits 0."""
    return [
        ev("job_submit", 0, job, uid=1001, user_name="alice", account="lc", job_name="mix"),
        ev("job_start", 1, job, time=SUBMIT + 5, nodelist="vm", nnodes=1, ncpus=2),
        ev("step_start", 2, job, step="batch", time=SUBMIT + 5),
        ev("step_start", 3, job, step="0", time=SUBMIT + 6, step_name="bash", ntasks=1),
        ev("step_end", 4, job, step="0", time=SUBMIT + 7, exit=512),
        ev("step_start", 5, job, step="1", time=SUBMIT + 8, step_name="bash"),
        ev("step_end", 6, job, step="1", time=SUBMIT + 9, exit_code="0:9"),
        ev("step_end", 7, job, step="batch", time=SUBMIT + 10, exit=0),
        ev("job_end", 8, job, time=SUBMIT + 10, state="COMPLETED", exit=0),
    ]


def _job(url: str, job: int = 7) -> tuple[Job, list[Step]]:
    engine = make_engine(url)
    with Session(engine) as session:
        record = session.scalars(select(Job).where(Job.job_id_raw == job)).one()
        steps = list(
            session.scalars(select(Step).where(Step.job_pk == record.id).order_by(Step.step_id))
        )
        session.expunge_all()
    engine.dispose()
    return record, steps


def _count(url: str, model: Any) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return int(value or 0)


def test_lifecycle_gives_slurm_records(store_url: str) -> None:
    summary = apply(make_engine(store_url), lifecycle())
    assert (summary.received, summary.applied, summary.duplicates) == (9, 9, 0)
    job, steps = _job(store_url)
    assert (job.state, job.exit_code, job.exit_signal) == ("COMPLETED", 0, 0)
    # §2.1: raw 512 (exit 2) beats raw 9 (SIGKILL); the batch step does not count.
    assert (job.derived_exit_code, job.derived_exit_signal) == (2, 0)
    assert (job.computed_exit_code, job.computed_exit_signal) == (2, 0)
    assert (job.uid, job.user_name, job.account, job.nodelist) == (1001, "alice", "lc", "vm")
    by_id = {s.step_id: s for s in steps}
    assert (by_id[-5].state, by_id[-5].step_name) == ("COMPLETED", "batch")
    assert (by_id[0].state, by_id[0].exit_code) == ("FAILED", 2)
    # §1.6: a signalled step is CANCELLED even when nobody cancelled it.
    assert (by_id[1].state, by_id[1].exit_signal, by_id[1].kill_requid) == ("CANCELLED", 9, None)


def test_applying_twice_changes_nothing(store_url: str) -> None:
    engine = make_engine(store_url)
    apply(engine, lifecycle())
    before = dump_store(engine)
    again = apply(engine, lifecycle() + lifecycle())
    assert (again.applied, again.duplicates) == (0, 18)
    assert dump_store(engine) == before
    assert _count(store_url, Event) == 9
    engine.dispose()


def test_out_of_order_step_end_before_start_keeps_its_end(store_url: str) -> None:
    engine = make_engine(store_url)
    events = lifecycle()
    apply(engine, [events[4]])  # step 0 ends before anything else is known
    job, steps = _job(store_url)
    assert job.state == "PENDING"  # placeholder until a job event arrives
    assert (steps[0].state, steps[0].exit_code) == ("FAILED", 2)
    apply(engine, [events[3]])  # now its start
    _, steps = _job(store_url)
    assert (steps[0].state, steps[0].exit_code, steps[0].time_start) == ("FAILED", 2, SUBMIT + 6)
    engine.dispose()


def test_job_end_before_last_step_recomputes_derived(store_url: str) -> None:
    engine = make_engine(store_url)
    events = lifecycle()
    apply(engine, events[:4] + events[5:6] + [events[8]])  # job ends; steps 0/1 still open
    job, steps = _job(store_url)
    assert job.state == "COMPLETED"
    # §1.6: steps still open when the job ends are CANCELLED with no exit code.
    assert {s.step_id: (s.state, s.exit_code) for s in steps}[0] == ("CANCELLED", None)
    apply(engine, [events[4], events[6], events[7]])
    job, steps = _job(store_url)
    assert job.state == "COMPLETED"
    assert (job.derived_exit_code, job.derived_exit_signal) == (2, 0)
    assert {s.step_id: s.state for s in steps} == {-5: "COMPLETED", 0: "FAILED", 1: "CANCELLED"}
    engine.dispose()


def test_annotation_survives_late_steps(store_url: str) -> None:
    engine = make_engine(store_url)
    events = lifecycle()
    apply(engine, [*events[:4], events[8]])
    with Session(engine) as session, session.begin():
        job = session.scalars(select(Job)).one()
        job.derived_exit_code, job.derived_exit_signal, job.derived_annotated = 49, 0, True
    apply(engine, events[4:8])
    job, _ = _job(store_url)
    assert (job.derived_exit_code, job.computed_exit_code) == (49, 2)
    engine.dispose()


def test_terminal_reports_higher_seq_wins(store_url: str) -> None:
    engine = make_engine(store_url)
    first = ev("job_end", 8, time=SUBMIT + 10, state="TIMEOUT", exit=0)
    second = ev("job_end", 9, time=SUBMIT + 11, state="NODE_FAIL", exit=1)
    apply(engine, [second])
    apply(engine, [first])
    job, _ = _job(store_url)
    # The later report wins whatever the arrival order; raw 1 is stored as 256 (§1.4).
    assert (job.state, job.time_end, job.exit_code, job.exit_signal) == (
        "NODE_FAIL",
        SUBMIT + 11,
        1,
        0,
    )
    engine.dispose()


def test_journal_keeps_each_event_with_receive_time(store_url: str) -> None:
    engine = make_engine(store_url)
    before = time.time()
    apply(engine, lifecycle())
    with engine.connect() as conn:
        rows = conn.execute(select(Event).order_by(Event.seq)).all()
    engine.dispose()
    assert [r.seq for r in rows] == list(range(9))
    assert {r.result for r in rows} == {"SUCCESS"}
    assert all(before - 1 <= r.received <= time.time() + 1 for r in rows)
    assert json.loads(rows[0].payload)["type"] == "job_submit"


BAD = [
    (
        {
            k: v
            for k, v in ev("job_start", 1, time=SUBMIT + 1, nodelist="n", nnodes=1, ncpus=1).items()
            if k != "time"
        },
        "missing field 'time'",
    ),
    (
        ev("job_start", 1, time="soon", nodelist="n", nnodes=1, ncpus=1),
        "time: Input should be a valid integer",
    ),
    (ev("job_launch", 1), "unknown event type 'job_launch'"),
    (
        ev("step_end", 1, step="0", time=SUBMIT + 1, exit=0, exit_code="0:0"),
        "exactly one of 'exit'",
    ),
    (ev("step_end", 1, step="x1", time=SUBMIT + 1, exit=0), "step"),
    ({**ev("job_submit", 1, uid=1), "schema": 2}, "schema"),
    (ev("job_submit", 1, uid=1, colour="red"), "colour"),
]


@pytest.mark.parametrize(("bad", "why"), BAD, ids=[b[1][:20] for b in BAD])
def test_bad_event_names_position_and_key_and_changes_nothing(
    store_url: str, bad: dict[str, Any], why: str
) -> None:
    engine = make_engine(store_url)
    apply(engine, lifecycle(job=3))
    before = dump_store(engine)
    with pytest.raises(ShimEventError) as info:
        apply(engine, [*lifecycle(job=4), bad])
    message = str(info.value)
    assert message.startswith("event #10 [tux/7/1790000000/seq 1]: "), message
    assert why in message
    assert dump_store(engine) == before
    assert _count(store_url, Event) == 9
    engine.dispose()


def test_conflicting_event_under_same_key_is_refused(store_url: str) -> None:
    engine = make_engine(store_url)
    apply(engine, lifecycle())
    changed = ev("job_end", 8, time=SUBMIT + 99, state="FAILED", exit=256)
    with pytest.raises(ShimEventError, match="conflicts with a different event"):
        apply(engine, [changed])
    engine.dispose()


def test_schema_file_is_the_generated_one() -> None:
    from pathlib import Path

    committed = Path(__file__).parent.parent / "docs" / "event-schema.json"
    assert json.loads(committed.read_text()) == json_schema()
