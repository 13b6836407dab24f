"""The ``job.superseded`` flag: a newer record of the same job id exists (migration 0008).

Without ``-D`` sacct shows only the newest record of a job id among the records the other
conditions select (slurm-semantics.md §4.8; :func:`jobacct.sqltext.where_sql`). That test is
a correlated ``NOT EXISTS`` per selected row; the flag lets the read skip it for the records
no newer record can hide, which is nearly all of them:

    superseded = a record of the same (cluster, JobIDRaw) with a later Submit exists, and
                 its State is not REVOKED

The read then asks ``NOT superseded OR NOT EXISTS (...)``, which selects exactly what the
``NOT EXISTS`` alone selects as long as the flag is never wrongly false (a wrongly true flag
would only cost speed). Every writer of job records keeps it so in the transaction that
writes them, by calling :func:`refresh` with the (cluster, JobIDRaw) pairs whose records it
inserted or whose State it changed: the bulk import path (:mod:`jobacct.bulkwrite`), the
row-by-row importers (:func:`jobacct.store.upsert_job`) and the controller shim
(:mod:`jobacct.shim.apply`). Refreshing recomputes the flag of every record of those job ids
from the records themselves, so the order in which records arrive (a requeue imported before
the run it replaced, shim events out of order, a re-import) does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Most job ids in one refresh statement (SQLite's parameter limit is 32766; small IN lists
#: plan as index lookups everywhere).
_BATCH = 500


def _newer_exists(q: str, table: str) -> str:
    """The flag's rule for the record ``table`` (a correlated subquery, SQLite/PostgreSQL)."""
    return (
        f"EXISTS (SELECT 1 FROM job AS newer WHERE newer.{q}cluster{q} = {table}.{q}cluster{q}"
        f" AND newer.{q}job_id_raw{q} = {table}.{q}job_id_raw{q}"
        f" AND newer.{q}time_submit{q} > {table}.{q}time_submit{q}"
        f" AND newer.{q}state{q} != 'REVOKED')"
    )


def refresh_sql(dialect: str, n_ids: int | None, mark: str = "?") -> str:
    """The statement that recomputes the flag of every record of some job ids of one cluster.

    Parameters, positional with the driver's ``mark``: the cluster, then ``n_ids`` JobIDRaw
    values. ``n_ids`` None: every record of the store (the migration's backfill; no
    parameters). Only rows whose flag changes are written.

    MariaDB refuses a subquery on the table an UPDATE writes (error 1093): there the newest
    non-revoked Submit of each job id comes from a grouped derived table, which it
    materializes first.
    """
    if dialect in ("mysql", "mariadb"):
        where_in = ""
        if n_ids is not None:
            ids = ", ".join([mark] * n_ids)
            where_in = f" AND cluster = {mark} AND job_id_raw IN ({ids})"
        newest = (
            "SELECT cluster, job_id_raw, max(time_submit) AS newest FROM job"
            f" WHERE state != 'REVOKED'{where_in} GROUP BY cluster, job_id_raw"
        )
        target = (
            "" if n_ids is None else f" WHERE job.cluster = {mark} AND job.job_id_raw IN ({ids})"
        )
        return (
            f"UPDATE job LEFT JOIN ({newest}) AS m"
            " ON m.cluster = job.cluster AND m.job_id_raw = job.job_id_raw"
            " SET job.superseded = coalesce(m.newest > job.time_submit, 0)"
            f"{target}"
        )
    rule = _newer_exists('"', "job")
    if n_ids is None:
        # A fresh column is false everywhere: only the superseded records are written.
        return f"UPDATE job SET superseded = {_true(dialect)} WHERE {rule}"
    ids = ", ".join([mark] * n_ids)
    return (
        f"UPDATE job SET superseded = {rule}"
        f" WHERE cluster = {mark} AND job_id_raw IN ({ids}) AND superseded != {rule}"
    )


def _true(dialect: str) -> str:
    return "true" if dialect == "postgresql" else "1"


def refresh(dbapi_connection: Any, dialect: str, keys: Iterable[tuple[str, int]]) -> None:
    """Recompute the flag of every record of the given (cluster, JobIDRaw) pairs.

    ``dbapi_connection`` is the driver's connection (sqlite3, psycopg, PyMySQL) inside the
    caller's transaction; ``dialect`` is SQLAlchemy's dialect name. Set-based: one UPDATE
    per cluster and batch of :data:`_BATCH` job ids.
    """
    by_cluster: dict[str, set[int]] = {}
    for cluster, job_id in keys:
        by_cluster.setdefault(cluster, set()).add(job_id)
    if not by_cluster:
        return
    mark = "?" if dialect == "sqlite" else "%s"
    mariadb = dialect in ("mysql", "mariadb")
    cursor = dbapi_connection.cursor()
    try:
        for cluster, id_set in sorted(by_cluster.items()):
            ids = sorted(id_set)
            for start in range(0, len(ids), _BATCH):
                batch = ids[start : start + _BATCH]
                params: tuple[Any, ...] = (cluster, *batch)
                if mariadb:
                    params = params + params
                cursor.execute(refresh_sql(dialect, len(batch), mark), params)
    finally:
        cursor.close()


def refresh_session(connection: Any, keys: Iterable[tuple[str, int]]) -> None:
    """:func:`refresh` through a SQLAlchemy :class:`~sqlalchemy.Connection` (its transaction)."""
    refresh(connection.connection.dbapi_connection, connection.dialect.name, keys)
