"""Writes to the record store: upserting jobs and steps, DerivedExitCode, annotations.

Every public function here takes an open :class:`~sqlalchemy.orm.Session` inside the caller's
transaction, so a command's writes commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct import superseded
from jobacct.exitcode import ExitCode, derive_exit_code
from jobacct.jobid import BATCH_STEP, EXTERN_STEP, PENDING_STEP, JobSelector
from jobacct.model import Job, Step

#: Steps that never count toward DerivedExitCode (Slurm >= 19.05, slurm-semantics.md §2.1).
_NOT_COUNTED = (BATCH_STEP, EXTERN_STEP, PENDING_STEP)


def counts_for_derived(step_id: int) -> bool:
    """True for the steps whose exit code feeds DerivedExitCode (not batch/extern/TBD)."""
    return step_id not in _NOT_COUNTED


def find_job(session: Session, cluster: str, job_id_raw: int, time_submit: int) -> Job | None:
    """The record with this (cluster, JobIDRaw, Submit) key, or None."""
    return session.scalars(
        select(Job).where(
            Job.cluster == cluster, Job.job_id_raw == job_id_raw, Job.time_submit == time_submit
        )
    ).one_or_none()


def newest_job(
    session: Session, cluster: str | None, job_id_raw: int, before: int | None = None
) -> Job | None:
    """The newest record of a JobIDRaw (submitted at or before ``before``, if given)."""
    stmt = select(Job).where(Job.job_id_raw == job_id_raw)
    if cluster is not None:
        stmt = stmt.where(Job.cluster == cluster)
    if before is not None:
        stmt = stmt.where(Job.time_submit <= before)
    return session.scalars(stmt.order_by(Job.time_submit.desc()).limit(1)).first()


def upsert_job(
    session: Session,
    cluster: str,
    job_id_raw: int,
    time_submit: int,
    values: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
) -> tuple[Job, bool]:
    """Insert or update the job record with this key; returns (job, changed).

    ``defaults`` fill columns missing from ``values`` on insert only.
    """
    job = find_job(session, cluster, job_id_raw, time_submit)
    if job is None:
        job = Job(
            cluster=cluster,
            job_id_raw=job_id_raw,
            time_submit=time_submit,
            **{**(defaults or {}), **values},
        )
        session.add(job)
        session.flush()
        _refresh_superseded(session, job)
        return job, True
    state = job.state
    changed = _assign(job, values)
    if job.state != state:
        session.flush()
        _refresh_superseded(session, job)
    return job, changed


def _refresh_superseded(session: Session, job: Job) -> None:
    """Keep ``job.superseded`` of every record of this job id (jobacct/superseded.py)."""
    superseded.refresh_session(session.connection(), [(job.cluster, job.job_id_raw)])


def job_steps(session: Session, job: Job) -> list[Step]:
    """The steps of a job in sacct's order."""
    return list(
        session.scalars(
            select(Step)
            .where(Step.job_pk == job.id)
            .order_by(Step.step_id, Step.step_het_component)
        )
    )


def upsert_step(
    session: Session,
    job: Job,
    step_id: int,
    step_het_component: int | None,
    values: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
) -> tuple[Step, bool]:
    """Insert or update one step of ``job``; returns (step, changed).

    ``defaults`` fill columns missing from ``values`` on insert only.
    """
    stmt = select(Step).where(Step.job_pk == job.id, Step.step_id == step_id)
    if step_het_component is None:
        stmt = stmt.where(Step.step_het_component.is_(None))
    else:
        stmt = stmt.where(Step.step_het_component == step_het_component)
    step = session.scalars(stmt).one_or_none()
    if step is None:
        step = Step(
            job_pk=job.id,
            step_id=step_id,
            step_het_component=step_het_component,
            **{**(defaults or {}), **values},
        )
        session.add(step)
        session.flush()
        return step, True
    return step, _assign(step, values)


class StepValues(Protocol):
    """What :func:`store_steps` needs of a parsed step record."""

    step_id: int
    step_het_component: int | None
    values: dict[str, Any]


def store_steps(
    session: Session,
    job: Job,
    steps: Iterable[StepValues],
    defaults: Mapping[str, Any] | None = None,
) -> tuple[int, int, bool]:
    """Upsert parsed step records of ``job``.

    Returns (steps seen, steps inserted or changed, whether a step that counts toward
    DerivedExitCode changed).
    """
    seen = changed_count = 0
    counted = False
    for step in steps:
        _, changed = upsert_step(
            session, job, step.step_id, step.step_het_component, step.values, defaults
        )
        seen += 1
        if changed:
            changed_count += 1
            counted = counted or counts_for_derived(step.step_id)
    return seen, changed_count, counted


def _assign(obj: Job | Step, values: Mapping[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def computed_derived(steps: Sequence[Step]) -> ExitCode:
    """DerivedExitCode by Slurm's rule (§2.1) over stored steps, in completion order."""
    counted = sorted(
        (s for s in steps if counts_for_derived(s.step_id)),
        key=lambda s: (s.time_end is None, s.time_end or 0, s.step_id),
    )
    return derive_exit_code(_exit_of(s.exit_code, s.exit_signal) for s in counted)


def _exit_of(code: int | None, signal: int | None) -> ExitCode | None:
    if code is None and signal is None:
        return None
    return ExitCode(code or 0, signal or 0)


def refresh_derived(session: Session, job: Job) -> None:
    """Recompute the computed DerivedExitCode from the steps; the shown one follows it unless
    a user has annotated the job."""
    value = computed_derived(job_steps(session, job))
    job.computed_exit_code, job.computed_exit_signal = value.code, value.signal
    if not job.derived_annotated:
        job.derived_exit_code, job.derived_exit_signal = value.code, value.signal


def set_derived_from_record(session: Session, job: Job, value: ExitCode) -> None:
    """Store a DerivedExitCode read from Slurm's own records (an import).

    It counts as a user's annotation when the job has steps and the value differs from what
    those steps give: Slurm only ever stores the computed value or an annotation.
    """
    steps = job_steps(session, job)
    computed = computed_derived(steps)
    job.computed_exit_code, job.computed_exit_signal = computed.code, computed.signal
    job.derived_exit_code, job.derived_exit_signal = value.code, value.signal
    job.derived_annotated = bool(steps) and computed != value


def select_jobs(
    session: Session,
    selectors: Iterable[JobSelector],
    cluster: str | None = None,
    *,
    lock: bool = False,
) -> list[Job]:
    """The newest record of each job a ``-j``-style list names (steps name their job).

    ``123`` names every task of array 123 and every component of het job 123, as
    ``sacctmgr modify job`` selects (slurm-semantics.md §2.3, golden case 16). With ``lock``
    the rows are locked for update (PostgreSQL, MariaDB; SQLite locks the whole database in
    a write transaction, see config.write_engine).
    """
    found: dict[int, Job] = {}
    for sel in selectors:
        stmt = select(Job)
        if sel.array_task is not None:
            stmt = stmt.where(Job.array_job_id == sel.job_id, Job.array_task_id == sel.array_task)
        elif sel.het_offset is not None:
            stmt = stmt.where(Job.het_job_id == sel.job_id, Job.het_job_offset == sel.het_offset)
        else:
            stmt = stmt.where(
                (Job.job_id_raw == sel.job_id)
                | (Job.array_job_id == sel.job_id)
                | (Job.het_job_id == sel.job_id)
            )
        if cluster is not None:
            stmt = stmt.where(Job.cluster == cluster)
        if lock:
            stmt = stmt.with_for_update()
        newest: dict[tuple[str, int], Job] = {}
        for job in session.scalars(stmt):
            key = (job.cluster, job.job_id_raw)
            if key not in newest or newest[key].time_submit < job.time_submit:
                newest[key] = job
        for job in newest.values():
            found[job.id] = job
    return sorted(found.values(), key=lambda j: (j.time_submit, j.job_id_raw))
