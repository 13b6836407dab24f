"""Helpers of the shim tests: dumping the job and step tables for comparison."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from jobacct.model import Job, Step

_JOB_SKIP = {"id"}
_STEP_SKIP = {"id", "job_pk"}


def dump_store(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every column of every job and step row, surrogate ids replaced by the job's key, sorted.

    Booleans are normalised to int (MariaDB returns 0/1).
    """
    job_cols = [c for c in Job.__table__.columns if c.name not in _JOB_SKIP]
    step_cols = [c for c in Step.__table__.columns if c.name not in _STEP_SKIP]
    key = (Job.__table__.c.cluster, Job.__table__.c.job_id_raw, Job.__table__.c.time_submit)

    def norm(row: Any) -> tuple[Any, ...]:
        return tuple(int(v) if isinstance(v, bool) else v for v in row)

    with engine.connect() as conn:
        jobs = sorted(norm(r) for r in conn.execute(select(*job_cols)))
        steps = sorted(
            (
                norm(r)
                for r in conn.execute(
                    select(*key, *step_cols).join_from(
                        Step.__table__, Job.__table__, Step.__table__.c.job_pk == Job.__table__.c.id
                    )
                )
            ),
            key=repr,
        )
    return jobs, steps
