"""Slurm's kill and signal rules applied to stored job and step records.

:func:`apply_kill` takes one request as ``slurm_kill_job``, ``slurm_kill_job_step``,
``slurm_signal_job``, ``slurm_signal_job_step``, ``slurm_terminate_job_step`` or ``scancel``
would make it, decides what Slurm answers (slurm-semantics.md §6.2 ``job_signal``, §6.4
``job_step_signal``, §6.5 ``job_str_signal`` for arrays and het jobs, §6.6 authorization), and
writes what the real system would end up recording (§1.4 table, §1.6, §5.3):

* cancelling a running job (SIGKILL, not ``KILL_STEPS_ONLY``/``KILL_JOB_BATCH``): the job
  becomes ``CANCELLED`` with ``kill_requid`` = the caller, ExitCode ``0:0`` and End = the
  request time; its open batch, numbered and interactive steps end ``CANCELLED 0:15`` (the
  SIGTERM of the termination sequence, §6.3) with no requid; the extern step ``COMPLETED 0:0``;
* cancelling a pending job: ``CANCELLED`` by the caller, End = the request time, Start left
  unknown (sacct prints ``None``, as for golden job 20), no steps;
* a suspended job: as running, but its steps end ``0:9`` (suspended steps are killed at once);
* SIGKILL to one step through the controller: that step ``CANCELLED by <uid>``, ``0:9``
  (§6.4); through slurmd (``slurm_signal_job_step``, ``slurm_terminate_job_step``): the same
  without a requid; ``slurm_signal_job(SIGKILL)``: every open non-batch step (not extern);
* SIGKILL to the batch shell only (``KILL_JOB_BATCH``, ``scancel -b``, or the ``batch`` step):
  the job ends ``FAILED 0:9`` with the batch step ``CANCELLED 0:9`` (§6.2 doc/code mismatch);
* SIGKILL to unsplit pending array tasks removes them from the meta record's
  ``array_task_str``; the meta record becomes ``CANCELLED`` when none are left (§6.5).

Any signal other than SIGKILL can be caught or ignored, and the store has no slurmd to ask,
so such a request changes no state: it is recorded (``signal_request``) and what really
happened arrives later as step and job completion events. Every request addressed to a
record, refused or not, is appended to ``signal_request`` with its answer.

Nothing here commits: the caller's transaction does. The records are read with row locks
(``SELECT ... FOR UPDATE`` on PostgreSQL/MariaDB; SQLite write transactions begin IMMEDIATE,
see :func:`jobacct.config.write_engine`), so concurrent cancels and event intake serialise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from jobacct.authz import check_cancel, check_signal_direct
from jobacct.jobid import (
    BATCH_STEP,
    EXTERN_STEP,
    MAX_JOB_ID,
    PENDING_STEP,
    JobIdError,
    format_job_id,
    parse_step,
    step_name,
)
from jobacct.jobstate import ACTIVE_STATES
from jobacct.model import Job, SignalRequest, Step
from jobacct.slurm_errno import SlurmErrno, SlurmError
from jobacct.store import job_steps, refresh_derived

# ---------------------------------------------------------------- signals and flags

SIGKILL = 9
SIGTERM = 15
SIGCONT = 18
SIGSTOP = 19

#: ``sig_name2num``'s table (src/common/proc_args.c): the names scancel's ``-s`` takes,
#: with or without ``SIG``, case-insensitive.
SIGNAL_NUMBERS: dict[str, int] = {
    "HUP": 1,
    "INT": 2,
    "QUIT": 3,
    "ABRT": 6,
    "KILL": 9,
    "USR1": 10,
    "USR2": 12,
    "ALRM": 14,
    "TERM": 15,
    "CONT": 18,
    "STOP": 19,
    "TSTP": 20,
    "TTIN": 21,
    "TTOU": 22,
    "URG": 23,
    "XCPU": 24,
}
#: Largest signal number accepted (Linux ``SIGRTMAX``).
MAX_SIGNAL = 64

# KILL_* flag bits (slurm/slurm.h, slurm-semantics.md §6.2).
KILL_JOB_BATCH = 1 << 0
KILL_ARRAY_TASK = 1 << 1
KILL_STEPS_ONLY = 1 << 2
KILL_FULL_JOB = 1 << 3
KILL_FED_REQUEUE = 1 << 4
KILL_HURRY = 1 << 5
KILL_OOM = 1 << 6
KILL_NO_SIBS = 1 << 7

#: The request APIs :class:`KillRequest` names (§6.1).
APIS = frozenset(
    {
        "slurm_kill_job",
        "slurm_kill_job_step",
        "slurm_signal_job",
        "slurm_signal_job_step",
        "slurm_terminate_job_step",
        "scancel",
    }
)
#: Those that bypass slurmctld and go to slurmd (§6.1): owner or root only, no requid.
DIRECT_APIS = frozenset({"slurm_signal_job", "slurm_signal_job_step", "slurm_terminate_job_step"})


def parse_signal(text: str) -> int:
    """A signal as scancel's ``-s`` takes it (``sig_name2num``): ``KILL``, ``SIGUSR1``,
    ``usr1``, ``9``.

    Raises:
        ValueError: for an unknown name, ``0``, or a number outside 1..64.
    """
    token = text.strip()
    if re.fullmatch(r"[0-9]+", token):
        number = int(token)
        if 1 <= number <= MAX_SIGNAL:
            return number
        raise ValueError(text)
    name = token.upper()
    if name.startswith("SIG"):
        name = name[3:]
    if name in SIGNAL_NUMBERS:
        return SIGNAL_NUMBERS[name]
    raise ValueError(text)


# ---------------------------------------------------------------- requests and results


@dataclass(frozen=True)
class KillRequest:
    """One kill or signal request.

    Attributes:
        cluster: the cluster of the job; None: every cluster in the store.
        target: the id as the caller wrote it: ``123``, ``123_7``, ``123_[1-5,9]``,
            ``123_*``, ``123+1``, ``123.4``, ``123.batch``, ``123_7.0``.
        signal: signal number (9 = SIGKILL cancels).
        flags: ``KILL_*`` bits.
        uid: who asked.
        time: when, epoch seconds UTC; becomes End of whatever the request ends.
        api: one of :data:`APIS`.
        reason: why (jobacct's addition, shown by sacct as CancelReason).
        admin_comment: set as the job's AdminComment (needs Administrator).
    """

    cluster: str | None
    target: str
    signal: int
    flags: int
    uid: int
    time: int
    api: str
    reason: str | None = None
    admin_comment: str | None = None


class Outcome(StrEnum):
    """What a request did to one record."""

    #: The job ended CANCELLED.
    CANCELLED = "cancelled"
    #: The batch shell was killed: the job ended FAILED.
    FAILED = "failed"
    #: Steps were killed; the job goes on.
    STEPS_KILLED = "steps_killed"
    #: Unsplit pending array tasks were removed from the meta record.
    TASKS_REMOVED = "tasks_removed"
    #: A catchable signal: recorded, no state changed.
    RECORDED = "recorded"
    #: Nothing to do (``slurm_terminate_job_step`` on a finished step).
    NOTHING = "nothing"
    #: Refused with :attr:`KillResult.errno`.
    REFUSED = "refused"


@dataclass(frozen=True)
class KillResult:
    """The answer for one record a request addressed.

    Attributes:
        job_id: the JobID as sacct prints it (``123``, ``123_7``, ``123+1``); for an unsplit
            array task, the task (``123_7``) although its record is the meta record.
        job_id_raw: the record's JobIDRaw (None when no record was found).
        cluster: the record's cluster (None when no record was found).
        step: the step part (``0``, ``batch``) when one step was addressed.
        errno: ``SLURM_SUCCESS`` or Slurm's refusal for this record.
        outcome: what was done.
    """

    job_id: str
    job_id_raw: int | None
    cluster: str | None
    step: str | None
    errno: SlurmErrno
    outcome: Outcome


def request_errno(results: Sequence[KillResult]) -> SlurmErrno:
    """Slurm's single return code for a request's results (``job_str_signal``, §6.5).

    Success if every record succeeded; otherwise the first refusal other than
    ``ESLURM_INVALID_JOB_ID``/``ESLURM_ALREADY_DONE``, else ``ESLURM_INVALID_JOB_ID`` (a task
    that does not exist), else ``ESLURM_ALREADY_DONE`` (everything was finished already).
    """
    errors = [r.errno for r in results if r.errno is not SlurmErrno.SLURM_SUCCESS]
    quiet = (SlurmErrno.ESLURM_INVALID_JOB_ID, SlurmErrno.ESLURM_ALREADY_DONE)
    for errno in errors:
        if errno not in quiet:
            return errno
    if SlurmErrno.ESLURM_INVALID_JOB_ID in errors:
        return SlurmErrno.ESLURM_INVALID_JOB_ID
    if errors and len(errors) == len(results):
        return SlurmErrno.ESLURM_ALREADY_DONE
    return SlurmErrno.SLURM_SUCCESS


# ---------------------------------------------------------------- target ids

_TARGET = re.compile(
    r"(?P<job>[0-9]+)"
    r"(?:_(?P<task>[0-9]+|\*|\[(?P<tasks>[0-9,:%\-]+)\])|\+(?P<het>[0-9]+))?"
    r"(?:\.(?P<step>[A-Za-z]+|[0-9]+)(?:\+(?P<stepcomp>[0-9]+))?)?"
)


@dataclass(frozen=True)
class KillTarget:
    """A parsed request target.

    ``tasks`` is None (no task part), ``"*"`` (every task) or the task ids named.
    """

    job_id: int
    tasks: frozenset[int] | str | None = None
    het_offset: int | None = None
    step_id: int | None = None
    step_het_component: int | None = None

    @property
    def job_part(self) -> str:
        """The id without its step part, as written back in messages."""
        text = str(self.job_id)
        if self.tasks == "*":
            text += "_*"
        elif isinstance(self.tasks, frozenset):
            ids = sorted(self.tasks)
            text += f"_{ids[0]}" if len(ids) == 1 else "_[" + ",".join(map(str, ids)) + "]"
        if self.het_offset is not None:
            text += f"+{self.het_offset}"
        return text


def parse_target(text: str) -> KillTarget:
    """Parse a kill target (``job_str_signal``'s and ``scancel``'s forms, §6.5, §6.7).

    Raises:
        JobIdError: for anything else (``abc``, ``12abc``, ``0``, ``123_[]``, ``1.x``).
    """
    match = _TARGET.fullmatch(text.strip())
    if match is None:
        raise JobIdError(f"invalid job id '{text}'")
    job_id = int(match.group("job"))
    if not 0 < job_id <= MAX_JOB_ID:
        raise JobIdError(f"invalid job id '{text}'")
    tasks: frozenset[int] | str | None = None
    if match.group("task") == "*":
        tasks = "*"
    elif match.group("tasks") is not None:
        # Imported here: jobacct.query pulls in the sacct machinery, not needed otherwise.
        from jobacct.query import array_task_ids

        ids = array_task_ids(match.group("tasks"))
        if not ids:
            raise JobIdError(f"invalid job id '{text}'")
        tasks = frozenset(ids)
    elif match.group("task") is not None:
        tasks = frozenset({int(match.group("task"))})
    step_text = match.group("step")
    step_id = parse_step(step_text) if step_text is not None else None
    comp = match.group("stepcomp")
    het = match.group("het")
    return KillTarget(
        job_id=job_id,
        tasks=tasks,
        het_offset=None if het is None else int(het),
        step_id=step_id,
        step_het_component=None if comp is None else int(comp),
    )


# ---------------------------------------------------------------- finding the records


@dataclass(frozen=True)
class _Item:
    """One record a request addresses; ``task`` is an unsplit task inside a meta record."""

    job: Job
    task: int | None = None
    label: str = ""


def display_id(job: Job) -> str:
    """The JobID of a record as sacct prints it."""
    return format_job_id(
        job.job_id_raw,
        job.array_job_id,
        job.array_task_id,
        job.het_job_id,
        job.het_job_offset,
        job.array_task_str,
    )


def _records(session: Session, cluster: str | None, *where: ColumnElement[bool]) -> list[Job]:
    """The newest record of each (cluster, JobIDRaw) matching, locked for update."""
    stmt = select(Job).where(*where)
    if cluster is not None:
        stmt = stmt.where(Job.cluster == cluster)
    stmt = stmt.with_for_update().execution_options(populate_existing=True)
    newest: dict[tuple[str, int], Job] = {}
    for job in session.scalars(stmt):
        key = (job.cluster, job.job_id_raw)
        if key not in newest or newest[key].time_submit < job.time_submit:
            newest[key] = job
    return sorted(newest.values(), key=lambda j: (j.cluster, j.job_id_raw))


def _is_meta(job: Job) -> bool:
    """An array meta record still holding unsplit pending tasks."""
    return (
        job.array_job_id is not None
        and job.array_job_id == job.job_id_raw
        and job.array_task_str is not None
        and job.state == "PENDING"
    )


def _meta_tasks(job: Job) -> list[int]:
    from jobacct.query import array_task_ids

    return (array_task_ids(job.array_task_str) or []) if job.array_task_str else []


def _resolve_jobs(
    session: Session, cluster: str | None, target: KillTarget, flags: int, text: str
) -> tuple[list[_Item], list[str]]:
    """The records a job-level target names (``job_str_signal``, §6.5), plus the labels of
    named tasks that do not exist.

    Raises:
        SlurmError: ``ESLURM_INVALID_JOB_ID`` when nothing matches, ``ESLURM_NOT_HET_JOB``
            for ``N+0`` on a job that is not heterogeneous, ``ESLURM_NOT_WHOLE_HET_JOB`` for
            a pending non-leader component alone.
    """
    n = target.job_id
    if target.tasks is not None:
        return _resolve_tasks(session, cluster, target, text)
    if target.het_offset is not None:
        return _resolve_het(session, cluster, n, target.het_offset, text), []
    items: list[_Item] = []
    records = _records(session, cluster, Job.job_id_raw == n)
    if not records:
        # An array whose own record is missing (imported without it): its tasks.
        records = _records(session, cluster, Job.array_job_id == n)
        if not records:
            raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, text)
        return [_Item(job, label=display_id(job)) for job in records], []
    for job in records:
        if job.array_job_id == job.job_id_raw and not flags & KILL_ARRAY_TASK:
            # The meta record first, then every split-off task (§6.5).
            tasks = _records(session, job.cluster, Job.array_job_id == job.array_job_id)
            items.append(_Item(job, label=display_id(job)))
            items += [_Item(t, label=display_id(t)) for t in tasks if t.id != job.id]
        elif job.het_job_id is not None and job.het_job_id == job.job_id_raw:
            comps = _records(session, job.cluster, Job.het_job_id == job.het_job_id)
            items += [_Item(c, label=display_id(c)) for c in comps]
        elif job.het_job_id is not None:
            if job.state == "PENDING":
                raise SlurmError(SlurmErrno.ESLURM_NOT_WHOLE_HET_JOB, text)
            items.append(_Item(job, label=display_id(job)))
        else:
            items.append(_Item(job, label=display_id(job)))
    return items, []


def _resolve_tasks(
    session: Session, cluster: str | None, target: KillTarget, text: str
) -> tuple[list[_Item], list[str]]:
    n = target.job_id
    split = _records(session, cluster, Job.array_job_id == n, Job.array_task_id.is_not(None))
    metas = [j for j in _records(session, cluster, Job.job_id_raw == n) if _is_meta(j)]
    items: list[_Item] = []
    missing: list[str] = []
    clusters = sorted({j.cluster for j in split} | {m.cluster for m in metas})
    for name in clusters:
        by_task = {
            j.array_task_id: j for j in split if j.cluster == name and j.array_task_id is not None
        }
        meta = next((m for m in metas if m.cluster == name), None)
        unsplit: set[int] = set(_meta_tasks(meta)) if meta is not None else set()
        named = target.tasks if isinstance(target.tasks, frozenset) else frozenset()
        wanted = sorted(set(by_task) | unsplit) if target.tasks == "*" else sorted(named)
        for task in wanted:
            if task in by_task:
                job = by_task[task]
                items.append(_Item(job, label=display_id(job)))
            elif meta is not None and task in unsplit:
                items.append(_Item(meta, task=task, label=f"{n}_{task}"))
            else:
                missing.append(f"{n}_{task}")
    if not clusters and isinstance(target.tasks, frozenset):
        missing = [f"{n}_{t}" for t in sorted(target.tasks)]
    if not items:
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, text)
    return items, missing


def _resolve_het(
    session: Session, cluster: str | None, n: int, offset: int, text: str
) -> list[_Item]:
    comps = _records(session, cluster, Job.het_job_id == n)
    if not comps:
        plain = _records(session, cluster, Job.job_id_raw == n)
        if plain and offset == 0:
            raise SlurmError(SlurmErrno.ESLURM_NOT_HET_JOB, text)
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, text)
    if offset == 0:
        return [_Item(c, label=display_id(c)) for c in comps]
    chosen = [c for c in comps if c.het_job_offset == offset]
    if not chosen:
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, text)
    if any(c.state == "PENDING" for c in chosen):
        raise SlurmError(SlurmErrno.ESLURM_NOT_WHOLE_HET_JOB, text)
    return [_Item(c, label=display_id(c)) for c in chosen]


def _resolve_step_jobs(
    session: Session, cluster: str | None, target: KillTarget, text: str
) -> list[_Item]:
    """The job records a step target names: one per cluster; het leaders bring their
    components (a step of a het leader is signalled in every component, §6.4)."""
    n = target.job_id
    if isinstance(target.tasks, frozenset) and len(target.tasks) == 1:
        (task,) = target.tasks
        records = _records(session, cluster, Job.array_job_id == n, Job.array_task_id == task)
    elif target.tasks is not None:
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, text)
    elif target.het_offset is not None:
        records = _records(
            session, cluster, Job.het_job_id == n, Job.het_job_offset == target.het_offset
        )
    else:
        records = _records(session, cluster, Job.job_id_raw == n)
    if not records:
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, text)
    items: list[_Item] = []
    for job in records:
        items.append(_Item(job, label=display_id(job)))
        if job.het_job_id is not None and job.het_job_id == job.job_id_raw:
            comps = _records(session, job.cluster, Job.het_job_id == job.het_job_id)
            items += [_Item(c, label=display_id(c)) for c in comps if c.id != job.id]
    return items


def resolve_targets(
    session: Session, cluster: str | None, text: str, flags: int = 0
) -> list[tuple[Job, int | None, str]]:
    """The records a job-level id names, as :func:`apply_kill` would address them (§6.5):
    (record, unsplit task inside it or None, JobID label). The rows are locked for update.

    Raises:
        SlurmError: ``ESLURM_INVALID_JOB_ID`` for a malformed id or one naming nothing, and
            the het refusals of :func:`apply_kill`.
    """
    try:
        target = parse_target(text)
    except JobIdError:
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, text) from None
    items, _missing = _resolve_jobs(session, cluster, target, flags, text)
    return [(i.job, i.task, i.label) for i in items]


# ---------------------------------------------------------------- applying


def apply_kill(session: Session, request: KillRequest) -> list[KillResult]:
    """Apply one kill/signal request to the stored records; never commits.

    Returns one :class:`KillResult` per record (or named array task) the request addressed.
    Records that were refused inside an otherwise successful request (a finished task of an
    array, a task that does not exist) carry their errno; :func:`request_errno` gives Slurm's
    single answer for the lot.

    Raises:
        SlurmError: when the request changed nothing: ``ESLURM_INVALID_JOB_ID`` (malformed id,
            no such job/step/task), ``ESLURM_ACCESS_DENIED`` (§6.6; checked for every
            addressed record before anything changes), ``ESLURM_USER_ID_MISSING``
            (``admin_comment`` without Administrator; a slurmd-direct API used by neither
            the owner nor root), ``ESLURM_ALREADY_DONE``, ``ESLURM_TRANSITION_STATE_NO_UPDATE``
            (e.g. SIGUSR1 to a pending job), ``ESLURM_JOB_SCRIPT_MISSING`` (``KILL_JOB_BATCH``
            on a job without a batch step), ``ESLURM_JOB_PENDING`` (a slurmd-direct API on a
            pending job), ``ESLURM_NOT_HET_JOB``, ``ESLURM_NOT_WHOLE_HET_JOB``. The
            ``signal_request`` rows of the refused records were added to the session before
            raising, so a caller that commits anyway keeps the refusal's provenance.
        ValueError: for an ``api`` not in :data:`APIS`.
    """
    if request.api not in APIS:
        raise ValueError(f"unknown kill API '{request.api}'")
    try:
        target = parse_target(request.target)
    except JobIdError:
        raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, request.target) from None
    step_level = target.step_id is not None and request.api != "slurm_kill_job"
    if request.api == "slurm_signal_job":
        step_level = False
    if step_level:
        results = _apply_step_request(session, request, target)
    else:
        results = _apply_job_request(session, request, target)
    session.flush()
    if not any(r.errno is SlurmErrno.SLURM_SUCCESS for r in results):
        raise SlurmError(request_errno(results), request.target)
    return results


def _authorize(session: Session, request: KillRequest, items: Sequence[_Item]) -> None:
    """Check every addressed record before anything changes (§6.6)."""
    for item in items:
        try:
            if request.api in DIRECT_APIS:
                check_signal_direct(request.uid, item.job, request.target)
            else:
                check_cancel(
                    session,
                    request.uid,
                    item.job,
                    request.target,
                    admin_comment=request.admin_comment is not None,
                )
        except SlurmError as exc:
            for other in items:
                _record(session, request, other, None, exc.errno)
            raise


def _apply_job_request(
    session: Session, request: KillRequest, target: KillTarget
) -> list[KillResult]:
    if request.api == "slurm_signal_job":
        records = _records(session, request.cluster, Job.job_id_raw == target.job_id)
        if not records:
            raise SlurmError(SlurmErrno.ESLURM_INVALID_JOB_ID, request.target)
        items, missing = [_Item(j, label=display_id(j)) for j in records], list[str]()
    else:
        items, missing = _resolve_jobs(
            session, request.cluster, target, request.flags, request.target
        )
    _authorize(session, request, items)
    results: list[KillResult] = []
    removed: dict[int, list[int]] = {}
    for item in items:
        state_before = item.job.state
        if request.api == "slurm_signal_job":
            errno, outcome = _signal_job_direct(session, request, item.job)
        elif item.task is not None:
            errno, outcome = _remove_task(request, item, removed)
        else:
            errno, outcome = _job_signal(session, request, item.job, request.flags)
        if errno is SlurmErrno.SLURM_SUCCESS and request.admin_comment is not None:
            item.job.admin_comment = request.admin_comment
        _record(session, request, item, None, errno, state_before)
        results.append(_result(item, None, errno, outcome))
    for meta_pk, tasks in removed.items():
        meta = next(i.job for i in items if i.job.id == meta_pk)
        _finish_task_removal(meta, tasks, request)
    results += [
        KillResult(label, None, None, None, SlurmErrno.ESLURM_INVALID_JOB_ID, Outcome.REFUSED)
        for label in missing
    ]
    return results


def _apply_step_request(
    session: Session, request: KillRequest, target: KillTarget
) -> list[KillResult]:
    assert target.step_id is not None
    items = _resolve_step_jobs(session, request.cluster, target, request.target)
    _authorize(session, request, items)
    results: list[KillResult] = []
    step_text = step_name(target.step_id)
    for index, item in enumerate(items):
        state_before = item.job.state
        errno, outcome = _step_signal(session, request, item.job, target)
        if index > 0 and errno is SlurmErrno.ESLURM_INVALID_JOB_ID:
            # Another het component without this step: nothing to do there.
            continue
        _record(session, request, item, target.step_id, errno, state_before)
        results.append(_result(item, step_text, errno, outcome))
    return results


def _result(item: _Item, step: str | None, errno: SlurmErrno, outcome: Outcome) -> KillResult:
    if errno is not SlurmErrno.SLURM_SUCCESS:
        outcome = Outcome.REFUSED
    return KillResult(item.label, item.job.job_id_raw, item.job.cluster, step, errno, outcome)


def _record(
    session: Session,
    request: KillRequest,
    item: _Item,
    step_id: int | None,
    errno: SlurmErrno,
    state_before: str | None = None,
) -> None:
    session.add(
        SignalRequest(
            job_pk=item.job.id,
            step_id=step_id,
            target=item.label or None,
            api=request.api,
            uid=request.uid,
            signal=request.signal,
            flags=request.flags,
            time=request.time,
            state_before=state_before or item.job.state,
            reason=request.reason,
            admin_comment=request.admin_comment,
            result=errno.name,
        )
    )


# ---------------------------------------------------------------- job_signal (§6.2)

_OK = SlurmErrno.SLURM_SUCCESS


def _job_signal(
    session: Session, request: KillRequest, job: Job, flags: int
) -> tuple[SlurmErrno, Outcome]:
    """``job_signal`` on one record (§6.2), in Slurm's order of checks."""
    kill = request.signal == SIGKILL
    if job.state not in ACTIVE_STATES:
        return SlurmErrno.ESLURM_ALREADY_DONE, Outcome.REFUSED
    if job.state == "PENDING":
        if not kill:
            return SlurmErrno.ESLURM_TRANSITION_STATE_NO_UPDATE, Outcome.REFUSED
        _end_job(job, request, "CANCELLED")
        return _OK, Outcome.CANCELLED
    if job.state == "SUSPENDED":
        if not kill:
            return SlurmErrno.ESLURM_TRANSITION_STATE_NO_UPDATE, Outcome.REFUSED
        # Suspended steps are terminated at once (§6.3): SIGKILL, no SIGTERM grace.
        _end_steps(session, job, request.time, term_signal=SIGKILL)
        _end_job(job, request, "CANCELLED")
        refresh_derived(session, job)
        return _OK, Outcome.CANCELLED
    # RUNNING
    if flags & KILL_JOB_BATCH:
        steps = job_steps(session, job)
        batch = next((s for s in steps if s.step_id == BATCH_STEP), None)
        if batch is None:
            return SlurmErrno.ESLURM_JOB_SCRIPT_MISSING, Outcome.REFUSED
        if not kill:
            return _OK, Outcome.RECORDED
        _kill_batch_shell(session, job, batch, request, requid=True)
        return _OK, Outcome.FAILED
    if kill and not flags & KILL_STEPS_ONLY:
        _end_steps(session, job, request.time, term_signal=SIGTERM)
        _end_job(job, request, "CANCELLED")
        refresh_derived(session, job)
        return _OK, Outcome.CANCELLED
    if kill:
        job.kill_requid = request.uid
        killed = _kill_steps(session, job, request.time, requid=None, batch=False)
        return _OK, Outcome.STEPS_KILLED if killed else Outcome.RECORDED
    return _OK, Outcome.RECORDED


def _end_job(
    job: Job, request: KillRequest, state: str, *, exit_signal: int = 0, requid: bool = True
) -> None:
    """End a job because of this request, keeping the provenance Slurm throws away.

    ``requid``: record the caller as ``kill_requid`` (every SIGKILL through the controller,
    §6.2 step 5; not the slurmd-direct APIs).
    """
    state_before = job.state
    job.state = state
    job.time_end = request.time
    job.exit_code, job.exit_signal = 0, exit_signal
    if requid:
        job.kill_requid = request.uid
    job.cancel_time = request.time
    job.cancel_signal = request.signal
    job.cancel_state = state_before
    job.cancel_reason = request.reason


def _end_steps(session: Session, job: Job, now: int, *, term_signal: int) -> None:
    """The termination sequence's result on the steps still open (§1.4, §1.6, §6.3)."""
    for step in job_steps(session, job):
        if step.time_end is not None:
            continue
        step.time_end = now
        if step.step_id == EXTERN_STEP:
            step.state, step.exit_code, step.exit_signal = "COMPLETED", 0, 0
        elif step.step_id == PENDING_STEP:
            # Never launched: no exit code (NO_VAL), shown CANCELLED with an empty ExitCode.
            step.state, step.exit_code, step.exit_signal = "CANCELLED", None, None
        else:
            step.state, step.exit_code, step.exit_signal = "CANCELLED", 0, term_signal
        step.kill_requid = None


def _kill_steps(session: Session, job: Job, now: int, *, requid: int | None, batch: bool) -> int:
    """SIGKILL to the open steps (not extern; the batch step only if ``batch``)."""
    killed = 0
    for step in job_steps(session, job):
        if step.time_end is not None or step.step_id in (EXTERN_STEP, PENDING_STEP):
            continue
        if step.step_id == BATCH_STEP and not batch:
            continue
        _kill_step(step, now, requid, oom=False)
        killed += 1
    if killed:
        refresh_derived(session, job)
    return killed


def _kill_step(step: Step, now: int, requid: int | None, *, oom: bool) -> None:
    step.time_end = now
    if oom:
        # KILL_OOM marks the step's exit code SIG_OOM (253), stored as OUT_OF_MEMORY 0:125.
        step.state, step.exit_code, step.exit_signal = "OUT_OF_MEMORY", 0, 125
    else:
        step.state, step.exit_code, step.exit_signal = "CANCELLED", 0, SIGKILL
    step.kill_requid = requid


def _kill_batch_shell(
    session: Session, job: Job, batch: Step, request: KillRequest, *, requid: bool
) -> None:
    """SIGKILL to the batch shell only: it dies of the signal, so the job ends FAILED 0:9
    (RaisedSignal) and the remaining steps get the termination sequence (§6.2, §6.7).
    Through the controller the caller is still recorded as ``kill_requid`` (not shown: the
    state is not CANCELLED, §5.3)."""
    _kill_step(batch, request.time, None, oom=False)
    _end_steps(session, job, request.time, term_signal=SIGTERM)
    _end_job(job, request, "FAILED", exit_signal=SIGKILL, requid=requid)
    refresh_derived(session, job)


def _remove_task(
    request: KillRequest, item: _Item, removed: dict[int, list[int]]
) -> tuple[SlurmErrno, Outcome]:
    """An unsplit pending task: only SIGKILL may remove it (§6.5)."""
    if request.signal != SIGKILL:
        return SlurmErrno.ESLURM_TRANSITION_STATE_NO_UPDATE, Outcome.REFUSED
    assert item.task is not None
    removed.setdefault(item.job.id, []).append(item.task)
    return _OK, Outcome.TASKS_REMOVED


def _finish_task_removal(meta: Job, tasks: Iterable[int], request: KillRequest) -> None:
    """Take the tasks out of the meta record; cancel it when none are left."""
    left = sorted(set(_meta_tasks(meta)) - set(tasks))
    suffix = ""
    if meta.array_task_str and "%" in meta.array_task_str:
        suffix = "%" + meta.array_task_str.split("%", 1)[1]
    if left:
        meta.array_task_str = _task_ranges(left) + suffix
        return
    meta.array_task_str = None
    _end_job(meta, request, "CANCELLED")


def _task_ranges(tasks: Sequence[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``1-3,7``, as Slurm prints a task bitmap."""
    parts: list[str] = []
    start = prev = tasks[0]
    for task in [*tasks[1:], None]:
        if task is not None and task == prev + 1:
            prev = task
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if task is not None:
            start = prev = task
    return ",".join(parts)


def _signal_job_direct(
    session: Session, request: KillRequest, job: Job
) -> tuple[SlurmErrno, Outcome]:
    """``slurm_signal_job``: straight to slurmd with ``KILL_STEPS_ONLY`` (§6.1); the job's
    state never changes, the batch step is skipped."""
    if job.state not in ACTIVE_STATES:
        return SlurmErrno.ESLURM_ALREADY_DONE, Outcome.REFUSED
    if job.state == "PENDING":
        return SlurmErrno.ESLURM_JOB_PENDING, Outcome.REFUSED
    if request.signal != SIGKILL:
        return _OK, Outcome.RECORDED
    killed = _kill_steps(session, job, request.time, requid=None, batch=False)
    return _OK, Outcome.STEPS_KILLED if killed else Outcome.RECORDED


# ---------------------------------------------------------------- job_step_signal (§6.4)


def _step_signal(
    session: Session, request: KillRequest, job: Job, target: KillTarget
) -> tuple[SlurmErrno, Outcome]:
    """One step of one job, by the step APIs' rules (§6.1, §6.4)."""
    direct = request.api in DIRECT_APIS
    terminate = request.api == "slurm_terminate_job_step"
    kill = terminate or request.signal == SIGKILL
    if job.state not in ACTIVE_STATES:
        # slurm_terminate_job_step maps ALREADY_DONE to success (§6.1).
        return (
            (_OK, Outcome.NOTHING)
            if terminate
            else (SlurmErrno.ESLURM_ALREADY_DONE, Outcome.REFUSED)
        )
    if job.state != "RUNNING":
        errno = (
            SlurmErrno.ESLURM_JOB_PENDING
            if direct
            else SlurmErrno.ESLURM_TRANSITION_STATE_NO_UPDATE
        )
        if direct and job.state == "SUSPENDED":
            errno = SlurmErrno.ESLURMD_STEP_SUSPENDED
        return errno, Outcome.REFUSED
    steps = job_steps(session, job)
    step = next(
        (
            s
            for s in steps
            if s.step_id == target.step_id
            and (
                target.step_het_component is None
                or s.step_het_component == target.step_het_component
            )
        ),
        None,
    )
    if step is None:
        return SlurmErrno.ESLURM_INVALID_JOB_ID, Outcome.REFUSED
    if step.time_end is not None:
        # A finished step is gone from the controller: "Invalid job id" (golden case 18).
        if terminate:
            return _OK, Outcome.NOTHING
        return SlurmErrno.ESLURM_INVALID_JOB_ID, Outcome.REFUSED
    if step.step_id == BATCH_STEP:
        if not kill:
            return _OK, Outcome.RECORDED
        _kill_batch_shell(session, job, step, request, requid=not direct)
        return _OK, Outcome.FAILED
    if not kill:
        return _OK, Outcome.RECORDED
    requid = None if direct else request.uid
    _kill_step(step, request.time, requid, oom=bool(request.flags & KILL_OOM) and not direct)
    refresh_derived(session, job)
    return _OK, Outcome.STEPS_KILLED
