"""Known job records for the report tests, written straight through the ORM.

Every number the report tests expect is worked out from these records in the comments.
Window of the failure and cancellation reports: 2026-11-20T00:00:00 - 2026-11-22T00:00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from jobacct.config import make_engine
from jobacct.model import Job

#: 2026-11-20T00:00:00Z.
T = int(dt.datetime(2026, 11, 20, tzinfo=dt.UTC).timestamp())
DAY = 86_400
H = 3_600
USERS = {"alice": 70001, "bob": 70002, "carol": 70003, "dave": 70004}
#: A uid that owns no job and is not in passwd: printed as the number.
OPERATOR_UID = 70009


def job(job_id: int, user: str, **values: Any) -> Job:
    """A job record with sensible defaults; ``values`` override any column."""
    base: dict[str, Any] = {
        "cluster": "tux",
        "job_id_raw": job_id,
        "time_submit": T - DAY,
        "time_eligible": T - DAY,
        "job_name": f"job{job_id}",
        "user_name": user,
        "uid": USERS.get(user, 0),
        "account": "chem",
        "partition": "batch",
        "nnodes": 1,
        "ncpus": 1,
        "state": "COMPLETED",
        "exit_code": 0,
        "exit_signal": 0,
        "derived_exit_code": 0,
        "derived_exit_signal": 0,
        "computed_exit_code": 0,
        "computed_exit_signal": 0,
    }
    base.update(values)
    return Job(**base)


def ran(start: int, seconds: int) -> dict[str, int]:
    """time_start/time_end of a run of ``seconds`` from ``start``."""
    return {"time_start": start, "time_end": start + seconds}


def failure_jobs() -> list[Job]:
    """The failure-report records (core-hours = ncpus x elapsed / 3600 in each comment)."""
    return [
        # day 1: 4 cpus x 0.5 h = 2 core-hours
        job(101, "alice", state="FAILED", ncpus=4, exit_code=1, derived_exit_code=1,
            computed_exit_code=1, **ran(T + H, 1800)),
        # day 1: 8 x 1 h = 8; DerivedExitCode 0:15 (the batch step's SIGTERM)
        job(102, "alice", state="TIMEOUT", ncpus=8, derived_exit_signal=15,
            computed_exit_signal=15, **ran(T, H)),
        # day 2: 2 x 2 h = 4
        job(103, "bob", account="ml", partition="gpu", state="OUT_OF_MEMORY", ncpus=2,
            exit_signal=125, derived_exit_signal=125, computed_exit_signal=125,
            **ran(T + DAY, 2 * H)),
        # day 2: 16 x 0.25 h = 4; annotated 0:0: a failure marked success
        job(104, "bob", account="ml", partition="gpu", state="FAILED", ncpus=16, exit_signal=9,
            computed_exit_signal=9, derived_annotated=True, comment="killed on purpose",
            **ran(T + DAY + H, 900)),
        # day 2: 10 x (1 h - 0.5 h suspended) = 5
        job(105, "carol", state="NODE_FAIL", ncpus=10, exit_code=1, time_suspended=1800,
            **ran(T + DAY + 10_000, H)),
        # day 2: 1 x 2 h = 2; annotated 49:0, still a failure (no verdict change)
        job(106, "alice", state="FAILED", exit_code=1, derived_exit_code=49,
            derived_annotated=True, comment="out of memory", **ran(T + DAY + 20_000, 2 * H)),
        # day 1: COMPLETED annotated 3:0: a success marked failure (not a failed job)
        job(107, "carol", ncpus=4, derived_exit_code=3, derived_annotated=True,
            comment="bad input", **ran(T + 36_400, H)),
        # COMPLETED, not annotated: not in the report
        job(108, "carol", **ran(T + 5_000, H)),
        # ended one second before the window: not in the report
        job(109, "alice", state="FAILED", exit_code=1, **ran(T - H - 1, H)),
        # ended exactly at the window's end: not in it (half-open window)
        job(110, "alice", state="FAILED", exit_code=1, **ran(T + 2 * DAY - H, H)),
        # day 2, last second: 2 x 0.5 h = 1
        job(111, "dave", account="ml", state="FAILED", ncpus=2, exit_code=2,
            derived_exit_code=2, computed_exit_code=2, **ran(T + 2 * DAY - 1 - 1800, 1800)),
        # day 1, cluster dev: 1 x 1 h = 1
        job(112, "alice", cluster="dev", account="phys", partition="debug", state="FAILED",
            exit_code=1, derived_exit_code=1, computed_exit_code=1, **ran(T + 2 * H, H)),
    ]  # fmt: skip


def cancellation_jobs() -> list[Job]:
    """The cancellation-report records."""
    pending = {"time_start": None}
    return [
        # alice cancels her running job: 4 x 1 h = 4 core-hours lost
        job(201, "alice", state="CANCELLED", ncpus=4, kill_requid=70001, cancel_state="RUNNING",
            cancel_signal=15, cancel_reason="wrong input", cancel_time=T + 2 * H,
            **ran(T + H, H)),
        # root cancels bob's pending job: 0
        job(202, "bob", account="ml", state="CANCELLED", ncpus=8, kill_requid=0,
            cancel_state="PENDING", cancel_signal=9, cancel_reason="maintenance",
            cancel_time=T + 50_000, time_end=T + 50_000, **pending),
        # an operator (uid 70009, no name anywhere) cancels bob's running job: 2 x 3 h = 6
        job(203, "bob", account="ml", state="CANCELLED", ncpus=2, kill_requid=OPERATOR_UID,
            cancel_state="RUNNING", cancel_signal=15, cancel_reason="maintenance",
            cancel_time=T + DAY + 4 * H, **ran(T + DAY + H, 3 * H)),
        # imported record (no shim provenance): carol cancelled her started job: 0.5
        job(204, "carol", state="CANCELLED", kill_requid=70003, **ran(T + DAY, 1800)),
        # imported, nobody recorded, never started: inferred PENDING, 0
        job(205, "carol", state="CANCELLED", time_end=T + DAY + 100, **pending),
        # root cancels alice's suspended job: 2 x (1 h - 0.5 h suspended) = 1
        job(206, "alice", state="CANCELLED", ncpus=2, kill_requid=0, cancel_state="SUSPENDED",
            cancel_signal=9, time_suspended=1800, cancel_time=T + 3 * H, **ran(T + 2 * H, H)),
        # before the window
        job(207, "alice", state="CANCELLED", kill_requid=70001, **ran(T - 2 * H, H)),
    ]  # fmt: skip


def usage_jobs() -> list[Job]:
    """The usage-report records; window 2026-11-20 (one day). CPU-seconds in comments."""
    return [
        # started before the window: 10 cpus x 3600 s inside = 36000
        job(301, "alice", ncpus=10, **ran(T - H, 2 * H)),
        # 2 x 5400 = 10800
        job(302, "alice", account="ml", ncpus=2, **ran(T + 2 * H, 5400)),
        # ends after the window: 4 x (86400 - 80000) = 25600
        job(303, "bob", account="ml", ncpus=4, **ran(T + 80_000, 10_000)),
        # still running (no end): 1 x (86400 - 86000) = 400
        job(304, "bob", account="ml", state="RUNNING", time_start=T + 86_000, time_end=None),
        # cluster dev: 6 x 600 = 3600
        job(305, "carol", cluster="dev", ncpus=6, **ran(T, 600)),
        # ended exactly at the window start, started exactly at its end, never started,
        # revoked: none counts
        job(306, "dave", ncpus=64, **ran(T - H, H)),
        job(307, "dave", ncpus=64, **ran(T + DAY, H)),
        job(308, "dave", ncpus=64, state="PENDING", time_start=None, time_end=None),
        job(309, "dave", ncpus=64, state="REVOKED", **ran(T + H, H)),
    ]


def fill(url: str, jobs: list[Job]) -> None:
    """Write ``jobs`` into the store at ``url`` in one transaction."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            session.add_all(jobs)
    finally:
        engine.dispose()
