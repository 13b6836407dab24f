"""Running a report's SQL on either connection kind, and the scope as SQL text.

Statements are text with named parameters (:class:`jobacct.sqltext.Sql`), which stdlib
:mod:`sqlite3` and SQLAlchemy's ``text()`` both accept: on a SQLite file the report runs on
:mod:`sqlite3` without importing SQLAlchemy (about half a second of start-up, tracker issue
3; :mod:`jobacct.fastread`), on servers through SQLAlchemy. Only identifier quoting differs
(``partition`` is reserved in MariaDB).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Iterator, Sequence
from typing import Any

from jobacct.report.scope import Scope
from jobacct.sqltext import Sql, quote_char
from jobacct.users import numeric_id

#: Rows fetched per ``fetchmany`` call on sqlite3.
BATCH = 2000


def new_sql(conn: Any) -> Sql:
    """A statement builder quoting identifiers for ``conn``'s database."""
    if isinstance(conn, sqlite3.Connection):
        return Sql(quote_char("sqlite"))
    return Sql(quote_char(conn.dialect.name))


def columns(q: Sql, names: Sequence[str]) -> str:
    """``job."a" AS "a", ...`` for a select list."""
    return ", ".join(f"{q.col('job', n)} AS {q.quote}{n}{q.quote}" for n in names)


def scope_sql(q: Sql, scope: Scope) -> list[str]:
    """SQL conditions on ``job`` for the filters (numbers in ``users`` are uids)."""
    out: list[str] = []
    if scope.clusters is not None:
        out.append(q.in_(q.col("job", "cluster"), scope.clusters))
    if scope.accounts is not None:
        out.append(q.in_(q.col("job", "account"), scope.accounts))
    if scope.partitions is not None:
        out.append(q.in_(q.col("job", "partition"), scope.partitions))
    if scope.users is not None:
        ids = [numeric_id(u) for u in scope.users]
        uids = [i for i in ids if i is not None]
        names = [u for u, i in zip(scope.users, ids) if i is None]
        out.append(
            f"({q.in_(q.col('job', 'uid'), uids)} OR {q.in_(q.col('job', 'user_name'), names)})"
        )
    return out


def fetch(conn: Any, sql: str, params: dict[str, Any]) -> Iterator[Any]:
    """Run ``sql`` and yield rows whose columns are attributes (``r.state``)."""
    if isinstance(conn, sqlite3.Connection):
        cursor = conn.execute(sql, params)
        row_type = namedtuple("Row", [d[0] for d in cursor.description])  # type: ignore[misc]
        while batch := cursor.fetchmany(BATCH):
            yield from map(row_type._make, batch)
        return
    from sqlalchemy import text

    yield from conn.execute(text(sql), params)
