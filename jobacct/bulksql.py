"""The set-based statements of the bulk write path, one class per backend.

Each method takes an open SQLAlchemy connection inside the caller's transaction and talks to
the DBAPI driver directly (no per-row SQLAlchemy work): SQLite ``executemany`` of
``INSERT ... ON CONFLICT``, PostgreSQL ``COPY`` (psycopg 3) into a temporary staging table
followed by ``INSERT ... SELECT ... ON CONFLICT``, MariaDB ``executemany``, which PyMySQL
sends as multi-row ``INSERT ... VALUES (...), (...) ON DUPLICATE KEY UPDATE``.

Rows are column dicts with every column of the table (:data:`jobacct.bulkwrite.JOB_COLUMNS`
order); reads return the same shape plus ``id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Dialect

from jobacct.model import Job, Step

_JOB_COLUMNS = tuple(c.name for c in Job.__table__.columns if c.name != "id")
_STEP_COLUMNS = tuple(c.name for c in Step.__table__.columns if c.name != "id")
_JOB_KEY = ("cluster", "job_id_raw", "time_submit")
#: Most parameters of one IN list (SQLite's default limit is 32766; small lists plan well).
_IN_BATCH = 500


class BulkSQL:
    """Statements common to every backend; subclasses write the dialect's bulk forms."""

    #: The driver's placeholder.
    mark = "%s"

    def __init__(self, dialect: Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        self.q = quote
        self.job_cols = ", ".join(quote(c) for c in _JOB_COLUMNS)
        self.step_cols = ", ".join(quote(c) for c in _STEP_COLUMNS)
        self.job_tuple = itemgetter(*_JOB_COLUMNS)
        self.step_tuple = itemgetter(*_STEP_COLUMNS)
        self.step_id_tuple = itemgetter("id", *_STEP_COLUMNS)
        self.job_update_cols = [c for c in _JOB_COLUMNS if c not in _JOB_KEY]

    def _marks(self, n: int) -> str:
        return ", ".join([self.mark] * n)

    # ------------------------------------------------------------------ reads

    def find_jobs(
        self, conn: Any, keys: Sequence[tuple[str, int]], *, id_only: bool = False
    ) -> dict[tuple[str, int, int], dict[str, Any]]:
        """The stored jobs of the given (cluster, JobIDRaw) pairs, by full key.

        Every record of each JobIDRaw is returned (callers pick by Submit); ``id_only``
        reads only the key and id.
        """
        names = ("id", *(_JOB_KEY if id_only else _JOB_COLUMNS))
        select = ", ".join(self.q(c) for c in names)
        by_cluster: dict[str, set[int]] = {}
        for cluster, job_id in keys:
            by_cluster.setdefault(cluster, set()).add(job_id)
        found: dict[tuple[str, int, int], dict[str, Any]] = {}
        cursor = conn.connection.cursor()
        try:
            for cluster, ids in by_cluster.items():
                for where, params in _id_filter("job_id_raw", sorted(ids), self.mark):
                    cursor.execute(
                        f"SELECT {select} FROM job WHERE cluster = {self.mark} AND {where}",
                        (cluster, *params),
                    )
                    for values in cursor.fetchall():
                        row = dict(zip(names, values, strict=True))
                        if row["job_id_raw"] in ids:
                            found[(row["cluster"], row["job_id_raw"], row["time_submit"])] = row
        finally:
            cursor.close()
        return found

    def find_steps(self, conn: Any, job_pks: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """The stored steps of the given jobs (by job id), as column dicts with ``id``."""
        if not job_pks:
            return {}
        names = ("id", *_STEP_COLUMNS)
        select = ", ".join(self.q(c) for c in names)
        wanted = set(job_pks)
        found: dict[int, list[dict[str, Any]]] = {}
        cursor = conn.connection.cursor()
        try:
            for where, params in _id_filter("job_pk", sorted(wanted), self.mark):
                cursor.execute(f"SELECT {select} FROM step WHERE {where}", params)
                for values in cursor.fetchall():
                    row = dict(zip(names, values, strict=True))
                    if row["job_pk"] in wanted:
                        found.setdefault(row["job_pk"], []).append(row)
        finally:
            cursor.close()
        return found

    # ------------------------------------------------------------------ writes

    def upsert_jobs(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """Insert the jobs, or overwrite every non-key column of a stored one (same key)."""
        raise NotImplementedError

    def insert_steps(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """Insert new steps (their ``job_pk`` set)."""
        raise NotImplementedError

    def update_steps(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """Overwrite stored steps (rows carry their ``id``)."""
        raise NotImplementedError

    def _executemany(self, conn: Any, sql: str, params: Iterable[tuple[Any, ...]]) -> None:
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(sql, params)  # sqlite3 and PyMySQL take an iterator
        finally:
            cursor.close()


class SQLiteSQL(BulkSQL):
    """SQLite: stdlib ``executemany`` of ``INSERT ... ON CONFLICT DO UPDATE``."""

    mark = "?"

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        q = self.q
        set_jobs = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in self.job_update_cols)
        self.upsert_job_sql = (
            f"INSERT INTO job ({self.job_cols}) VALUES ({self._marks(len(_JOB_COLUMNS))})"
            f" ON CONFLICT (cluster, job_id_raw, time_submit) DO UPDATE SET {set_jobs}"
        )
        self.insert_step_sql = (
            f"INSERT INTO step ({self.step_cols}) VALUES ({self._marks(len(_STEP_COLUMNS))})"
        )
        set_steps = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in _STEP_COLUMNS)
        self.update_step_sql = (
            f"INSERT INTO step (id, {self.step_cols})"
            f" VALUES ({self._marks(len(_STEP_COLUMNS) + 1)})"
            f" ON CONFLICT (id) DO UPDATE SET {set_steps}"
        )

    def upsert_jobs(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """See :meth:`BulkSQL.upsert_jobs`."""
        self._executemany(conn, self.upsert_job_sql, map(self.job_tuple, rows))

    def insert_steps(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """See :meth:`BulkSQL.insert_steps`."""
        self._executemany(conn, self.insert_step_sql, map(self.step_tuple, rows))

    def update_steps(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """See :meth:`BulkSQL.update_steps`."""
        self._executemany(conn, self.update_step_sql, map(self.step_id_tuple, rows))


class MariaDBSQL(BulkSQL):
    """MariaDB/MySQL: PyMySQL turns ``executemany`` into multi-row ``INSERT`` statements."""

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        q = self.q
        set_jobs = ", ".join(f"{q(c)} = VALUES({q(c)})" for c in self.job_update_cols)
        self.upsert_job_sql = (
            f"INSERT INTO job ({self.job_cols}) VALUES ({self._marks(len(_JOB_COLUMNS))})"
            f" ON DUPLICATE KEY UPDATE {set_jobs}"
        )
        self.insert_step_sql = (
            f"INSERT INTO step ({self.step_cols}) VALUES ({self._marks(len(_STEP_COLUMNS))})"
        )
        set_steps = ", ".join(f"{q(c)} = VALUES({q(c)})" for c in _STEP_COLUMNS)
        self.update_step_sql = (
            f"INSERT INTO step (id, {self.step_cols})"
            f" VALUES ({self._marks(len(_STEP_COLUMNS) + 1)})"
            f" ON DUPLICATE KEY UPDATE {set_steps}"
        )

    upsert_jobs = SQLiteSQL.upsert_jobs
    insert_steps = SQLiteSQL.insert_steps
    update_steps = SQLiteSQL.update_steps


class PostgreSQLSQL(BulkSQL):
    """PostgreSQL: psycopg 3 ``COPY`` into staging tables, then ``INSERT ... ON CONFLICT``."""

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        q = self.q
        set_jobs = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in self.job_update_cols)
        self.upsert_job_sql = (
            f"INSERT INTO job ({self.job_cols}) SELECT {self.job_cols} FROM jobacct_job_stage"
            f" ON CONFLICT (cluster, job_id_raw, time_submit) DO UPDATE SET {set_jobs}"
        )
        set_steps = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in _STEP_COLUMNS)
        self.update_step_sql = (
            f"INSERT INTO step (id, {self.step_cols})"
            f" SELECT id, {self.step_cols} FROM jobacct_step_stage"
            f" ON CONFLICT (id) DO UPDATE SET {set_steps}"
        )

    def _copy(
        self, cursor: Any, target: str, columns: str, rows: Iterable[tuple[Any, ...]]
    ) -> None:
        with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def upsert_jobs(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """See :meth:`BulkSQL.upsert_jobs`."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS jobacct_job_stage ON COMMIT DELETE ROWS AS"
                f" SELECT {self.job_cols} FROM job WITH NO DATA"
            )
            self._copy(cursor, "jobacct_job_stage", self.job_cols, map(self.job_tuple, rows))
            cursor.execute(self.upsert_job_sql)
        finally:
            cursor.close()

    def insert_steps(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """See :meth:`BulkSQL.insert_steps`."""
        cursor = conn.connection.cursor()
        try:
            self._copy(cursor, "step", self.step_cols, map(self.step_tuple, rows))
        finally:
            cursor.close()

    def update_steps(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """See :meth:`BulkSQL.update_steps`."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS jobacct_step_stage ON COMMIT DELETE ROWS AS"
                f" SELECT id, {self.step_cols} FROM step WITH NO DATA"
            )
            self._copy(
                cursor, "jobacct_step_stage", f"id, {self.step_cols}", map(self.step_id_tuple, rows)
            )
            cursor.execute(self.update_step_sql)
        finally:
            cursor.close()


def for_dialect(dialect: Dialect) -> BulkSQL:
    """The statements for an engine's dialect (sqlite, postgresql, mysql/mariadb).

    Raises:
        ValueError: another backend.
    """
    if dialect.name == "sqlite":
        return SQLiteSQL(dialect)
    if dialect.name == "postgresql":
        return PostgreSQLSQL(dialect)
    if dialect.name in ("mysql", "mariadb"):
        return MariaDBSQL(dialect)
    raise ValueError(f"no bulk writer for {dialect.name}")


def _id_filter(column: str, ids: list[int], mark: str) -> Iterable[tuple[str, tuple[int, ...]]]:
    """WHERE conditions covering sorted ``ids``: one BETWEEN where they are dense (the
    caller drops the extra rows), else IN lists of at most ``_IN_BATCH``."""
    if not ids:
        return
    if ids[-1] - ids[0] < 4 * len(ids) + 64:
        yield f"{column} BETWEEN {mark} AND {mark}", (ids[0], ids[-1])
        return
    for start in range(0, len(ids), _IN_BATCH):
        batch = ids[start : start + _IN_BATCH]
        yield f"{column} IN ({', '.join([mark] * len(batch))})", tuple(batch)
