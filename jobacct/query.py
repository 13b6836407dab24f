"""sacct's record selection: the filter, the default time window, and streaming the lines.

Rules are slurm-semantics.md §4.5 (options), §4.7 (window and selection), §4.8 (ordering and
duplicates) and §4.9 (``-j`` matching). The SQL is :mod:`jobacct.sqltext`'s, run by stdlib
:mod:`sqlite3` on a SQLite store (:mod:`jobacct.fastread`, no SQLAlchemy import) or through a
SQLAlchemy connection on any backend; both stream rows, so memory stays flat. The few rules
SQL cannot express over the stored text (``-N`` against compressed node lists, ``--array``
expansion, ``-T`` clipping) are applied to the streamed rows in Python.
"""

from __future__ import annotations

import re
import time
from collections import namedtuple
from collections.abc import Collection, Iterable, Iterator, Sequence
from functools import lru_cache, partial

from jobacct.jobid import JobSelector
from jobacct.jobstate import ACCOUNTED_STATES, job_state_num
from jobacct.slurmtime import INFINITE, NO_VAL, PARTITION_LIMIT, format_date, parse_timelimit
from jobacct.sqltext import JOB_FLAGS, joined_lines_sql

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from typing import Any

    from jobacct.serverread import ServerStore

#: Largest value ``get_resource_arg_range`` takes for ``-i``/``-I`` (``INT_MAX``).
INT_MAX = 0x7FFFFFFF


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
        name = job_state_num(token)
        if name is None:
            raise FilterError(f"unrecognized job state value '{token}'")
        if name not in ACCOUNTED_STATES:
            raise FilterError(f"job state '{token}' is not supported / accounted")
        if name not in states:
            states.append(name)
    return states


class CountRange(namedtuple("CountRange", ["low", "high"], defaults=[None])):
    """A ``min[-max]`` value of ``-i``/``-I``; ``high`` None (the default) means exactly
    ``low``. (A namedtuple: see :class:`jobacct.jobid.JobSelector` for why.)"""

    __slots__ = ()
    low: int
    high: int | None


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
        import hostlist  # here: only -N needs it (start-up of sacct -j, tracker issue 16)

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


#: Slurm's largest ``MaxArraySize`` (slurm.conf(5): at most 4000001): task ids are below it.
#: It bounds what a task list may expand to (``100_[1-99999999]`` took 2.3 GB, issue 14).
MAX_ARRAY_SIZE = 4_000_001


def array_task_ids(task_str: str) -> list[int] | None:
    """The task ids of an array meta record's pending-task string (``1-5%2``, ``1,3-9:2``).

    Returns None when the string cannot be expanded: cut with ``...`` (imported from a sacct
    listing that shortened it), a task id of :data:`MAX_ARRAY_SIZE` or more, or not a task
    list at all.
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
        if last < first or step < 1 or last >= MAX_ARRAY_SIZE:
            return None
        ids.update(range(first, last + 1, step))
    return sorted(ids)


# ---------------------------------------------------------------- the filter


class JobFilter:
    """What ``jobacct sacct`` selects. Times are epoch seconds UTC; None means "default".

    ``uids``/``user_names`` restrict owners (None: the default scope, resolved by the caller
    into ``all_users`` or the caller's uid); ``start``/``end`` are the window as given. Every
    other list is one sacct option: None means the option was not given, an empty list
    matches nothing.
    """

    # A plain class, not a dataclass: dataclasses and its inspect import cost ``sacct -j``
    # about 10 ms of start-up (tracker issue 16).

    def __init__(
        self,
        *,
        selectors: list[JobSelector] | None = None,
        clusters: list[str] | None = None,
        uids: list[int] | None = None,
        user_names: list[str] | None = None,
        accounts: list[str] | None = None,
        names: list[str] | None = None,
        states: list[str] | None = None,
        start: int | None = None,
        end: int | None = None,
        allocations_only: bool = False,
        duplicates: bool = False,
        gids: list[int] | None = None,
        group_names: list[str] | None = None,
        partitions: list[str] | None = None,
        qos: list[str] | None = None,
        wckeys: list[str] | None = None,
        reasons: list[str] | None = None,
        constraints: list[str] | None = None,
        job_flags: list[str] | None = None,
        timelimit_min: int | None = None,
        timelimit_max: int | None = None,
        nnodes: CountRange | None = None,
        ncpus: CountRange | None = None,
        nodes: frozenset[str] | None = None,
        whole_hetjob: bool | None = None,
        truncate: bool = False,
        expand_arrays: bool = False,
        visible: Any = None,
    ) -> None:
        self.selectors = [] if selectors is None else selectors
        self.clusters = clusters
        self.uids = uids
        self.user_names = user_names
        self.accounts = accounts
        self.names = names
        self.states = [] if states is None else states
        self.start = start
        self.end = end
        self.allocations_only = allocations_only
        self.duplicates = duplicates
        #: ``-g``: numeric items are gids, the others group names.
        self.gids = gids
        self.group_names = group_names
        #: ``-r``, ``-q`` (case-insensitive), ``-W``, ``-R`` (case-insensitive).
        self.partitions = partitions
        self.qos = qos
        self.wckeys = wckeys
        self.reasons = reasons
        #: ``-C``: every item must be part of the job's constraints.
        self.constraints = constraints
        #: ``-F``: keys of :data:`JOB_FLAGS`; a job matches if it has any of them.
        self.job_flags = job_flags
        #: ``-k``/``-K`` in minutes. As in sacct, ``-K`` only counts together with ``-k``.
        self.timelimit_min = timelimit_min
        self.timelimit_max = timelimit_max
        #: ``-i``, ``-I``.
        self.nnodes = nnodes
        self.ncpus = ncpus
        #: ``-N``: expanded node names.
        self.nodes = nodes
        #: ``--whole-hetjob``: None is sacct's default, True ``=yes``, False ``=no``.
        self.whole_hetjob = whole_hetjob
        #: ``-T``: clip Start/End to the window.
        self.truncate = truncate
        #: ``--array``: one line per pending task of an array meta record.
        self.expand_arrays = expand_arrays
        #: ``PrivateData=jobs`` (a :class:`jobacct.caller.JobScope`): only the caller's own jobs
        #: and those of the accounts it coordinates; None: no such limit.
        self.visible = visible

    def replace(self, **changes: Any) -> JobFilter:
        """A copy with ``changes`` applied (as ``dataclasses.replace``).

        Raises:
            TypeError: for a name that is not an attribute of the filter.
        """
        unknown = set(changes) - set(vars(self))
        if unknown:
            raise TypeError(f"JobFilter has no attribute {sorted(unknown)[0]!r}")
        return JobFilter(**{**vars(self), **changes})

    def __eq__(self, other: object) -> bool:
        return type(other) is JobFilter and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return f"JobFilter({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class Window(namedtuple("Window", ["start", "end"])):
    """The effective ``[start, end)`` window after sacct's defaults (§4.7)."""

    __slots__ = ()
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
    import hostlist  # cached per node list: the import statement is paid once per list

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


#: Job columns every read fetches: the record's key and what ``-j`` matching reads.
_KEY_JOB_COLUMNS = (
    "id",
    "job_id_raw",
    "array_job_id",
    "array_task_id",
    "het_job_id",
    "het_job_offset",
)
#: Step columns every read fetches: the step's identity (order, ``-j JOB.STEP``).
_KEY_STEP_COLUMNS = ("step_id", "step_het_component")
#: Step columns never shown (the join key).
_HIDDEN_STEP_COLUMNS = frozenset({"job_pk"})


def read_columns(
    f: JobFilter,
    job_all: Sequence[str],
    step_all: Sequence[str],
    reads: Collection[str] | None,
    usage_columns: Collection[str] | None = None,
) -> tuple[list[str], list[str]]:
    """The job and step columns a read fetches (step columns without their ``s_`` prefix).

    ``reads`` names the row attributes the output reads (job columns, ``s_``-prefixed step
    columns); None fetches every column. ``usage_columns`` (None: all) further limits the
    step usage statistics when ``reads`` is None. The Python rules add what they read:
    ``-N`` the node lists, ``-T`` the times, ``--array`` the task string.
    """
    from jobacct.fields import USAGE_STEP_COLUMNS

    job_need: set[str] = set(_KEY_JOB_COLUMNS)
    step_need: set[str] = set(_KEY_STEP_COLUMNS)
    if f.nodes is not None:
        job_need.add("nodelist")
        step_need.add("nodelist")
    if f.truncate:
        job_need.update(("time_start", "time_end", "time_suspended"))
        step_need.update(("time_start", "time_end"))
    if f.expand_arrays:
        job_need.add("array_task_str")
    if reads is None:
        jobs = list(job_all)
        steps = [
            c
            for c in step_all
            if c not in _HIDDEN_STEP_COLUMNS
            and (usage_columns is None or c not in USAGE_STEP_COLUMNS or c in usage_columns)
        ]
    else:
        jobs = [c for c in job_all if c in reads or c in job_need]
        steps = [c for c in step_all if "s_" + c in reads or c in step_need]
    # "id" first: the readers group rows by it.
    jobs.remove("id")
    return ["id", *jobs], steps


def _sqlalchemy_groups(
    conn: Any,
    f: JobFilter,
    w: Window,
    job_columns: Sequence[str],
    step_columns: Sequence[str],
    batch: int,
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """:func:`jobacct.fastread.read_lines`'s groups from one joined statement, on any backend."""
    from sqlalchemy import text

    if f.allocations_only:
        step_columns = []
    sql, params = joined_lines_sql(f, w.start, w.end, job_columns, step_columns, conn.dialect.name)
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(text(sql), params)
    return group_joined_rows(map(tuple, result), len(job_columns), step_columns)


def group_joined_rows(
    rows: Iterable[tuple[Any, ...]], n_job: int, step_columns: Sequence[str]
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Group the rows of :func:`jobacct.sqltext.joined_lines_sql` (``n_job`` job columns, then
    ``step_columns``) into ``(job values, [step values...])``, jobs in the rows' order."""
    step_key = n_job + list(step_columns).index("step_id") if step_columns else -1
    current: Any = None
    job: tuple[Any, ...] = ()
    steps: list[tuple[Any, ...]] = []
    for values in rows:
        if values[0] != current:
            if current is not None:
                yield job, steps
            current, job, steps = values[0], values[:n_job], []
        # A job without steps in the window has one row, its step columns NULL.
        if step_key >= 0 and values[step_key] is not None:
            steps.append(values[n_job:])
    if current is not None:
        yield job, steps


def _lines(
    groups: Iterable[tuple[tuple[Any, ...], list[tuple[Any, ...]]]],
    f: JobFilter,
    make: Any,
    pad: tuple[Any, ...],
) -> Iterator[tuple[Any, bool]]:
    """Job and step lines of the grouped records; apply ``-j`` steps and ``-N``."""
    if f.nodes is None and not f.selectors:
        # The common case, kept lean: every job line, then its steps.
        for job, steps in groups:
            yield make(job + pad), False
            for step in steps:
                yield make(job + step), True
        return
    for job, steps in groups:
        row = make(job + pad)
        if f.nodes is not None and not _on_nodes(row.nodelist, f.nodes):
            continue
        # With -X the job line always prints: sacct skips steps before it looks at them.
        wanted = (
            _selected_steps(row, f.selectors) if f.selectors and not f.allocations_only else None
        )
        if wanted is None:
            yield row, False
        for step in steps:
            line = make(job + step)
            # A selector without a step component (4200+1.0) names the step in every
            # component: slurmdbd adds step_het_comp to its step query only when given.
            if wanted is not None and not (
                (line.s_step_id, line.s_step_het_component) in wanted
                or (line.s_step_id, None) in wanted
            ):
                continue
            if f.nodes is not None and not _on_nodes(line.s_nodelist, f.nodes):
                continue
            yield line, True


@lru_cache(maxsize=64)
def _record_class(names: tuple[str, ...]) -> type:
    """The named tuple class of a set of columns, made once per set (about 1 ms each: the
    daemon answers thousands of single-job lookups a second with the same few sets)."""
    return namedtuple("Record", names)


def _server_store_class() -> type[ServerStore]:
    from jobacct.serverread import ServerStore

    return ServerStore


def iter_lines(
    conn: Any,
    f: JobFilter,
    w: Window,
    batch: int = 2000,
    now: int | None = None,
    usage_columns: Collection[str] | None = None,
    reads: Collection[str] | None = None,
) -> Iterator[tuple[Any, bool]]:
    """Stream ``(row, is_step)`` pairs in sacct's order: each job line, then its steps.

    ``conn`` is a stdlib ``sqlite3.Connection`` (the fast path, :mod:`jobacct.fastread`) or
    a SQLAlchemy ``Connection`` on any backend; both give the same rows. A row is a named
    tuple of job columns and ``s_``-prefixed step columns (None on a job line); ``reads``
    (see :func:`read_columns`) limits the columns fetched, and a getter reading a column
    left out raises AttributeError.

    With ``-j JOB.STEP`` the job line is left out and only the named steps are shown
    (``show_full=0`` in sacct, §4.9). ``now`` is the clock for ``-T`` (default: the real one);
    ``usage_columns`` limits the step statistics fetched when ``reads`` is None.
    """
    import sqlite3

    # The three readers: stdlib sqlite3 on a SQLite file, the driver alone on a server,
    # SQLAlchemy for anything else; each knows its tables' columns. (The server reader is
    # imported only when needed: urllib and the rest cost a SQLite sacct -j about 3 ms.)
    if isinstance(conn, sqlite3.Connection):
        from jobacct import fastread

        tables: Any = partial(fastread.table_columns, conn)
        read: Any = partial(fastread.read_lines, conn, f, w.start, w.end)
    elif isinstance(conn, _server_store_class()):
        from jobacct import serverread

        tables = partial(serverread.table_columns, conn)
        read = partial(serverread.read_groups, conn, f, w.start, w.end)
    else:
        from jobacct.model import Base

        def tables(name: str) -> list[str]:
            return [c.name for c in Base.metadata.tables[name].columns]

        def read(job_cols: list[str], step_cols: list[str]) -> Any:
            return _sqlalchemy_groups(conn, f, w, job_cols, step_cols, batch)

    job_cols, step_cols = read_columns(f, tables("job"), tables("step"), reads, usage_columns)
    if f.allocations_only:
        step_cols = []
    groups = read(job_cols, step_cols)
    # Plain named tuples: attribute access on them is several times cheaper than on
    # SQLAlchemy's Row, and every cell getter reads a few attributes per line.
    record = _record_class((*job_cols, *("s_" + c for c in step_cols)))
    # tuple.__new__ bound to the class: what Record._make does, without its Python frame
    # (the values always have the right length here).
    make = partial(tuple.__new__, record)
    lines = _lines(groups, f, make, (None,) * len(step_cols))
    if f.truncate:
        lines = _truncated(lines, w, int(time.time()) if now is None else now)
    if f.expand_arrays:
        lines = _expanded_arrays(lines)
    return lines
