"""``jobacct sacct`` as a plain function: option strings in, lines on stdout.

:func:`run_sacct` is the whole command; :mod:`jobacct.cli.sacct` (Typer) and
:mod:`jobacct.sacct_fastpath` (the common command lines without Typer, tracker issue 16) both
call it with the option values they parsed. Rules: slurm-semantics.md §4 (selection, window,
ordering, ``-j`` matching); the reading, selecting and formatting modules are imported by the
functions that use them (``sacct --help`` and ``-e`` need none of them).
"""

from __future__ import annotations

import io
import os
import re
import sys
import time

from jobacct.appcontext import AppContext
from jobacct.errors import DatabaseUnavailableError, JobAcctError, UsageError

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from typing import Any, TextIO

    from jobacct.formats import OutputMode
    from jobacct.query import JobFilter


def _now() -> int:
    return int(time.time())


def _split(values: str | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for v in values.split(",") if v.strip()]


def build_filter(
    *,
    caller_uid: int,
    now: int,
    jobs: str | None = None,
    users: str | None = None,
    accounts: str | None = None,
    clusters: str | None = None,
    names: str | None = None,
    states: str | None = None,
    start: str | None = None,
    end: str | None = None,
    all_users: bool = False,
    allocations: bool = False,
    duplicates: bool = False,
    groups: str | None = None,
    partitions: str | None = None,
    qos: str | None = None,
    wckeys: str | None = None,
    reasons: str | None = None,
    constraints: str | None = None,
    job_flags: str | None = None,
    nodelist: str | None = None,
    nnodes: str | None = None,
    ncpus: str | None = None,
    timelimit_min: str | None = None,
    timelimit_max: str | None = None,
    all_clusters: bool = False,
    whole_hetjob: str | None = None,
) -> JobFilter:
    """Turn sacct's option strings into a :class:`JobFilter` (an option not given: None, or
    False for a flag).

    The default user scope is sacct's (§4.7): your own jobs, unless you are root, give
    ``-a``, ``-u -1``, or ``-j``/``-N`` without ``-u``.

    Raises:
        UsageError: naming the bad job id, state, time, range, node list or time limit.
    """
    from jobacct.jobid import JobIdError, parse_selectors
    from jobacct.query import FilterError, JobFilter, parse_states
    from jobacct.slurmtime import TimeSpecError, parse_time

    f = JobFilter(allocations_only=allocations, duplicates=duplicates)
    try:
        if jobs:
            _refuse_task_ranges(jobs)
            f.selectors = parse_selectors(jobs)
        if states:
            f.states = parse_states(states)
        if start:
            f.start = parse_time(start, now)
        if end:
            f.end = parse_time(end, now)
        _add_selection(
            f,
            groups=groups,
            partitions=partitions,
            qos=qos,
            wckeys=wckeys,
            reasons=reasons,
            constraints=constraints,
            job_flags=job_flags,
            nodelist=nodelist,
            nnodes=nnodes,
            ncpus=ncpus,
            timelimit_min=timelimit_min,
            timelimit_max=timelimit_max,
            whole_hetjob=whole_hetjob,
        )
    except (JobIdError, FilterError, TimeSpecError) as exc:
        raise UsageError(str(exc)) from exc
    f.accounts = _split(accounts)
    cluster_list = _split(clusters)
    # -L, -M all and -M -1 mean every cluster (jobacct's default is already all of them).
    if all_clusters or (cluster_list and {c.lower() for c in cluster_list} & {"all", "-1"}):
        cluster_list = None
    f.clusters = cluster_list
    f.names = _split(names)
    user_list = _split(users)
    if user_list is not None and "-1" not in user_list:
        f.uids, f.user_names = _ids_and_names(user_list, "user id")
    elif user_list is None and not (
        all_users or caller_uid == 0 or f.selectors or f.nodes is not None
    ):
        f.uids = [caller_uid]
    return f


def _ids_and_names(items: list[str], what: str) -> tuple[list[int], list[str]]:
    """Split a ``-u``/``-g`` list into ids and names.

    Raises:
        UsageError: for a number that is no uid/gid (above 4294967295).
    """
    from jobacct.users import numeric_id

    ids: list[int] = []
    names: list[str] = []
    for item in items:
        try:
            value = numeric_id(item, what)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if value is None:
            names.append(item)
        else:
            ids.append(value)
    return ids, names


_TASK_RANGE = re.compile(r"[0-9]+_\[[^\]]*\]?")


def _refuse_task_ranges(jobs: str) -> None:
    # sacct -j takes single array tasks only; 123_[1-3] is a fatal "Bad job/step" (§4.9).
    from jobacct.jobid import JobIdError

    match = _TASK_RANGE.search(jobs)
    if match is not None:
        raise JobIdError(
            f"invalid job id '{match.group(0)}': sacct -j takes no array task ranges; "
            "give each task (123_1,123_2,...) or the array id (123) for all of them"
        )


def _add_selection(
    f: JobFilter,
    *,
    groups: str | None,
    partitions: str | None,
    qos: str | None,
    wckeys: str | None,
    reasons: str | None,
    constraints: str | None,
    job_flags: str | None,
    nodelist: str | None,
    nnodes: str | None,
    ncpus: str | None,
    timelimit_min: str | None,
    timelimit_max: str | None,
    whole_hetjob: str | None,
) -> None:
    """The selection options beyond users, accounts, names, states and times (§4.5).

    Raises:
        FilterError: naming the bad value.
    """
    from jobacct.query import (
        FilterError,
        parse_count_range,
        parse_job_flags,
        parse_nodelist,
        parse_time_limit,
    )

    group_list = _split(groups)
    if group_list is not None:
        f.gids, f.group_names = _ids_and_names(group_list, "group id")
    f.partitions = _split(partitions)
    f.qos = _split(qos)
    f.wckeys = _split(wckeys)
    f.reasons = _split(reasons)
    if constraints is not None:
        f.constraints = [c.strip() for c in constraints.split(",")]
    if job_flags is not None:
        f.job_flags = parse_job_flags(job_flags)
    if nodelist is not None:
        f.nodes = parse_nodelist(nodelist)
    if nnodes is not None:
        f.nnodes = parse_count_range(nnodes, "node count range")
    if ncpus is not None:
        f.ncpus = parse_count_range(ncpus, "CPU count range")
    if timelimit_min is not None:
        f.timelimit_min = parse_time_limit(timelimit_min)
    if timelimit_max is not None:
        f.timelimit_max = parse_time_limit(timelimit_max)
    if (
        f.timelimit_min is not None
        and f.timelimit_max is not None
        and f.timelimit_min > f.timelimit_max
    ):
        raise FilterError(
            f"invalid time limit range: --timelimit-min '{timelimit_min}' is above "
            f"--timelimit-max '{timelimit_max}'"
        )
    if whole_hetjob is not None:
        value = whole_hetjob.strip().lower()
        if value not in ("yes", "no"):
            raise FilterError(f"invalid --whole-hetjob value '{whole_hetjob}': use yes or no")
        f.whole_hetjob = value == "yes"


def run_sacct(
    *,
    db_option: str | None = None,
    allocations: bool = False,
    duplicates: bool = False,
    truncate: bool = False,
    expand_array: bool = False,
    fmt: list[str] | None = None,
    brief: bool = False,
    long: bool = False,
    noheader: bool = False,
    parsable: bool = False,
    parsable2: bool = False,
    delimiter: str = "|",
    json_out: bool = False,
    ndjson: bool = False,
    csv_out: bool = False,
    helpformat: bool = False,
    **selection: Any,
) -> None:
    """``jobacct sacct`` with its option values (the names of :func:`jobacct.cli.sacct.sacct`'s
    parameters, the same defaults): selects, reads and writes the lines to stdout.

    ``db_option`` is the root ``--db`` value (None: jobacct's precedence rule,
    :func:`jobacct.config.resolve_database_url`); ``selection`` holds the other selection
    options, those of :func:`build_filter` (``jobs``, ``users``, ``states``, ...). Called by
    the Typer command and by the Typer-free path (:mod:`jobacct.sacct_fastpath`), so both run
    exactly this.

    Raises:
        UsageError: a bad option value (field, job id, time, ...).
        DatabaseUnavailableError: a missing or unreadable store.
        JobAcctError: any other error of the store (one line, :func:`jobacct.errors.run_command`).
    """
    import sqlite3

    from jobacct import caller
    from jobacct.fastread import open_store, sqlite_url_path
    from jobacct.fields import (
        DEFAULT_FORMAT,
        LONG_FORMAT,
        Column,
        Ctx,
        FieldError,
        columns_read,
        resolve_format,
    )
    from jobacct.formats import OutputMode, output_mode, write_sacct
    from jobacct.query import FilterError, default_window, iter_lines
    from jobacct.slurmtime import parse_time
    from jobacct.splitread import Helpers

    out_mode = output_mode(
        json=json_out, ndjson=ndjson, csv=csv_out, parsable=parsable, parsable2=parsable2
    )
    if helpformat:
        _print_helpformat()
        return
    app_ctx = AppContext(db_option)
    now = _now()
    spec = ",".join(fmt) if fmt else ""
    if long and spec:
        raise UsageError(
            "Options -o(--format) and -l(--long) are mutually exclusive."
            " Please remove one and retry."
        )
    if brief:
        spec = ",".join(x for x in (spec, "jobid,state,exitcode") if x)
    if long:
        spec = ",".join(x for x in (spec, LONG_FORMAT) if x)
    if not spec:
        spec = os.environ.get("SACCT_FORMAT") or DEFAULT_FORMAT
    try:
        columns: list[Column] = resolve_format(spec)
    except FieldError as exc:
        raise UsageError(str(exc)) from exc
    f = build_filter(
        **selection,
        allocations=allocations,
        duplicates=duplicates,
        caller_uid=caller.caller_uid(),
        now=now,
    )
    f.visible = caller.read_scope()  # PrivateData=jobs through the daemon
    # as_mysql_jobacct_process.c: a -s list of PENDING alone sets only_pending, and slurmdbd
    # then reads no steps at all: no step lines, and the job lines' step sums are zero, as
    # with -X (JOBCOND_FLAG_NO_STEP).
    no_steps = allocations or f.states == ["PENDING"]
    f.allocations_only = no_steps
    # Real 22.05.8 sacct --json lists every record, as -D does: a requeued job's earlier
    # records and revoked federation siblings too (oracle test, tests/test_oracle.py).
    f.duplicates = duplicates or json_out or ndjson
    # --array is a print option: sacct's --json dumps each record once, whatever it says.
    f.truncate, f.expand_arrays = truncate, expand_array and not (json_out or ndjson)
    try:
        window = default_window(f, now, parse_time("today", now))
    except FilterError as exc:
        raise UsageError(str(exc)) from None
    render_ctx = Ctx(now=now, time_format=os.environ.get("SLURM_TIME_FORMAT"), allocations=no_steps)
    # --json/--ndjson print every column; the text formats only what their fields read.
    reads = None if (json_out or ndjson) else columns_read(columns)

    def write(conn: Any, out: TextIO | None = None, header: bool = not noheader) -> bool:
        return write_sacct(
            iter_lines(conn, f, window, now=now, reads=reads),
            out_mode,
            columns,
            render_ctx,
            delimiter=delimiter,
            header=header,
            out=out,
        )

    if out_mode is OutputMode.TABLE and isinstance(sys.stdout, io.TextIOWrapper):
        # Cells are cut by bytes (jobacct.render): a cut inside a UTF-8 character leaves its
        # leading bytes, written as they are, as sacct writes them.
        sys.stdout.reconfigure(errors="surrogateescape")

    def render_slice(conn: Any, out: TextIO) -> None:
        write(conn, out, header=False)

    def helpers_for(store: Any) -> Helpers:
        # Forked before the command opens the store (a connection must not cross a fork).
        return Helpers(
            store,
            render_slice,
            _read_processes(f, out_mode),
            encoding=sys.stdout.encoding or "utf-8",
            errors=sys.stdout.errors or "strict",
        )

    def write_shared(conn: Any, helpers: Helpers) -> None:
        # The command's slice, then the helpers' (if the reader is still there).
        conn.helpers = helpers
        try:
            if write(conn):
                helpers.finish(sys.stdout)
        finally:
            conn.close()

    url = app_ctx.url()
    path = sqlite_url_path(url)
    if path is not None:
        # A SQLite file: stdlib sqlite3, no SQLAlchemy (jobacct.fastread); a big read is
        # shared with helper processes (jobacct.splitread).
        with helpers_for(path) as helpers:
            try:
                write_shared(open_store(path), helpers)
            except sqlite3.OperationalError as exc:
                raise DatabaseUnavailableError(f"cannot use the database: {exc}") from exc
            except sqlite3.Error as exc:
                raise JobAcctError(f"database error: {exc}") from exc
        return
    # A plain PostgreSQL/MariaDB URL: the driver alone, no SQLAlchemy (jobacct.serverread);
    # a big listing with steps is shared as on SQLite, each process with its own connection.
    from jobacct.serverread import driver_params
    from jobacct.serverread import open_store as open_server_store

    if driver_params(url) is not None:

        def open_slice() -> Any:
            slice_store = open_server_store(url)
            if slice_store is None:  # the server went away since the command connected
                from sqlalchemy.engine import make_url

                shown = make_url(url).render_as_string(hide_password=True)
                raise DatabaseUnavailableError(f"cannot reach database {shown}")
            return slice_store

        with helpers_for(open_slice) as helpers:
            store = open_server_store(url)
            if store is not None:
                write_shared(store, helpers)
                return
    engine = app_ctx.engine()
    try:
        with engine.connect() as sa_conn:
            write(sa_conn)
    finally:
        engine.dispose()


def _read_processes(f: JobFilter, mode: OutputMode) -> int:
    """How many processes may share this read (jobacct.splitread: when it cannot change
    the bytes and may pay)."""
    # --json is one document (its commas and closing brackets would have to cross
    # processes); -j reads a handful of jobs. -X is split by submit time, for plain
    # listings only (jobacct.fastread.submit_slices).
    from jobacct.formats import OutputMode
    from jobacct.splitread import processes_wanted

    if f.selectors or mode is OutputMode.JSON or sys.stdout.isatty():
        return 1
    return processes_wanted()


def _print_helpformat() -> None:
    # sacct -e: every field name, four to a line, each %-19s, space-separated (golden 14_e).
    from jobacct.fields import FIELDS

    names = [f.name for f in FIELDS]
    for i in range(0, len(names), 4):
        sys.stdout.write(" ".join(f"{n:<19}" for n in names[i : i + 4]) + "\n")
