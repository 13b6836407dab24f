"""Reading a PostgreSQL or MariaDB store with the driver alone: ``jobacct sacct``'s lean path.

What :mod:`jobacct.fastread` is for a SQLite file, this is for the servers (tracker issue 16:
through SQLAlchemy a one-job lookup on PostgreSQL took 0.69 s, most of it importing and
setting up SQLAlchemy; a day's ``-X`` listing 1.69 s against 0.48 s on SQLite). A plain
``postgresql+psycopg://`` or ``mysql+pymysql://`` URL (:func:`driver_params`) is opened with
psycopg / PyMySQL directly, the schema checked with one SELECT on ``alembic_version``
(:func:`jobacct.migrate.check_revision`), and the lines read with the one joined statement of
:func:`jobacct.sqltext.joined_lines_sql`, the very text the SQLAlchemy path runs, through a
server-side cursor (psycopg: a named cursor; PyMySQL: ``SSCursor``), so memory stays flat.
The driver returns the same values SQLAlchemy's ``text()`` hands back (no type processing
there either), so the output is the same byte for byte.

Any other URL (a query string, another driver, a socket path) goes through SQLAlchemy as
before, and so does a server that refuses the connection (its error message is SQLAlchemy's).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from jobacct.sqltext import ELIGIBLE_RANGE_SQL, covers_most, joined_lines_sql, plain_listing

#: Rows fetched per round trip of a server-side cursor.
BATCH = 2000

_SCHEMES = {"postgresql+psycopg": "postgresql", "mysql+pymysql": "mysql"}
#: PostgreSQL session settings of a read. The newest-record subquery makes the planner's
#: cost estimate of a day's listing huge, which turns on JIT compilation: 0.63 s of the
#: 0.78 s the statement took (EXPLAIN ANALYZE on a million jobs), for a statement that runs
#: once. Without it the executor interprets, as it does for every cheaper plan.
SESSION_SETUP = "SET jit = off"
#: user[:password]@host[:port]/database, nothing else (the parts URL-escaped as SQLAlchemy's).
_PLAIN = re.compile(r"[^/?#]*/[^/?#]+")


def driver_params(url: str) -> tuple[str, dict[str, Any]] | None:
    """``(dialect, connect keyword arguments)`` of a plain server URL, else None.

    Plain: ``postgresql+psycopg://`` or ``mysql+pymysql://``, a host, a database, at most a
    user, password and port, and no query string or fragment.
    """
    scheme, sep, rest = url.partition("://")
    dialect = _SCHEMES.get(scheme)
    if dialect is None or not sep or not _PLAIN.fullmatch(rest):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    params: dict[str, Any] = {"host": parts.hostname}
    if port is not None:
        params["port"] = port
    if parts.username is not None:
        params["user"] = unquote(parts.username)
    if parts.password is not None:
        params["password"] = unquote(parts.password)
    database = unquote(parts.path[1:])
    if dialect == "postgresql":
        params["dbname"] = database
    else:
        # make_engine's choice for MariaDB (jobacct.config).
        params.update(database=database, charset="utf8mb4")
    return dialect, params


@dataclass
class ServerStore:
    """An open driver connection to a store at head (:func:`open_store`)."""

    dialect: str
    connection: Any
    columns: dict[str, list[str]] = field(default_factory=dict)

    def close(self) -> None:
        """Close the connection (ends the read transaction)."""
        with contextlib.suppress(Exception):
            self.connection.close()


def open_store(url: str) -> ServerStore | None:
    """The store behind a plain server URL, checked to be at head; None when the lean path
    does not apply (not a plain URL, driver missing, server refusing the connection).

    Raises:
        SchemaOutdatedError: schema behind or ahead of this version (or none).
    """
    from jobacct.migrate import VERSION_TABLE, check_revision, several_heads_error

    found = driver_params(url)
    if found is None:
        return None
    dialect, params = found
    try:
        if dialect == "postgresql":
            import psycopg

            connection: Any = psycopg.connect(**params)
            schema = "current_schema()"
        else:
            import pymysql

            connection = pymysql.connect(**params)
            schema = "DATABASE()"
    except Exception:
        return None
    store = ServerStore(dialect, connection)
    try:
        cursor = connection.cursor()
        if dialect == "postgresql":
            cursor.execute(SESSION_SETUP)
        cursor.execute(
            "SELECT 1 FROM information_schema.tables"
            f" WHERE table_schema = {schema} AND table_name = %s",
            (VERSION_TABLE,),
        )
        rows = []
        if cursor.fetchone():
            cursor.execute(f"SELECT version_num FROM {VERSION_TABLE}")
            rows = [str(r[0]) for r in cursor.fetchall()]
        cursor.close()
        if len(rows) > 1:
            raise several_heads_error(rows)
        check_revision(rows[0] if rows else None)
    except BaseException:
        store.close()
        raise
    return store


def table_columns(store: ServerStore, table: str) -> list[str]:
    """The column names of ``table`` in schema order (read once per connection)."""
    if table not in store.columns:
        cursor = store.connection.cursor()
        cursor.execute(f"SELECT * FROM {table} WHERE 1 = 0")
        store.columns[table] = [d[0] for d in cursor.description]
        cursor.fetchall()
        cursor.close()
    return store.columns[table]


def _driver_sql(sql: str, params: dict[str, Any]) -> str:
    """``:pN`` placeholders as both drivers take them (``%(pN)s``); ``%`` doubled."""
    return re.sub(r":(p\d+)\b", r"%(\1)s", sql.replace("%", "%%"))


#: MariaDB: the window's index, named (see :func:`_job_source`).
_WINDOW_INDEX = "job FORCE INDEX (ix_job_time_eligible_time_end)"


def job_source(store: ServerStore, f: Any, start: int, end: int) -> str:
    """``FROM``'s name for ``job``: MariaDB is told to use the window's index for a plain
    listing of less than most of the store.

    Its optimizer sees "eligible before the window's end" match half the rows of a day in
    mid-month and scans the whole table (1.36 s for a day of a million jobs); the index
    range, with the end-time test on the index entries (index condition pushdown), reads
    only the index: 0.38 s. PostgreSQL's bitmap scan does that on its own.
    """
    if store.dialect != "mysql" or not plain_listing(f):
        return "job"
    cursor = store.connection.cursor()
    try:
        cursor.execute(ELIGIBLE_RANGE_SQL)
        low, high = cursor.fetchone()
    finally:
        cursor.close()
    return "job" if covers_most(start, end, low, high) else _WINDOW_INDEX


def read_groups(
    store: ServerStore,
    f: Any,
    start: int,
    end: int,
    job_columns: Sequence[str],
    step_columns: Sequence[str],
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """``(job values, [step values...])`` in sacct's order, as
    :func:`jobacct.fastread.read_lines` gives them (see there), from one joined statement.

    ``-j`` lookups (a handful of rows) use a plain cursor, everything else a server-side one.
    """
    from jobacct.query import group_joined_rows

    if f.allocations_only:
        step_columns = []
    conn = store.connection
    sql, params = joined_lines_sql(
        f, start, end, job_columns, step_columns, store.dialect, job_source(store, f, start, end)
    )
    small = bool(f.selectors)
    if store.dialect == "postgresql":
        cursor = conn.cursor() if small else conn.cursor(name="jobacct_sacct")
    else:
        import pymysql.cursors

        cursor = conn.cursor() if small else conn.cursor(pymysql.cursors.SSCursor)
    try:
        cursor.execute(_driver_sql(sql, params), params)

        def rows() -> Iterator[tuple[Any, ...]]:
            while batch := cursor.fetchmany(BATCH):
                yield from batch

        yield from group_joined_rows(rows(), len(job_columns), step_columns)
    finally:
        with contextlib.suppress(Exception):  # connection closed first, or reader gone
            cursor.close()
        with contextlib.suppress(Exception):
            conn.rollback()  # ends the read transaction
