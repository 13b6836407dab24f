"""sacct's record selection: the filter, the default time window, and the SQL it becomes.

Rules are slurm-semantics.md §4.5 (options), §4.7 (window and selection), §4.8 (ordering and
duplicates) and §4.9 (``-j`` matching). Queries use SQLAlchemy Core and stream rows, so memory
stays flat; the few rules SQL cannot express over the stored text (``-N`` against compressed
node lists, ``--array`` expansion, ``-T`` clipping) are applied to the streamed rows in Python.
"""

from __future__ import annotations

import re
import time
from collections import namedtuple
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import hostlist
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.orm import aliased

from jobacct.fields import USAGE_STEP_COLUMNS
from jobacct.jobid import JobSelector
from jobacct.model import Job, Step
from jobacct.slurmtime import INFINITE, NO_VAL, PARTITION_LIMIT, format_date, parse_timelimit

#: Largest value ``get_resource_arg_range`` takes for ``-i``/``-I`` (``INT_MAX``).
INT_MAX = 0x7FFFFFFF

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
#: State flags ``job_state_num`` knows but sacct refuses: "job state X is not supported /
#: accounted" (§5.1 flag bits, §5.2).
_UNACCOUNTED_STATES: dict[str, str] = {
    "COMPLETING": "CG",
    "CONFIGURING": "CF",
    "RESV_DEL_HOLD": "RD",
    "REQUEUE_FED": "RF",
    "REQUEUE_HOLD": "RH",
    "SIGNALING": "SI",
    "SPECIAL_EXIT": "SE",
    "STAGE_OUT": "SO",
    "STOPPED": "ST",
}
_TERMINAL_STATES = frozenset(STATE_CODES) - {"PENDING", "RUNNING", "SUSPENDED"}

#: ``-F`` names (``str_2_job_flags``, case-insensitive) -> how the Flags text spells them.
#: Slurm 22.05 prints (and so stores) ``StartRecieved``; both spellings are matched.
JOB_FLAGS: dict[str, tuple[str, ...]] = {
    "schedsubmit": ("SchedSubmit",),
    "schedmain": ("SchedMain",),
    "schedbackfill": ("SchedBackfill",),
    "startreceived": ("StartReceived", "StartRecieved"),
}


class FilterError(ValueError):
    """A selection that cannot be built: bad state name, range, node list, start after end..."""


# ---------------------------------------------------------------- option values


def parse_states(text: str) -> list[str]:
    """Parse a ``-s`` list into long state names (case-insensitive, long or short names).

    Raises:
        FilterError: naming the first state sacct refuses, in sacct's words: an unknown name
            (``COMPLETE``, ``CANCELED``) or a state flag that is never accounted (``CG``, ``SE``).
    """
    states: list[str] = []
    for item in text.split(","):
        token = item.strip()
        upper = token.upper()
        name = upper if upper in STATE_CODES else _BY_CODE.get(upper)
        if name is None:
            if upper in _UNACCOUNTED_STATES or upper in _UNACCOUNTED_STATES.values():
                raise FilterError(f"job state '{token}' is not supported / accounted")
            raise FilterError(f"unrecognized job state value '{token}'")
        if name not in states:
            states.append(name)
    return states


@dataclass(frozen=True)
class CountRange:
    """A ``min[-max]`` value of ``-i``/``-I``; ``high`` None means exactly ``low``."""

    low: int
    high: int | None = None


_COUNT = re.compile(r"([0-9]+)([kKmM]?)(?:-([0-9]+)([kKmM]?))?")
_SUFFIX = {"": 1, "k": 1024, "m": 1024 * 1024}


def parse_count_range(text: str, what: str) -> CountRange:
    """Parse ``-i``/``-I`` as ``get_resource_arg_range`` does: ``N``, ``N-M``, ``*`` (any).

    ``K``/``M`` suffixes multiply by 1024 / 1048576. A single number selects exactly that
    count (sacct's ``nodes_alloc=N``), a range both ends inclusive.

    Raises:
        FilterError: for anything else, a range whose low end is above its high end, a high
            end of 0, or a number above ``INT_MAX``.
    """
    token = text.strip()
    if token == "*":
        return CountRange(1, INT_MAX)
    match = _COUNT.fullmatch(token)
    if match is None:
        raise FilterError(f"invalid {what} '{text}': expected min[-max], e.g. 2 or 2-8")
    low = int(match.group(1)) * _SUFFIX[match.group(2).lower()]
    high = None
    if match.group(3) is not None:
        high = int(match.group(3)) * _SUFFIX[match.group(4).lower()]
    for value in (low, high):
        if value is not None and value > INT_MAX:
            raise FilterError(f"invalid {what} '{text}': {value} is too big")
    if high is not None:
        if high == 0:
            raise FilterError(f"invalid {what} '{text}': the maximum must be at least 1")
        if low > high:
            raise FilterError(f"invalid {what} '{text}': minimum {low} is above maximum {high}")
    return CountRange(low, high)


def parse_time_limit(text: str) -> int:
    """Minutes of a ``-k``/``-K`` value, as ``time_str2mins`` reads it.

    ``M``, ``M:S``, ``H:M:S``, ``D-H``, ``D-H:M``, ``D-H:M:S``; seconds round up to the next
    minute; ``-1``, ``INFINITE`` and ``UNLIMITED`` are :data:`INFINITE`.

    Raises:
        FilterError: for anything else, or a limit of 0 minutes (sacct: "Invalid time limit
            specification").
    """
    token = text.strip()
    try:
        minutes = parse_timelimit(token) if token != PARTITION_LIMIT else None
    except ValueError:
        minutes = None
    if minutes is None or minutes == NO_VAL:
        raise FilterError(
            f"invalid time limit '{text}': expected minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S"
        )
    if minutes <= 0:
        raise FilterError(f"invalid time limit '{text}': must be at least 1 minute")
    if minutes > INFINITE:
        raise FilterError(f"invalid time limit '{text}': too large")
    return minutes


def parse_nodelist(text: str) -> frozenset[str]:
    """The node names of a ``-N`` hostlist expression (``tux[0-3,7],gpu1``).

    Raises:
        FilterError: for an expression that is not a hostlist (``tux[``) or names no node.
    """
    try:
        hosts = hostlist.expand_hostlist(text.strip())
    except hostlist.BadHostlist as exc:
        raise FilterError(f"invalid node list '{text}': {exc}") from None
    if not hosts:
        raise FilterError(f"invalid node list '{text}': no node names")
    return frozenset(hosts)


def parse_job_flags(text: str) -> list[str]:
    """Normalise a ``-F`` list (SchedSubmit, SchedMain, SchedBackfill, StartReceived).

    Raises:
        FilterError: naming the first unknown flag (sacct: "Invalid job flag").
    """
    names: list[str] = []
    for item in text.split(","):
        token = item.strip()
        key = token.lower()
        if key == "startrecieved":
            key = "startreceived"
        if key not in JOB_FLAGS:
            raise FilterError(
                f"invalid job flag '{token}': expected SchedSubmit, SchedMain, SchedBackfill or "
                "StartReceived"
            )
        if key not in names:
            names.append(key)
    return names


def array_task_ids(task_str: str) -> list[int] | None:
    """The task ids of an array meta record's pending-task string (``1-5%2``, ``1,3-9:2``).

    Returns None when the string cannot be expanded: cut with ``...`` (imported from a sacct
    listing that shortened it) or not a task list at all.
    """
    body = task_str.split("%", 1)[0].strip()
    if not body or body.endswith("..."):
        return None
    ids: set[int] = set()
    for item in body.split(","):
        match = re.fullmatch(r"([0-9]+)(?:-([0-9]+)(?::([0-9]+))?)?", item.strip())
        if match is None:
            return None
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        step = int(match.group(3)) if match.group(3) is not None else 1
        if last < first or step < 1:
            return None
        ids.update(range(first, last + 1, step))
    return sorted(ids)


# ---------------------------------------------------------------- the filter


@dataclass
class JobFilter:
    """What ``jobacct sacct`` selects. Times are epoch seconds UTC; None means "default".

    ``uids``/``user_names`` restrict owners (None: the default scope, resolved by the caller
    into ``all_users`` or the caller's uid); ``start``/``end`` are the window as given. Every
    other list is one sacct option: None means the option was not given, an empty list
    matches nothing.
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
    #: ``-g``: numeric items are gids, the others group names.
    gids: list[int] | None = None
    group_names: list[str] | None = None
    #: ``-r``, ``-q`` (case-insensitive), ``-W``, ``-R`` (case-insensitive).
    partitions: list[str] | None = None
    qos: list[str] | None = None
    wckeys: list[str] | None = None
    reasons: list[str] | None = None
    #: ``-C``: every item must be part of the job's constraints.
    constraints: list[str] | None = None
    #: ``-F``: keys of :data:`JOB_FLAGS`; a job matches if it has any of them.
    job_flags: list[str] | None = None
    #: ``-k``/``-K`` in minutes. As in sacct, ``-K`` only counts together with ``-k``.
    timelimit_min: int | None = None
    timelimit_max: int | None = None
    #: ``-i``, ``-I``.
    nnodes: CountRange | None = None
    ncpus: CountRange | None = None
    #: ``-N``: expanded node names.
    nodes: frozenset[str] | None = None
    #: ``--whole-hetjob``: None is sacct's default, True ``=yes``, False ``=no``.
    whole_hetjob: bool | None = None
    #: ``-T``: clip Start/End to the window.
    truncate: bool = False
    #: ``--array``: one line per pending task of an array meta record.
    expand_arrays: bool = False


@dataclass(frozen=True)
class Window:
    """The effective ``[start, end)`` window after sacct's defaults (§4.7)."""

    start: int
    end: int


def default_window(f: JobFilter, now: int, today_midnight: int) -> Window:
    """Apply ``slurmdb_job_cond_def_start_end`` (§4.7) to the given -S/-E.

    ===================  ==============  ========================
    given                default -S      default -E
    ===================  ==============  ========================
    neither -j nor -s    today 00:00     now
    -j, no -s            0               now
    -s, no -j            now             -S
    -j and -s            0               -S (now when -S is 0)
    ===================  ==============  ========================

    Then ``E`` is moved one second on when it equals ``S`` or ``now``. As in Slurm, a time of
    0 counts as "not given".

    Raises:
        FilterError: if the start is after the end, in sacct's words with both times.
    """
    start = f.start or 0
    if not start:
        if f.selectors:
            start = 0
        elif f.states:
            start = now
        else:
            start = today_midnight
    end = f.end or 0
    if not end:
        end = start if (f.states and start) else now
    if end in (start, now):
        end += 1
    if start > end:
        raise FilterError(
            f"Start time ({format_date(start)}) requested is after end time ({format_date(end)})."
        )
    return Window(start, end)


# ---------------------------------------------------------------- SQL


def _like_escape(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, case-insensitively on every backend."""
    pattern = "%" + _like_escape(text.lower()) + "%"
    result: ColumnElement[bool] = func.lower(column).like(pattern, escape="!")
    return result


def _selectors_clause(
    selectors: Sequence[JobSelector], whole_hetjob: bool | None
) -> ColumnElement[bool]:
    """The records a ``-j`` list names (§4.9), as ``job.id IN (<union of index lookups>)``.

    A plain id matches the record itself, every task of an array with that id and every
    component of a het job with that id (``--whole-hetjob=no``: not the components; ``=yes``:
    every component of the het job the record belongs to). ``123_7`` is that task, ``123+1``
    that component (``=yes``: all of them).

    Each kind of match is its own indexed lookup: OR-ing them in one WHERE lets SQLite's
    planner, which sees the mostly-NULL array and het columns as unselective, walk a time
    index over the whole table instead.
    """
    plain = sorted({s.job_id for s in selectors if s.array_task is None and s.het_offset is None})
    tasks = sorted({(s.job_id, s.array_task) for s in selectors if s.array_task is not None})
    comps = sorted({(s.job_id, s.het_offset) for s in selectors if s.het_offset is not None})
    parts: list[Select[Any]] = []
    if plain:
        parts.append(select(Job.id).where(Job.job_id_raw.in_(plain)))
        parts.append(select(Job.id).where(Job.array_job_id.in_(plain)))
        if whole_hetjob is None:
            parts.append(select(Job.id).where(Job.het_job_id.in_(plain)))
        elif whole_hetjob:
            member = aliased(Job)
            hets = select(member.het_job_id).where(
                member.job_id_raw.in_(plain), member.het_job_id.is_not(None)
            )
            parts.append(select(Job.id).where(Job.het_job_id.in_(hets)))
    for job_id, task in tasks:
        parts.append(select(Job.id).where(Job.array_job_id == job_id, Job.array_task_id == task))
    for job_id, offset in comps:
        if whole_hetjob:
            parts.append(select(Job.id).where(Job.het_job_id == job_id))
        else:
            # The het id alone is indexed: look it up, then check the offset by rowid.
            members = select(Job.id).where(Job.het_job_id == job_id)
            parts.append(select(Job.id).where(Job.id.in_(members), Job.het_job_offset == offset))
    if len(parts) == 1:
        return Job.id.in_(parts[0])
    return Job.id.in_(union(*parts))


def _state_clause(state: str, w: Window) -> ColumnElement[bool]:
    # _state_time_string (as_mysql_jobacct_process.c, §4.7): states are matched by what the
    # job was doing during the window, terminal states by when they were reached.
    if state == "PENDING":
        return and_(
            Job.time_eligible.is_not(None),
            Job.time_eligible < w.end,
            or_(
                Job.time_start > w.start,
                and_(Job.time_start.is_(None), Job.time_end > w.start),
                and_(Job.time_start.is_(None), Job.time_end.is_(None), Job.state == state),
            ),
        )
    if state == "RUNNING":
        return and_(
            Job.time_start.is_not(None),
            Job.time_start < w.end,
            or_(_ended_after(w.start), and_(Job.time_end.is_(None), Job.state == state)),
        )
    if state == "SUSPENDED":
        # Slurm reads its suspend table; the store keeps only the total suspended time, so a
        # job matches if it was ever suspended (or is now) and ran during the window.
        return and_(
            or_(Job.state == state, Job.time_suspended > 0),
            Job.time_start.is_not(None),
            Job.time_start < w.end,
            or_(Job.time_end.is_(None), _ended_after(w.start - 1)),
        )
    return and_(Job.state == state, Job.time_end.between(w.start, w.end))


#: An end time no job reaches: bounds ``time_end`` ranges on both sides, which SQLite's
#: planner (without STAT4) needs to prefer the time_end index over a skip-scan of another.
_NEVER = 1 << 62


def _ended_after(when: int) -> ColumnElement[bool]:
    return and_(Job.time_end > when, Job.time_end < _NEVER)


def _range_clause(column: Any, value: CountRange) -> ColumnElement[bool]:
    if value.high is None:
        exact: ColumnElement[bool] = column == value.low
        return exact
    ranged: ColumnElement[bool] = column.between(value.low, value.high)
    return ranged


def _node_prefix(host: str) -> str:
    # The leading non-digit part of a node name survives any hostlist compression
    # ("tux12" is inside "tux[10-19]" and "tux[1-2]x" alike), so it can prefilter in SQL.
    match = re.match(r"[^0-9\[\],]*", host)
    return match.group(0) if match else ""


def _nodes_clause(nodes: frozenset[str]) -> ColumnElement[bool]:
    prefixes = sorted({_node_prefix(h) for h in nodes})
    if "" in prefixes:
        return Job.nodelist.is_not(None)
    return and_(
        Job.nodelist.is_not(None),
        or_(*(Job.nodelist.like("%" + _like_escape(p) + "%", escape="!") for p in prefixes)),
    )


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
        clauses.append(_selectors_clause(f.selectors, f.whole_hetjob))
    if f.clusters is not None:
        clauses.append(Job.cluster.in_(f.clusters))
    if f.uids is not None or f.user_names is not None:
        owners: list[ColumnElement[bool]] = []
        if f.uids:
            owners.append(Job.uid.in_(f.uids))
        if f.user_names:
            owners.append(Job.user_name.in_(f.user_names))
        clauses.append(or_(*owners) if owners else false())
    if f.gids is not None or f.group_names is not None:
        groups: list[ColumnElement[bool]] = []
        if f.gids:
            groups.append(Job.gid.in_(f.gids))
        if f.group_names:
            groups.append(Job.group_name.in_(f.group_names))
        clauses.append(or_(*groups) if groups else false())
    if f.accounts is not None:
        clauses.append(Job.account.in_(f.accounts))
    if f.names is not None:
        clauses.append(Job.job_name.in_(f.names))
    if f.partitions is not None:
        clauses.append(Job.partition.in_(f.partitions))
    if f.qos is not None:
        clauses.append(func.lower(Job.qos).in_([q.lower() for q in f.qos]))
    if f.wckeys is not None:
        clauses.append(Job.wckey.in_(f.wckeys))
    if f.reasons is not None:
        clauses.append(func.lower(Job.reason).in_([r.lower() for r in f.reasons]))
    if f.constraints is not None:
        # sacct ANDs the items: each must be part of the constraint string; an empty item
        # asks for jobs without constraints.
        for item in f.constraints or [""]:
            if item:
                clauses.append(_contains(Job.constraints, item))
            else:
                clauses.append(or_(Job.constraints.is_(None), Job.constraints == ""))
    if f.job_flags is not None:
        spellings = [s for key in f.job_flags for s in JOB_FLAGS[key]]
        clauses.append(or_(false(), *(_contains(Job.flags, s) for s in spellings)))
    if f.timelimit_min is not None:
        if f.timelimit_max is not None:
            clauses.append(Job.timelimit.between(f.timelimit_min, f.timelimit_max))
        else:
            clauses.append(Job.timelimit == f.timelimit_min)
    if f.nnodes is not None:
        clauses.append(_range_clause(Job.nnodes, f.nnodes))
    if f.ncpus is not None:
        clauses.append(_range_clause(Job.ncpus, f.ncpus))
    if f.nodes is not None:
        # A coarse prefilter; the exact test expands the stored list (see iter_lines).
        clauses.append(_nodes_clause(f.nodes))
    if not f.duplicates:
        # §4.7: revoked federation siblings are hidden without -D.
        clauses.append(Job.state != "REVOKED")
        # §4.8: without -D only the newest record of a job id is shown (requeues, reuse).
        newer = Job.__table__.alias("newer")
        clauses.append(
            # SELECT 1: the unique (cluster, job_id_raw, time_submit) index covers it.
            ~exists(select(literal(1))).where(
                newer.c.cluster == Job.cluster,
                newer.c.job_id_raw == Job.job_id_raw,
                newer.c.time_submit > Job.time_submit,
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


def select_lines(
    f: JobFilter, w: Window, usage_columns: Collection[str] | None = None
) -> Select[Any]:
    """The statement behind ``sacct``: job columns, plus step columns labelled ``s_*``.

    Steps are those that ran during the window (slurmdbd's step query: started by its end,
    not ended before its start). ``usage_columns`` names the step usage-statistics columns
    to fetch (None: all); the rest of :data:`fields.USAGE_STEP_COLUMNS` are left out, because
    the TRESUsage text makes step rows several times wider than the fields most runs show.
    """
    job_columns = list(Job.__table__.columns)
    if f.allocations_only:
        return _order(select(*job_columns).where(*where_clauses(f, w)))
    step_columns = [
        c.label("s_" + c.name)
        for c in _STEP_COLUMNS
        if usage_columns is None or c.name not in USAGE_STEP_COLUMNS or c.name in usage_columns
    ]
    stmt = (
        select(*job_columns, *step_columns)
        .select_from(Job)
        .outerjoin(
            Step,
            and_(
                Step.job_pk == Job.id,
                or_(Step.time_start.is_(None), Step.time_start <= w.end),
                or_(Step.time_end.is_(None), Step.time_end >= w.start),
            ),
        )
        .where(*where_clauses(f, w))
    )
    return _order(stmt).order_by(Step.step_id, Step.step_het_component)


# ---------------------------------------------------------------- streaming the lines


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
    # A record no selector names (a component brought in by --whole-hetjob=yes) is shown
    # whole, as sacct's show_full default.
    return named or None


def _selector_matches(sel: JobSelector, r: Any) -> bool:
    if sel.array_task is not None:
        return bool(r.array_job_id == sel.job_id and r.array_task_id == sel.array_task)
    if sel.het_offset is not None:
        return bool(r.het_job_id == sel.job_id and r.het_job_offset == sel.het_offset)
    return sel.job_id in (r.job_id_raw, r.array_job_id, r.het_job_id)


@lru_cache(maxsize=4096)
def _expanded_nodes(nodelist: str) -> frozenset[str]:
    try:
        return frozenset(hostlist.expand_hostlist(nodelist))
    except hostlist.BadHostlist:
        return frozenset((nodelist,))


def _on_nodes(nodelist: str | None, nodes: frozenset[str]) -> bool:
    return bool(nodelist) and not nodes.isdisjoint(_expanded_nodes(nodelist or ""))


class PatchedRow:
    """A result row with some columns replaced (clipped times, an expanded array task)."""

    __slots__ = ("_over", "_row")

    def __init__(self, row: Any, over: dict[str, Any]) -> None:
        self._row = row
        self._over = over

    def __getattr__(self, name: str) -> Any:
        over = self._over
        if name in over:
            return over[name]
        return getattr(self._row, name)


def _patch(row: Any, over: dict[str, Any]) -> Any:
    if isinstance(row, PatchedRow):
        return PatchedRow(row._row, {**row._over, **over})
    return PatchedRow(row, over)


def _job_lines(rows: Iterable[Any], f: JobFilter) -> Iterator[tuple[Any, bool]]:
    """Group joined rows into a job line and its step lines; apply ``-j`` steps and ``-N``."""
    current = None
    show_job = False
    wanted: set[tuple[int, int | None]] | None = None
    for row in rows:
        if row.id != current:
            current = row.id
            show_job = f.nodes is None or _on_nodes(row.nodelist, f.nodes)
            # With -X the job line always prints: sacct skips steps before it looks at them.
            wanted = (
                _selected_steps(row, f.selectors)
                if f.selectors and not f.allocations_only
                else None
            )
            if show_job and wanted is None:
                yield row, False
        if not show_job or f.allocations_only or row.s_id is None:
            continue
        if wanted is not None and (row.s_step_id, row.s_step_het_component) not in wanted:
            continue
        if f.nodes is not None and not _on_nodes(row.s_nodelist, f.nodes):
            continue
        yield row, True


def _clip_job(r: Any, start: int, end: int) -> dict[str, Any]:
    # -T, as slurmdbd does for a job record: start no earlier than the window, end no later
    # (a job still running ends at the window's end), a job that never started starts when
    # it ends; Elapsed and CPUTime follow from these.
    t_start, t_end = r.time_start, r.time_end
    if t_end is not None and (t_start is None or t_start > t_end):
        t_start = t_end
    if t_start is not None and t_start < start:
        t_start = start
    if t_end is None or t_end > end:
        t_end = end
    if t_start is None:
        t_start = t_end
    # Slurm sums the suspend intervals inside the window; the store has only the total.
    suspended = min(r.time_suspended or 0, max(t_end - t_start, 0))
    return {"time_start": t_start, "time_end": t_end, "time_suspended": suspended}


def _clip_step(r: Any, start: int, end: int) -> dict[str, Any]:
    t_start, t_end = r.s_time_start, r.s_time_end
    if t_start is not None and t_start < start:
        t_start = start
    if t_start is None and t_end is not None:
        t_start = t_end
    if t_end is None or t_end > end:
        t_end = end
    if t_start is not None and t_start > t_end:
        t_start = t_end = None
    return {"s_time_start": t_start, "s_time_end": t_end}


def _truncated(
    lines: Iterable[tuple[Any, bool]], w: Window, now: int
) -> Iterator[tuple[Any, bool]]:
    # slurmdbd caps the window's end at now before clipping; steps are clipped only when the
    # window has a start.
    end = min(w.end, now)
    for row, is_step in lines:
        over = _clip_job(row, w.start, end)
        if is_step and w.start:
            over.update(_clip_step(row, w.start, end))
        yield _patch(row, over), is_step


def _expanded_arrays(lines: Iterable[tuple[Any, bool]]) -> Iterator[tuple[Any, bool]]:
    # sacct --array (print.c _print_expanded_array_job): a meta record holding pending tasks
    # prints once per task, as <array id>_<task>; its steps follow as those of the last task.
    step_over: dict[str, Any] | None = None
    current = None
    for row, is_step in lines:
        if is_step:
            if step_over is not None and row.id == current:
                yield _patch(row, step_over), True
            else:
                yield row, True
            continue
        current, step_over = row.id, None
        tasks = array_task_ids(row.array_task_str) if row.array_task_str else None
        if not tasks:
            yield row, False
            continue
        for task in tasks:
            yield _patch(row, {"array_task_id": task, "array_task_str": None}), False
        step_over = {"array_task_id": tasks[-1], "array_task_str": None}


def iter_lines(
    conn: Connection,
    f: JobFilter,
    w: Window,
    batch: int = 2000,
    now: int | None = None,
    usage_columns: Collection[str] | None = None,
) -> Iterator[tuple[Any, bool]]:
    """Stream ``(row, is_step)`` pairs in sacct's order: each job line, then its steps.

    With ``-j JOB.STEP`` the job line is left out and only the named steps are shown
    (``show_full=0`` in sacct, §4.9). ``now`` is the clock for ``-T`` (default: the real one);
    ``usage_columns`` limits the step statistics fetched (see :func:`select_lines`).
    """
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        select_lines(f, w, usage_columns)
    )
    # Plain named tuples: attribute access on them is several times cheaper than on
    # SQLAlchemy's Row, and every cell getter reads a few attributes per line.
    record = namedtuple("Record", list(result.keys()))  # type: ignore[misc]
    rows: Iterator[Any] = map(record._make, result)
    lines: Iterator[tuple[Any, bool]]
    if f.allocations_only and f.nodes is None:
        lines = ((row, False) for row in rows)
    else:
        lines = _job_lines(rows, f)
    if f.truncate:
        lines = _truncated(lines, w, int(time.time()) if now is None else now)
    if f.expand_arrays:
        lines = _expanded_arrays(lines)
    yield from lines
