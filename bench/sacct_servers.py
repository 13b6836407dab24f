"""The PostgreSQL and MariaDB stores of bench/bench_sacct.py: the same rows as its SQLite store.

Each is a database of its own on the server the tests use (``jobacct_bench_sacct``), migrated
to head with :func:`jobacct.migrate.upgrade`, loaded with the rows ``bench_sacct.generate``
makes for the SQLite store (same seed, same clock: identical records), built once and reused
while its ``bench_build`` marker says it holds them. Loading goes around jobacct, through the
driver: secondary indexes dropped, PostgreSQL ``COPY`` / MariaDB multi-row ``INSERT`` (PyMySQL's
``executemany``) of 50,000 jobs per transaction, indexes built again, then ``ANALYZE``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

ADMIN_URLS = {
    "postgresql": os.environ.get(
        "JOBACCT_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "JOBACCT_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
    ),
}
DATABASE = "jobacct_bench_sacct"
MARKER = "bench_build"


def store_url(kind: str) -> str:
    """The bench store's SQLAlchemy URL on ``kind``'s server."""
    from sqlalchemy.engine import make_url

    url = make_url(ADMIN_URLS[kind]).set(database=DATABASE)
    return url.render_as_string(hide_password=False)


def _admin(kind: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(ADMIN_URLS[kind], isolation_level="AUTOCOMMIT")


def reachable(kind: str) -> str | None:
    """None if the server answers, else why not (one line)."""
    from sqlalchemy import text

    engine = _admin(kind)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"{kind} server not reachable at {ADMIN_URLS[kind]}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()


#: The InnoDB buffer pool Slurm asks of an accounting database's server: "at least 4 GiB"
#: (accounting.html, MySQL Configuration); slurmdbd itself logs "Database settings not
#: recommended values" only below 512 MiB (half the 1 GiB its check names:
#: accounting_storage_mysql.c, _check_database_variables).
#: MariaDB's default is 128 MiB, in which a million jobs' rows and indexes (1.4 GiB here)
#: are read from the page cache page by page: a user's week, 32,000 rows, took 0.33 s to
#: read by primary key with it, against 0.03 s with 4 GiB.
SLURM_BUFFER_POOL = 4 << 30


@contextlib.contextmanager
def slurm_settings(kind: str) -> Iterator[str | None]:
    """The server set as a Slurm site sets it, for the duration; yields what was changed (a
    line for the report) or None. MariaDB: ``innodb_buffer_pool_size`` raised to
    :data:`SLURM_BUFFER_POOL` (online) and put back afterwards."""
    if kind != "mariadb":
        yield None
        return
    from sqlalchemy import text

    engine = _admin(kind)
    try:
        with engine.connect() as conn:
            before = int(conn.execute(text("SELECT @@innodb_buffer_pool_size")).scalar_one())
            if before >= SLURM_BUFFER_POOL:
                yield f"innodb_buffer_pool_size {before >> 20} MiB (at least Slurm's 4096 MiB)"
                return
            conn.execute(text(f"SET GLOBAL innodb_buffer_pool_size = {SLURM_BUFFER_POOL}"))
            try:
                yield (
                    f"innodb_buffer_pool_size raised from {before >> 20} MiB to Slurm's"
                    f" recommended {SLURM_BUFFER_POOL >> 20} MiB for the run, then put back"
                )
            finally:
                conn.execute(text(f"SET GLOBAL innodb_buffer_pool_size = {before}"))
    finally:
        engine.dispose()


def built_with(kind: str) -> dict[str, float] | None:
    """The marker of a complete store (its build figures), or None."""
    from sqlalchemy import create_engine, text

    engine = create_engine(store_url(kind))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT k, v FROM {MARKER}")).all()
        return {str(k): float(v) for k, v in rows} or None
    except Exception:
        return None
    finally:
        engine.dispose()


def build(
    kind: str,
    chunks: Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]],
    job_columns: Sequence[str],
    step_columns: Sequence[str],
    marker: dict[str, float],
    progress: Callable[[int, int], None] = lambda jobs, steps: None,
) -> dict[str, float]:
    """(Re)create the store on ``kind``'s server from ``chunks``; returns its build figures."""
    from sqlalchemy import create_engine, inspect, text

    from jobacct import migrate

    admin = _admin(kind)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE}"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    t0 = time.perf_counter()
    engine = create_engine(store_url(kind))
    try:
        migrate.upgrade(engine)
        q = "`" if kind == "mariadb" else '"'
        # Each secondary index as the statement that makes it again after the load
        # (PostgreSQL's own definition: its expression index, migration 0010, included).
        indexes: list[tuple[str, str, str]] = []
        with engine.begin() as conn:
            if kind == "postgresql":
                defined = conn.execute(
                    text(
                        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE"
                        " tablename IN ('job', 'step') AND indexname LIKE 'ix%'"
                    )
                ).all()
                indexes = [(str(t), str(n), str(d)) for t, n, d in defined]
            else:
                for table in ("job", "step"):
                    for ix in inspect(engine).get_indexes(table):
                        if not str(ix["name"]).startswith("ix_"):
                            continue
                        columns = ", ".join(f"{q}{c}{q}" for c in ix["column_names"])
                        unique = "UNIQUE " if ix.get("unique") else ""
                        make = f"CREATE {unique}INDEX {ix['name']} ON {table} ({columns})"
                        indexes.append((table, str(ix["name"]), make))
            for table, name, _make in indexes:
                on = f" ON {table}" if kind == "mariadb" else ""
                conn.execute(text(f"DROP INDEX {name}{on}"))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if kind == "mariadb":
                cursor.execute("SET foreign_key_checks = 0")
                cursor.execute("SET unique_checks = 0")
            jobs = steps = 0
            t_gen = t_load = 0.0
            job_cols = ", ".join(f"{q}{c}{q}" for c in job_columns)
            step_cols = ", ".join(f"{q}{c}{q}" for c in step_columns)
            while True:
                g0 = time.perf_counter()
                chunk = next(chunks, None)
                g1 = time.perf_counter()
                t_gen += g1 - g0
                if chunk is None:
                    break
                job_rows, step_rows = chunk
                if kind == "postgresql":
                    with cursor.copy(f"COPY job ({job_cols}) FROM STDIN") as copy:
                        for row in job_rows:
                            copy.write_row(row)
                    with cursor.copy(f"COPY step ({step_cols}) FROM STDIN") as copy:
                        for row in step_rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(job_columns))
                    cursor.executemany(f"INSERT INTO job ({job_cols}) VALUES ({marks})", job_rows)
                    marks = ", ".join(["%s"] * len(step_columns))
                    cursor.executemany(
                        f"INSERT INTO step ({step_cols}) VALUES ({marks})", step_rows
                    )
                raw.commit()
                t_load += time.perf_counter() - g1
                jobs += len(job_rows)
                steps += len(step_rows)
                progress(jobs, steps)
            t2 = time.perf_counter()
            for _table, _name, make in indexes:
                cursor.execute(make)
                raw.commit()
            t3 = time.perf_counter()
            if kind == "postgresql":
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('job', 'id'), max(id)) FROM job"
                )
                raw.commit()
                driver: Any = raw.driver_connection
                driver.autocommit = True  # VACUUM runs outside transactions
                cursor.execute("VACUUM ANALYZE job")
                cursor.execute("VACUUM ANALYZE step")
                driver.autocommit = False
            else:
                cursor.execute("ANALYZE TABLE job, step")
                cursor.fetchall()
            t4 = time.perf_counter()
            info = {
                **marker,
                "jobs": float(jobs),
                "steps": float(steps),
                "generate_s": t_gen,
                "insert_s": t_load,
                "insert_rows_per_s": (jobs + steps) / t_load if t_load else 0.0,
                "index_s": t3 - t2,
                "analyze_s": t4 - t3,
                "total_s": t4 - t0,
            }
            cursor.execute(f"CREATE TABLE {MARKER} (k VARCHAR(64) PRIMARY KEY, v DOUBLE PRECISION)")
            cursor.executemany(f"INSERT INTO {MARKER} VALUES (%s, %s)", list(info.items()))
            raw.commit()
            cursor.close()
        finally:
            raw.close()
    finally:
        engine.dispose()
    return info
