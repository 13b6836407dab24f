"""Checkpoint accounting: the legacy ``slurm_checkpoint_*`` API (Slurm <= 19.05) as records.

slurm-semantics.md §9. A step may be marked checkpointable or not (``able``/``disable``/
``enable``); requests (``create``, ``vacate``, ``requeue``, ``restart``) and completions
(``complete``, ``task_complete``) are accepted only for a running job and an open step; the
step keeps the **highest** error code any completion reported and the message that came with
that code, as the API header promises ("the highest error_code over all complete calls is
preserved, and error_msg is the one that came with that highest code"); the ompi plugin's
overwrite-on-lower-code bug is not copied. A later completion with the same code keeps the
first message. ``error`` reads the pair back.

Modelling choices (the store has no checkpoint plugin): ``disable``/``enable`` set a flag
rather than counting nested disables; ``checkpointable`` NULL (never said) counts as able;
``create``/``vacate``/``requeue``/``restart`` only stamp ``checkpoint_time`` (the job's real
end or requeue arrives as its own events). A step of ``""`` or ``"*"`` means every open step
of the job (the API's job-wide form, step ``NO_VAL``).

Nothing here commits; the job row is locked for update first, as in :mod:`jobacct.signal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct.authz import AdminLevel, admin_level
from jobacct.jobid import JobIdError, parse_step, step_name
from jobacct.model import Job, Step
from jobacct.slurm_errno import SlurmErrno, SlurmError
from jobacct.store import job_steps

#: The actions :class:`CheckpointRequest` names (``slurm_checkpoint_<action>``).
CheckpointAction = Literal[
    "able",
    "disable",
    "enable",
    "create",
    "vacate",
    "requeue",
    "restart",
    "complete",
    "task_complete",
    "error",
]
ACTIONS: frozenset[str] = frozenset(get_args(CheckpointAction))
#: Actions refused on a step whose checkpointing is disabled (``ESLURM_DISABLED``).
_NEEDS_ABLE = frozenset({"able", "create", "vacate", "requeue", "restart"})
_STAMPS_TIME = frozenset({"create", "vacate", "requeue", "restart", "complete", "task_complete"})


@dataclass(frozen=True)
class CheckpointRequest:
    """One checkpoint call or completion report.

    Attributes:
        cluster: the job's cluster; None: any (the newest record of the id wins).
        job_id_raw: the job (JobIDRaw).
        step: ``"0"``, ``"batch"``...; ``""`` or ``"*"`` for every open step.
        uid: who asked.
        time: epoch seconds UTC.
        action: one of :data:`ACTIONS`.
        error_code: for ``complete``/``task_complete``: the reported error code (0 = fine).
        error_msg: the message that came with it.
        task_id: for ``task_complete``: the task that reported (kept for the caller's
            journal; the step keeps one pair for all tasks, as the API does).
    """

    cluster: str | None
    job_id_raw: int
    step: str
    uid: int
    time: int
    action: str
    error_code: int | None = None
    error_msg: str | None = None
    task_id: int | None = None


@dataclass(frozen=True)
class CheckpointResult:
    """What a checkpoint call answered.

    Attributes:
        job_id_raw, cluster: the job record used.
        steps: the step parts addressed (``("0",)``, or every open step).
        able: whether the (first) step may be checkpointed after the call.
        error_code, error_msg: the (first) step's stored pair after the call (None: none).
    """

    job_id_raw: int
    cluster: str
    steps: tuple[str, ...]
    able: bool
    error_code: int | None
    error_msg: str | None


def apply_checkpoint(session: Session, request: CheckpointRequest) -> CheckpointResult:
    """Apply one checkpoint call to the stored step records; never commits.

    Raises:
        SlurmError: ``ESLURM_INVALID_JOB_ID`` (no such job or step, malformed step),
            ``ESLURM_ACCESS_DENIED`` (neither the owner, root nor an Operator/Administrator),
            ``ESLURM_JOB_PENDING`` (job not started), ``ESLURM_ALREADY_DONE`` (job or step
            finished), ``ESLURM_DISABLED`` (checkpointing disabled for the step).
        ValueError: for an action not in :data:`ACTIONS`.
    """
    if request.action not in ACTIONS:
        raise ValueError(f"unknown checkpoint action '{request.action}'")
    target = f"{request.job_id_raw}" + (f".{request.step}" if request.step not in ("", "*") else "")
    job = _locked_job(session, request.cluster, request.job_id_raw)
    if job is None:
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, target)
    # The checkpoint RPCs: the job's owner or an operator (slurmctld validate_operator).
    if job.uid != request.uid and admin_level(session, request.uid).rank < AdminLevel.OPERATOR.rank:
        raise SlurmError(SlurmErrno.ESLURM_ACCESS_DENIED, target)
    if job.state == "PENDING":
        raise SlurmError(SlurmErrno.ESLURM_JOB_PENDING, target)
    if job.state not in ("RUNNING", "SUSPENDED"):
        raise SlurmError(SlurmErrno.ESLURM_ALREADY_DONE, target)
    steps = _steps(session, job, request.step, target)
    for step in steps:
        if step.time_end is not None:
            raise SlurmError(SlurmErrno.ESLURM_ALREADY_DONE, target)
        if request.action in _NEEDS_ABLE and step.checkpointable is False:
            raise SlurmError(SlurmErrno.ESLURM_DISABLED, target)
    for step in steps:
        _apply(step, request)
    session.flush()
    first = steps[0]
    return CheckpointResult(
        job_id_raw=job.job_id_raw,
        cluster=job.cluster,
        steps=tuple(step_name(s.step_id) for s in steps),
        able=first.checkpointable is not False,
        error_code=first.checkpoint_error_code,
        error_msg=first.checkpoint_error_msg,
    )


def _locked_job(session: Session, cluster: str | None, job_id_raw: int) -> Job | None:
    stmt = select(Job).where(Job.job_id_raw == job_id_raw)
    if cluster is not None:
        stmt = stmt.where(Job.cluster == cluster)
    stmt = (
        stmt.order_by(Job.time_submit.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


def _steps(session: Session, job: Job, text: str, target: str) -> list[Step]:
    steps = job_steps(session, job)
    if text in ("", "*"):
        chosen = [s for s in steps if s.time_end is None]
        if not chosen:
            raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, target, "no open step")
        return chosen
    try:
        step_id = parse_step(text)
    except JobIdError:
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, target) from None
    chosen = [s for s in steps if s.step_id == step_id]
    if not chosen:
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, target)
    return chosen


def _apply(step: Step, request: CheckpointRequest) -> None:
    if request.action == "disable":
        step.checkpointable = False
    elif request.action == "enable":
        step.checkpointable = True
    elif request.action in ("complete", "task_complete"):
        code = request.error_code or 0
        stored = step.checkpoint_error_code
        # The header's contract: keep the highest code and the message that came with it.
        if stored is None or code > stored:
            step.checkpoint_error_code = code
            step.checkpoint_error_msg = request.error_msg
    if request.action in _STAMPS_TIME:
        step.checkpoint_time = request.time
