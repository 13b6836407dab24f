"""The driver-only read of PostgreSQL and MariaDB stores (jobacct.serverread, issue 16).

A listing with steps reads the selected ids first, then their job and step columns by id in
batches (an id range where the ids are dense, an ``IN`` list elsewhere), and may be shared
with helper processes, each with its own connection; MariaDB is read with mysqlclient where
it is installed, PyMySQL otherwise. Each variant must give exactly the rows SQLAlchemy's
joined statement gives (tests/test_fastpath.py has the plain comparison).
"""

from __future__ import annotations

import io
import os
import signal
from typing import Any, TextIO

import pytest

from jobacct import migrate, serverread
from jobacct.config import make_engine
from jobacct.fields import Ctx, columns_read, resolve_format
from jobacct.formats import OutputMode, write_sacct
from jobacct.query import iter_lines
from jobacct.splitread import Helpers
from jobacct.sqltext import joined_lines_sql
from tests.test_fastpath import FILTERS, NOW, _seed

SERVERS = pytest.mark.parametrize("backend_url", ["postgresql", "mariadb"], indirect=True)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: The filters whose listings have steps: the batched read.
BATCHED = ["all", "-D", "-s CA,F", "-N", "-u", "-T", "--array"]


def _lean(url: str, name: str, reads: Any = None) -> list[tuple[dict[str, Any], bool]]:
    f, w = FILTERS[name]
    store = serverread.open_store(url)
    assert store is not None, url
    try:
        return [(dict(_fields(r)), s) for r, s in iter_lines(store, f, w, now=NOW, reads=reads)]
    finally:
        store.close()


def _fields(row: Any) -> dict[str, Any]:
    if hasattr(row, "_asdict"):
        return dict(row._asdict())
    return {**row._row._asdict(), **row._over}  # a -T / --array line


def _general(url: str, name: str, reads: Any = None) -> list[tuple[dict[str, Any], bool]]:
    """The rows of SQLAlchemy's joined statement (jobacct.query._sqlalchemy_groups)."""
    f, w = FILTERS[name]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [(_fields(r), s) for r, s in iter_lines(conn, f, w, now=NOW, reads=reads)]
    finally:
        engine.dispose()


@SERVERS
@pytest.mark.parametrize("shape", ["ranges", "IN lists", "one job a batch"])
def test_batched_read_equals_the_joined_statement(
    store_url: str, shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every batch shape gives SQLAlchemy's rows, every column and the fields' columns."""
    if shape == "IN lists":
        monkeypatch.setattr(serverread, "DENSE", 0)
    elif shape == "one job a batch":
        monkeypatch.setattr(serverread, "ID_BATCH", 1)
    else:
        monkeypatch.setattr(serverread, "ID_BATCH", 5)
    _seed(store_url)
    for name in BATCHED:
        for reads in (None, columns_read(resolve_format("ALL"))):
            assert _lean(store_url, name, reads) == _general(store_url, name, reads), name
    assert _general(store_url, "all")


@pytest.mark.parametrize(
    ("backend_url", "driver"),
    [
        ("postgresql", "psycopg2"),
        ("postgresql", "psycopg"),
        ("mariadb", "MySQLdb"),
        ("mariadb", "pymysql"),
    ],
    indirect=["backend_url"],
)
def test_both_drivers_of_a_server_give_the_same_rows(
    store_url: str, driver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg2 and psycopg 3, mysqlclient and PyMySQL hand back the same values for every
    column and shape (serverread.read_driver reads with the first installed)."""
    try:
        __import__(driver)
    except ImportError:
        assert not IN_CI, f"CI=true: {driver} must be installed (.ci/run installs mysqlclient)"
        pytest.skip(f"{driver} is not installed (pip install mysqlclient; needs libmariadb-dev)")
    name = "POSTGRESQL_DRIVERS" if driver.startswith("psycopg") else "MYSQL_DRIVERS"
    monkeypatch.setattr(serverread, name, (driver,))
    _seed(store_url)
    store = serverread.open_store(store_url)
    assert store is not None
    assert store.driver.__name__ == driver
    store.close()
    for filter_name in ["all", "-X", "-j", "-u", "-A none"]:
        assert _lean(store_url, filter_name) == _general(store_url, filter_name), filter_name


def test_the_c_drivers_are_preferred() -> None:
    """Where installed, the C drivers read (psycopg2 comes with the postgresql extra); a
    URL naming mysqlclient is read with it or not at all."""
    from importlib.util import find_spec

    postgresql = serverread.read_driver("postgresql", "postgresql+psycopg://u@h/d")
    assert postgresql.__name__ == "psycopg2"
    mysqlclient = find_spec("MySQLdb") is not None
    assert mysqlclient or not IN_CI
    mysql = serverread.read_driver("mysql", "mysql+pymysql://u@h/d")
    assert mysql.__name__ == ("MySQLdb" if mysqlclient else "pymysql")
    named = serverread.read_driver("mysql", "mysql+mysqldb://u@h/d")
    assert (named and named.__name__) == ("MySQLdb" if mysqlclient else None)


@SERVERS
def test_a_read_is_one_repeatable_read_snapshot(store_url: str) -> None:
    """Every statement of a read sees one snapshot: the store's session is REPEATABLE READ
    and read-only (a listing with steps runs one statement per batch)."""
    store = serverread.open_store(store_url)
    assert store is not None
    try:
        cursor = store.connection.cursor()
        if store.dialect == "postgresql":
            cursor.execute("SHOW transaction_isolation")
            assert cursor.fetchone()[0] == "repeatable read"
            cursor.execute("SHOW transaction_read_only")
            assert cursor.fetchone()[0] == "on"
        else:
            cursor.execute("SELECT @@session.tx_isolation, @@session.tx_read_only")
            assert cursor.fetchone() == ("REPEATABLE-READ", 1)
        cursor.close()
    finally:
        store.close()


def test_id_conditions() -> None:
    assert serverread._ids_condition([5, 3, 4, 9]) == "BETWEEN 3 AND 9"
    assert serverread._ids_condition([1, 100]) == "IN (1,100)"
    assert serverread._ids_condition([7]) == "BETWEEN 7 AND 7"


# ------------------------------------------------------------ a read shared by processes

COLUMNS = resolve_format("JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode,Elapsed")


def _render(store: Any, out: TextIO, header: bool = True, name: str = "all") -> bool:
    f, w = FILTERS[name]
    return write_sacct(
        iter_lines(store, f, w, now=NOW, reads=columns_read(COLUMNS)),
        OutputMode.PARSABLE2,
        COLUMNS,
        Ctx(now=NOW),
        header=header,
        out=out,
    )


def _shared(
    url: str, count: int, min_jobs: int, kill: int | None = None, name: str = "all"
) -> tuple[str, int]:
    out = io.StringIO()

    def opener() -> Any:
        return serverread.open_store(url)

    def render_slice(store: Any, out: TextIO) -> None:
        _render(store, out, header=False, name=name)

    with Helpers(opener, render_slice, count, min_jobs) as h:
        if kill is not None:
            os.kill(h.helpers[kill].pid, signal.SIGKILL)
        store = opener()
        store.helpers = h
        try:
            assert _render(store, out, name=name)
        finally:
            store.close()
        given = sum(helper.given for helper in h.helpers)
        h.finish(out)
    return out.getvalue(), given


@SERVERS
@pytest.mark.parametrize("name", ["all", "-X"])
def test_a_shared_read_prints_what_one_process_prints(store_url: str, name: str) -> None:
    """With steps: slices of the selected ids; -X: ranges of submit times (PostgreSQL; on
    MariaDB one process reads it, see serverread.read_groups). Either way the slices, one
    after the other, are what one process prints."""
    _seed(store_url)
    alone, given = _shared(store_url, 1, 1, name=name)
    assert given == 0
    assert alone.count("\n") > 20
    shared = name != "-X" or store_url.startswith("postgresql")
    for count in (2, 3):
        text, given = _shared(store_url, count, 5, name=name)
        assert given == (count - 1 if shared else 0)
        assert text == alone
    # A helper killed before it read: the command reads its slice itself.
    text, given = _shared(store_url, 3, 5, kill=1, name=name)
    assert given == (2 if shared else 0)
    assert text == alone
    # -j: one statement, never shared.
    text, given = _shared(store_url, 3, 1, name="-j")
    assert given == 0


# ------------------------------------------------ MariaDB: sacct's order from an index


def _statement_rows(store: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    cursor = store.connection.cursor()
    try:
        cursor.execute(serverread._driver_sql(sql, params), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


@pytest.mark.parametrize("backend_url", ["mariadb"], indirect=True)
def test_mariadb_walks_sacct_order_on_the_generated_keys(store_url: str) -> None:
    """Migration 0011: a listing of most of the store names ``ix_job_sacct_order`` and
    orders by the generated order keys; MariaDB walks the index (no filesort) and the rows
    come in the order of the computed keys (array jobs and plain jobs submitted together).
    A day's listing keeps the window's index; readers never see the keys' columns."""
    _seed(store_url)
    store = serverread.open_store(store_url)
    assert store is not None
    try:
        f, w = FILTERS["-X"]
        source = serverread.job_source(store, f, w.start, w.end)
        assert serverread.ordered_by_keys(source)
        columns = ["id", "job_id_raw", "array_job_id", "array_task_id", "time_submit"]
        keyed, params = joined_lines_sql(
            f, w.start, w.end, columns, [], "mysql", source, None, key_columns=True
        )
        plain, plain_params = joined_lines_sql(f, w.start, w.end, columns, [], "mysql")
        assert "sacct_array_job_id" in keyed and "sacct_array_job_id" not in plain
        plan = _statement_rows(store, "EXPLAIN " + keyed, params)
        assert plan[0][5] == "ix_job_sacct_order", plan  # EXPLAIN's "key"
        assert "filesort" not in (plan[0][9] or ""), plan  # its "Extra"
        rows = _statement_rows(store, keyed, params)
        assert rows == _statement_rows(store, plain, plain_params)
        assert len(rows) > 20
        assert any(r[2] is not None for r in rows) and any(r[2] is None for r in rows)
        day = serverread.job_source(store, f, NOW - 86_400, NOW)
        assert not serverread.ordered_by_keys(day)
        assert not set(migrate.ORDER_KEY_COLUMNS) & set(serverread.table_columns(store, "job"))
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_the_lean_read_checks_the_schema(kind: str) -> None:
    """No version table: "no jobacct schema"; a version behind head: "behind head". The
    table is looked up as the read would find it (PostgreSQL: to_regclass)."""
    from sqlalchemy import text

    from jobacct.errors import SchemaOutdatedError
    from tests.conftest import _server_database

    databases = _server_database(kind)
    url = next(databases)
    try:
        with pytest.raises(SchemaOutdatedError, match="has no jobacct schema"):
            serverread.open_store(url)
        engine = make_engine(url)
        try:
            migrate.upgrade(engine, "0009_job_user_name_index")
            with pytest.raises(SchemaOutdatedError, match="0009_job_user_name_index is behind"):
                serverread.open_store(url)
            migrate.upgrade(engine)
            store = serverread.open_store(url)
            assert store is not None
            store.close()
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM alembic_version"))
            with pytest.raises(SchemaOutdatedError, match="has no jobacct schema"):
                serverread.open_store(url)
        finally:
            engine.dispose()
    finally:
        databases.close()
