"""sacct's record selection: the filter, the default time window, and the SQL it becomes.

Rules are slurm-semantics.md §4.7 (window and selection), §4.8 (ordering and duplicates) and
§4.9 (``-j`` matching). Queries use SQLAlchemy Core and stream rows, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import aliased

from jobacct.jobid import JobSelector
from jobacct.model import Job, Step

#: Long state names sacct accepts for ``-s``, with their short codes (§5.1, §5.2).
STATE_CODES: dict[str, str] = {
    "PENDING": "PD",
    "RUNNING": "R",
    "SUSPENDED": "S",
    "COMPLETED": "CD",
    "CANCELLED": "CA",
    "FAILED": "F",
    "TIMEOUT": "TO",
    "NODE_FAIL": "NF",
    "PREEMPTED": "PR",
    "BOOT_FAIL": "BF",
    "DEADLINE": "DL",
    "OUT_OF_MEMORY": "OOM",
    "REQUEUED": "RQ",
    "RESIZING": "RS",
    "REVOKED": "RV",
}
_BY_CODE = {code: name for name, code in STATE_CODES.items()}


class FilterError(ValueError):
    """A selection that cannot be built: bad state name, start after end, ..."""


def parse_states(text: str) -> list[str]:
    """Parse a ``-s`` list into long state names (case-insensitive, long or short names).

    Raises:
        FilterError: naming the first unknown state, in sacct's words.
    """
    states = []
    for item in text.split(","):
        token = item.strip().upper()
        name = token if token in STATE_CODES else _BY_CODE.get(token)
        if name is None:
            raise FilterError(f"unrecognized job state value '{item.strip()}'")
        states.append(name)
    return states


@dataclass
class JobFilter:
    """What ``jobacct sacct`` selects. Times are epoch seconds UTC; None means "default".

    ``uids``/``user_names`` restrict owners (None: the default scope, resolved by the caller
    into ``all_users`` or the caller's uid); ``start``/``end`` are the window as given.
    """

    selectors: list[JobSelector] = field(default_factory=list)
    clusters: list[str] | None = None
    uids: list[int] | None = None
    user_names: list[str] | None = None
    accounts: list[str] | None = None
    names: list[str] | None = None
    states: list[str] = field(default_factory=list)
    start: int | None = None
    end: int | None = None
    allocations_only: bool = False
    duplicates: bool = False


@dataclass(frozen=True)
class Window:
    """The effective ``[start, end)`` window after sacct's defaults (§4.7)."""

    start: int
    end: int


def default_window(f: JobFilter, now: int, today_midnight: int) -> Window:
    """Apply ``slurmdb_job_cond_def_start_end`` (§4.7) to the given -S/-E.

    Raises:
        FilterError: if the start is after the end (sacct: "Start time (...) requested is
            after end time (...)").
    """
    start = f.start
    if start is None:
        if f.selectors:
            start = 0
        elif f.states:
            start = now
        else:
            start = today_midnight
    end = f.end
    if end is None:
        end = f.start if (f.states and f.start is not None) else now
    if start > end:
        raise FilterError("start time is after end time")
    if end in (start, now):
        end += 1
    return Window(start, end)


def _selector_clause(sel: JobSelector) -> ColumnElement[bool]:
    if sel.array_task is not None:
        return and_(Job.array_job_id == sel.job_id, Job.array_task_id == sel.array_task)
    if sel.het_offset is not None:
        return and_(Job.het_job_id == sel.job_id, Job.het_job_offset == sel.het_offset)
    # §4.9: a plain id matches the record itself, every task of an array with that id and
    # every component of a het job with that id.
    return or_(
        Job.job_id_raw == sel.job_id, Job.array_job_id == sel.job_id, Job.het_job_id == sel.job_id
    )


def _state_clause(state: str, w: Window) -> ColumnElement[bool]:
    # _state_time_string (as_mysql_jobacct_process.c, §4.7): states are matched by what the
    # job was doing during the window, terminal states by when they were reached.
    if state == "PENDING":
        return and_(
            Job.time_eligible.is_not(None),
            Job.time_eligible < w.end,
            or_(
                Job.time_start > w.start,
                and_(Job.time_start.is_(None), or_(Job.time_end.is_(None), Job.time_end > w.start)),
            ),
        )
    if state == "RUNNING":
        return and_(
            Job.time_start.is_not(None),
            Job.time_start < w.end,
            or_(Job.time_end.is_(None), Job.time_end > w.start),
        )
    if state == "SUSPENDED":
        return and_(Job.state == state, Job.time_start < w.end)
    return and_(Job.state == state, Job.time_end.between(w.start, w.end))


def where_clauses(f: JobFilter, w: Window) -> list[ColumnElement[bool]]:
    """The SQL conditions for a filter and its effective window."""
    clauses: list[ColumnElement[bool]] = []
    if f.states:
        clauses.append(or_(*(_state_clause(s, w) for s in f.states)))
    elif f.selectors:
        clauses.append(Job.time_submit < w.end)
        clauses.append(or_(Job.time_end.is_(None), Job.time_end >= w.start))
    else:
        # A plain listing selects on eligible time: never-eligible jobs are hidden (§4.7).
        clauses.append(Job.time_eligible.is_not(None))
        clauses.append(Job.time_eligible < w.end)
        clauses.append(or_(Job.time_end.is_(None), Job.time_end >= w.start))
    if f.selectors:
        clauses.append(or_(*(_selector_clause(s) for s in f.selectors)))
    if f.clusters is not None:
        clauses.append(Job.cluster.in_(f.clusters))
    if f.uids is not None or f.user_names is not None:
        owners: list[ColumnElement[bool]] = []
        if f.uids:
            owners.append(Job.uid.in_(f.uids))
        if f.user_names:
            owners.append(Job.user_name.in_(f.user_names))
        clauses.append(or_(*owners) if owners else false())
    if f.accounts is not None:
        clauses.append(Job.account.in_(f.accounts))
    if f.names is not None:
        clauses.append(Job.job_name.in_(f.names))
    if not f.duplicates:
        # §4.8: without -D only the newest record of a job id is shown (requeues, reuse).
        newer = aliased(Job)
        clauses.append(
            ~exists().where(
                newer.cluster == Job.cluster,
                newer.job_id_raw == Job.job_id_raw,
                newer.time_submit > Job.time_submit,
            )
        )
    return clauses


def _order(stmt: Select[Any]) -> Select[Any]:
    # §4.8: ascending submit time, then array job id, array task id, job id.
    return stmt.order_by(
        Job.time_submit,
        func.coalesce(Job.array_job_id, 0),
        func.coalesce(Job.array_task_id, 0),
        Job.job_id_raw,
        Job.id,
    )


_STEP_COLUMNS = [c for c in Step.__table__.columns if c.name not in ("job_pk",)]


def select_lines(f: JobFilter, w: Window) -> Select[Any]:
    """The statement behind ``sacct``: job columns, plus step columns labelled ``s_*``."""
    job_columns = list(Job.__table__.columns)
    if f.allocations_only:
        return _order(select(*job_columns).where(*where_clauses(f, w)))
    step_columns = [c.label("s_" + c.name) for c in _STEP_COLUMNS]
    stmt = (
        select(*job_columns, *step_columns)
        .select_from(Job)
        .outerjoin(Step, Step.job_pk == Job.id)
        .where(*where_clauses(f, w))
    )
    return _order(stmt).order_by(Step.step_id, Step.step_het_component)


def _selected_steps(
    job_row: Any, selectors: Sequence[JobSelector]
) -> set[tuple[int, int | None]] | None:
    """Which steps of a job the ``-j`` list names; None means the whole job is shown."""
    named: set[tuple[int, int | None]] = set()
    for sel in selectors:
        if not _selector_matches(sel, job_row):
            continue
        if sel.step_id is None:
            return None
        named.add((sel.step_id, sel.step_het_component))
    return named


def _selector_matches(sel: JobSelector, r: Any) -> bool:
    if sel.array_task is not None:
        return bool(r.array_job_id == sel.job_id and r.array_task_id == sel.array_task)
    if sel.het_offset is not None:
        return bool(r.het_job_id == sel.job_id and r.het_job_offset == sel.het_offset)
    return sel.job_id in (r.job_id_raw, r.array_job_id, r.het_job_id)


def iter_lines(
    conn: Connection, f: JobFilter, w: Window, batch: int = 2000
) -> Iterator[tuple[Any, bool]]:
    """Stream ``(row, is_step)`` pairs in sacct's order: each job line, then its steps.

    With ``-j JOB.STEP`` the job line is left out and only the named steps are shown
    (``show_full=0`` in sacct, §4.9).
    """
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        select_lines(f, w)
    )
    if f.allocations_only:
        for row in result:
            yield row, False
        return
    current = None
    wanted: set[tuple[int, int | None]] | None = None
    for row in result:
        if row.id != current:
            current = row.id
            wanted = _selected_steps(row, f.selectors) if f.selectors else None
            if wanted is None:
                yield row, False
        if row.s_id is None:
            continue
        if wanted is None or (row.s_step_id, row.s_step_het_component) in wanted:
            yield row, True
