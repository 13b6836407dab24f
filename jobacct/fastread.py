"""Reading a SQLite store with the standard library only: ``jobacct sacct``'s fast path.

``sacct`` on a SQLite file never imports SQLAlchemy (about 0.45 s of start-up on the
project's 2-core machines, tracker issue 3): the file is opened with :mod:`sqlite3`, the
schema checked with one SELECT on ``alembic_version`` (:func:`jobacct.migrate.check_revision`),
and the lines read with the SQL of :mod:`jobacct.sqltext`, the same text the server path
runs through SQLAlchemy.

Reading is two statements in one read transaction (one snapshot), because on this store the
cost is in the cells sqlite3 hands to Python (about 0.3 µs each), not in finding rows:

1. the ids of the selected jobs, in sacct's order (§4.8), go into a temporary table whose
   rowid is the position (one evaluation of the WHERE, one narrow sort);
2. the job columns are read through it (by rowid: no sort), and the step columns of the same
   jobs through it and the ``(job_pk, step_id, step_het_component)`` index (no sort), and the
   two streams are merged. Job columns are read once per job instead of once per step row,
   and no wide row goes through a sorter (the joined statement sorted ~120 columns).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from jobacct.config import check_reachable, missing_store
from jobacct.errors import DatabaseUnavailableError, JobAcctError
from jobacct.sqltext import (
    ELIGIBLE_RANGE_SQL,
    Sql,
    covers_most,
    order_sql,
    plain_listing,
    select_list,
    span_sql,
    step_join_sql,
    step_order_sql,
    submit_range_sql,
    where_sql,
)

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from typing import Any

    from jobacct.splitread import SubmitRange

#: The temporary table of one read (connection-private; dropped when the read ends).
_SEL = "temp.jobacct_sel"

#: Rows fetched per ``fetchmany`` call.
BATCH = 1000
#: The steps of every job of a read without steps (one shared empty list, never changed).
_NO_STEPS: list[tuple[Any, ...]] = []


class StoreConnection(sqlite3.Connection):
    """A store connection that may share a big read with helper processes.

    ``helpers``: a :class:`jobacct.splitread.Helpers` the selection is split with (the
    command's connection). ``preselected``: the job ids to read, in order, instead of
    evaluating the filter (a helper's connection, given its slice of a listing with steps).
    ``submit_range``: only the jobs submitted in this range (a helper's slice of a listing
    without steps, :func:`submit_slices`).
    """

    helpers: Any = None
    preselected: Sequence[int] | None = None
    submit_range: SubmitRange | None = None
    columns: dict[str, list[str]] | None = None


def sqlite_url_path(url: str) -> str | None:
    """The file of a plain ``sqlite:///PATH`` URL (``PATH`` as written), or None for anything
    else.

    Anything else (servers, in-memory databases, URLs with a query string or ``%`` escapes,
    ``sqlite+driver://``) goes through SQLAlchemy as before.
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or "%" in url:
        return None
    path = url[len(prefix) :]
    if path in ("", ":memory:"):
        return None
    return path


def connect(path: str | os.PathLike[str]) -> StoreConnection:
    """Open an existing store for reading, as :func:`jobacct.config.make_engine` would.

    Raises:
        DatabaseUnavailableError: if the file does not exist (never creates one).
    """
    check_reachable(path)
    if not os.path.exists(path):
        raise missing_store(path)
    # Autocommit mode: transactions are begun explicitly (read_lines), as the SQLAlchemy
    # engine's "begin" event does.
    conn = sqlite3.connect(
        path, timeout=30, isolation_level=None, check_same_thread=False, factory=StoreConnection
    )
    conn.execute("PRAGMA busy_timeout=30000")
    conn.columns = {}
    # temp_store stays the build's default (files): in memory, SQLite's sorter keeps all of
    # a big ORDER BY there too (a month -X: 89 MiB instead of 25 MiB), for no speed gain.
    return conn


def revision(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision of the store (None: no version table, or an empty one).

    Raises:
        JobAcctError: (SchemaOutdatedError) if the table holds several revisions.
    """
    from jobacct.migrate import VERSION_TABLE, several_heads_error

    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
    ).fetchone()
    if not has_table:
        return None
    rows = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
    if not rows:
        return None
    if len(rows) > 1:
        raise several_heads_error([str(r[0]) for r in rows])
    return str(rows[0][0])


def open_store(path: str | os.PathLike[str]) -> StoreConnection:
    """:func:`connect` plus the schema check every command makes.

    Raises:
        DatabaseUnavailableError: missing file, or a file SQLite cannot read.
        SchemaOutdatedError: schema behind or ahead of this version (or none).
    """
    from jobacct.migrate import check_revision

    conn = connect(path)
    try:
        check_revision(revision(conn))
    except sqlite3.Error as exc:
        conn.close()
        from pathlib import Path  # as the message read when paths were Path objects

        raise DatabaseUnavailableError(
            f"cannot reach database sqlite:///{Path(path)}: {exc}"
        ) from exc
    except JobAcctError:
        conn.close()
        raise
    return conn


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """The column names of ``table`` in schema order (kept per connection: the daemon reads
    through one connection thousands of times, and the schema of a store at head is fixed)."""
    cache: dict[str, list[str]] | None = getattr(conn, "columns", None)
    if cache is not None and table in cache:
        return cache[table]
    names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    if cache is not None:
        cache[table] = names
    return names


def selection_sql(
    f: Any, start: int, end: int, span: int | None = None, hint: str = ""
) -> tuple[str, dict[str, Any]]:
    """The ids of the jobs ``f`` selects in ``[start, end)``, in sacct's order (§4.8).

    ``span``: see :func:`jobacct.sqltext.where_sql` (:func:`read_span` reads it); ``hint``:
    see :func:`order_hint`.
    """
    q = Sql()
    where = where_sql(q, f, start, end, span)
    return f"SELECT job.id FROM {hint or 'job WHERE'} {where} ORDER BY {order_sql(q)}", q.params


#: A read in sacct's order through migration 0008's ``ix_job_sacct_order``: ``FROM`` it
#: ``WHERE`` the condition that makes the planner consider it at all. The index is partial
#: (``WHERE superseded IS NOT NULL``, every row): no other statement implies that, so the
#: planner never picks it on its own (without statistics it would, for any ORDER BY).
ORDER_INDEX = "job INDEXED BY ix_job_sacct_order WHERE job.superseded IS NOT NULL AND"


def order_hint(conn: sqlite3.Connection, f: Any, start: int, end: int, span: int | None) -> str:
    """:data:`ORDER_INDEX` where a plain listing covers most of the store, else ``""``
    (the text between ``FROM`` and the conditions: ``"job WHERE"`` when empty).

    Such a listing reads most rows whatever the index, and then the temporary B-tree that
    sorts them into sacct's order costs more than the reading (a month of a million jobs:
    1.41 s with the window's indexes and the sort, 0.89 s walking ``ix_job_sacct_order``,
    bench/RESULTS.md). SQLite's planner, which cannot see how much of the store a window
    covers without STAT4, keeps the window's indexes. The share is that of the eligible-time
    range (two index probes), the window widened by ``span`` as :func:`where_sql` widens it.
    """
    if span is None or not plain_listing(f):
        return ""
    low, high = conn.execute(ELIGIBLE_RANGE_SQL).fetchone()
    return ORDER_INDEX if covers_most(start - span, end, low, high) else ""


def jobs_only_sql(
    f: Any,
    start: int,
    end: int,
    job_columns: Sequence[str],
    span: int | None,
    hint: str = "",
    submit_range: SubmitRange | None = None,
) -> tuple[str, dict[str, Any]]:
    """The one statement of a read without steps (``-X``): the job columns in sacct's order.

    ``span``/``hint``: as for :func:`selection_sql`; ``submit_range``: only the jobs
    submitted in ``[low, high)`` (a slice of a shared read, :func:`submit_slices`).
    """
    q = Sql()
    where = where_sql(q, f, start, end, span) + submit_range_sql(q, submit_range)
    sql = (
        f"SELECT {select_list(q, 'job', job_columns)} FROM {hint or 'job WHERE'} {where}"
        f" ORDER BY {order_sql(q)}"
    )
    return sql, q.params


def submit_slices(
    conn: sqlite3.Connection, f: Any, start: int, end: int, helpers: Any, hint: str
) -> SubmitRange | None:
    """Share a read without steps with ``helpers`` by submit time
    (:meth:`jobacct.splitread.Helpers.split_by_submit_time`); returns the command's range,
    or None (not shared).

    Only a listing read in sacct's order from ``ix_job_sacct_order`` (``hint``: most of the
    store), where each process walks the index over its own range of submit times. A
    shorter window is read through the window's indexes, which know nothing of submit
    times: every process would read the whole window to keep its part, and the share of
    the formatting it saves no longer pays (a day's -X: 256 ms alone, 264 ms shared;
    hyperfine, bench/RESULTS.md's store).
    """

    def scalar(sql: str, params: dict[str, int]) -> int | None:
        row = conn.execute(sql, params).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    plain = plain_listing(f) and bool(hint)
    return helpers.split_by_submit_time(plain, start, end, scalar)  # type: ignore[no-any-return]


def read_span(conn: sqlite3.Connection, f: Any) -> int | None:
    """The largest ``time_end - time_eligible`` of the store (seconds), if ``f`` can use it.

    Read in the caller's transaction, so the bound holds for the rows the selection then
    reads. None where it does not apply (:func:`jobacct.sqltext.span_sql`) or no ended job
    has an eligible time.
    """
    sql = span_sql(f)
    if sql is None:
        return None
    value = conn.execute(sql).fetchone()[0]
    return None if value is None else int(value)


def merged_sql(
    start: int, end: int, job_columns: Sequence[str], step_columns: Sequence[str]
) -> tuple[str, str, dict[str, Any]]:
    """The job and step statements read through the selection table, and their parameters.

    Both walk the table in rowid (sacct) order; the steps come through the step table's
    ``(job_pk, step_id, step_het_component)`` index, so neither statement sorts.
    """
    q = Sql()
    jobs = (
        f"SELECT {select_list(q, 'job', job_columns)} FROM {_SEL} AS sel"
        " JOIN job ON job.id = sel.id ORDER BY sel.seq"
    )
    steps = (
        f"SELECT sel.id, {select_list(q, 'step', step_columns)} FROM {_SEL} AS sel"
        f" JOIN step ON step.job_pk = sel.id AND {step_join_sql(q, start, end)}"
        f" ORDER BY sel.seq, {step_order_sql(q)}"
    )
    return jobs, steps, q.params


def _empty_selection(conn: sqlite3.Connection) -> None:
    """The connection's selection table, empty: ``seq`` (its rowid) is the order.

    Made once per connection and emptied after each read, not dropped: creating or dropping
    a table changes the connection's schema, which makes SQLite prepare every cached
    statement again (the daemon reuses its connections for thousands of lookups).

    The table gets a statistics row saying it is small. Without statistics SQLite guesses
    a big table and puts a Bloom filter on the step join, built by reading the whole step
    index on every read (5 ms for a single job on a 3,000-job store, growing with the
    store); with it, the plan is the one a big read uses anyway (scan the selection, look
    its steps up by index), at the same speed.
    """
    exists = conn.execute(
        "SELECT 1 FROM temp.sqlite_master WHERE type = 'table' AND name = ?", (_SEL[5:],)
    ).fetchone()
    if exists:
        conn.execute(f"DELETE FROM {_SEL}")
        return
    conn.execute(f"CREATE TABLE {_SEL} (seq INTEGER PRIMARY KEY, id INTEGER NOT NULL)")
    conn.execute(f"ANALYZE {_SEL}")  # makes temp.sqlite_stat1 (no row: the table is empty)
    conn.execute("INSERT INTO temp.sqlite_stat1 VALUES (?, NULL, '10')", (_SEL[5:],))
    conn.execute("ANALYZE temp.sqlite_schema")  # load it


def create_selection(conn: sqlite3.Connection, f: Any, start: int, end: int) -> None:
    """(Re)fill the connection's selection table (call inside a transaction)."""
    _empty_selection(conn)
    span = read_span(conn, f)
    sql, params = selection_sql(f, start, end, span, order_hint(conn, f, start, end, span))
    conn.execute(f"INSERT INTO {_SEL} (id) {sql}", params)


def fill_selection(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    """(Re)fill the selection table with given job ids, in the given order."""
    _empty_selection(conn)
    conn.executemany(f"INSERT INTO {_SEL} (id) VALUES (?)", ((i,) for i in ids))


def read_lines(
    conn: sqlite3.Connection,
    f: Any,
    start: int,
    end: int,
    job_columns: Sequence[str],
    step_columns: Sequence[str],
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Stream ``(job values, [step values...])`` in sacct's order, steps in step order.

    ``f`` is a :class:`jobacct.query.JobFilter` and ``[start, end)`` its window (epoch
    seconds). Values are in the order of ``job_columns`` / ``step_columns``; ``job_columns``
    must start with ``id``. With ``f.allocations_only`` or no ``step_columns`` every step
    list is empty. Memory stays flat: rows are fetched in batches of :data:`BATCH`.
    """
    if f.allocations_only or not step_columns:
        conn.execute("BEGIN")  # the span and the rows from one snapshot
        cursor = None
        try:
            span = read_span(conn, f)
            hint = order_hint(conn, f, start, end, span)
            submit_range = getattr(conn, "submit_range", None)
            helpers = getattr(conn, "helpers", None)
            if submit_range is None and helpers is not None:
                submit_range = submit_slices(conn, f, start, end, helpers, hint)
            sql, params = jobs_only_sql(f, start, end, job_columns, span, hint, submit_range)
            cursor = conn.execute(sql, params)
            while batch := cursor.fetchmany(BATCH):
                for job in batch:
                    yield job, _NO_STEPS
        finally:
            with contextlib.suppress(sqlite3.ProgrammingError):  # connection closed first
                if cursor is not None:
                    cursor.close()
                conn.execute("COMMIT")
        return
    conn.execute("BEGIN")
    try:
        preselected = getattr(conn, "preselected", None)
        if preselected is not None:
            fill_selection(conn, preselected)
        else:
            create_selection(conn, f, start, end)
            helpers = getattr(conn, "helpers", None)
            if helpers is not None:
                helpers.split(conn, _SEL)
        yield from _merged(conn, start, end, job_columns, step_columns)
    finally:
        # Ends the read transaction whether or not the caller read to the end.
        with contextlib.suppress(sqlite3.ProgrammingError):  # connection closed first
            conn.execute(f"DELETE FROM {_SEL}")
            conn.execute("COMMIT")


def _merged(
    conn: sqlite3.Connection,
    start: int,
    end: int,
    job_columns: Sequence[str],
    step_columns: Sequence[str],
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    job_sql, step_sql, params = merged_sql(start, end, job_columns, step_columns)
    jobs = conn.execute(job_sql)
    steps = conn.execute(step_sql, params)
    try:
        pending: list[tuple[Any, ...]] = steps.fetchmany(BATCH)
        pos = 0
        while batch := jobs.fetchmany(BATCH):
            for job in batch:
                job_id = job[0]
                mine: list[tuple[Any, ...]] = []
                # Steps come in the jobs' order: take those of this job off the front.
                while pending:
                    if pos == len(pending):
                        pending, pos = steps.fetchmany(BATCH), 0
                        if not pending:
                            break
                    row = pending[pos]
                    if row[0] != job_id:
                        break
                    mine.append(row[1:])
                    pos += 1
                yield job, mine
    finally:
        # Statements still reading the selection table would keep it from being dropped
        # when the caller stops early (| head).
        for cursor in (jobs, steps):
            with contextlib.suppress(sqlite3.ProgrammingError):  # connection closed first
                cursor.close()
