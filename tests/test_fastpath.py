"""The SQLite fast path of ``jobacct sacct`` (tracker issue 3): same lines, fewer imports.

``sacct`` on a SQLite file reads with stdlib sqlite3 (jobacct.fastread), fetches only the
columns its fields read (jobacct.fields.columns_read) and renders with generated line
functions (jobacct.render.line_writer). Each shortcut is checked here against the general
path it replaces: the joined statement through SQLAlchemy (on SQLite, PostgreSQL and MariaDB),
every column, and the cell-by-cell renderer.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import namedtuple
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from jobacct import fastread, serverread
from jobacct.config import make_engine
from jobacct.fields import (
    ALL_FIELDS,
    DEFAULT_FORMAT,
    EXTRA_FIELDS,
    LONG_FORMAT,
    Column,
    Ctx,
    Field,
    Kind,
    columns_read,
    getter_reads,
    resolve_format,
)
from jobacct.importer import import_sacct
from jobacct.jobid import format_step_suffix, parse_selectors
from jobacct.query import CountRange, JobFilter, Window, iter_lines, parse_nodelist
from jobacct.render import cells_for, fit, fitter, parsable_line, render_lines, table_line
from tests.conftest import GOLDEN, build_golden_store, golden_stdout

NOW = 1795473157  # after every golden record
EVERYTHING = Window(0, NOW + 1)


@pytest.fixture(scope="module")
def golden_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fast") / "golden.sqlite"
    build_golden_store(path)
    return path


@pytest.fixture
def fast(golden_path: Path) -> Iterator[sqlite3.Connection]:
    conn = fastread.open_store(golden_path)
    yield conn
    conn.close()


def _sa_lines(url: str, f: JobFilter, w: Window, reads: Any = None) -> list[tuple[dict, bool]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [(r._asdict(), s) for r, s in iter_lines(conn, f, w, now=NOW, reads=reads)]
    finally:
        engine.dispose()


def _fast_lines(
    conn: sqlite3.Connection, f: JobFilter, w: Window, reads: Any = None
) -> list[tuple[dict, bool]]:
    return [(r._asdict(), s) for r, s in iter_lines(conn, f, w, now=NOW, reads=reads)]


def _asdict(row: Any) -> dict[str, Any]:
    # A -T/--array line is a PatchedRow over the named tuple.
    if hasattr(row, "_asdict"):
        return dict(row._asdict())
    return {**row._row._asdict(), **row._over}


FILTERS: dict[str, tuple[JobFilter, Window]] = {
    "all": (JobFilter(), EVERYTHING),
    "-X": (JobFilter(allocations_only=True), EVERYTHING),
    "-D": (JobFilter(duplicates=True), EVERYTHING),
    "-s CA,F": (JobFilter(states=["CANCELLED", "FAILED"]), EVERYTHING),
    "-s R,PD": (JobFilter(states=["RUNNING", "PENDING"]), Window(1763900000, NOW + 1)),
    "-j": (JobFilter(selectors=parse_selectors("2,3.batch,4.0")), EVERYTHING),
    "-u": (JobFilter(uids=[1001]), EVERYTHING),
    "-N": (JobFilter(nodes=parse_nodelist("vm")), EVERYTHING),
    "-i -I": (JobFilter(nnodes=CountRange(1, 2), ncpus=CountRange(1, 64)), EVERYTHING),
    "-T": (JobFilter(truncate=True), Window(1795347200, 1795347300)),
    "--array": (JobFilter(expand_arrays=True), EVERYTHING),
    "-A none": (JobFilter(accounts=[]), EVERYTHING),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_fast_path_equals_sqlalchemy_path(
    golden_path: Path, fast: sqlite3.Connection, name: str
) -> None:
    f, w = FILTERS[name]
    url = "sqlite:///" + str(golden_path)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            general = [(_asdict(r), s) for r, s in iter_lines(conn, f, w, now=NOW)]
    finally:
        engine.dispose()
    quick = [(_asdict(r), s) for r, s in iter_lines(fast, f, w, now=NOW)]
    assert quick == general
    if name != "-A none":
        assert general, "the golden store has lines for this filter"


def _seed(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        lines = golden_stdout(GOLDEN / "sacct" / "03_parsable2_ALL.txt").splitlines()
        import_sacct(session, lines, "golden")
    engine.dispose()


@pytest.mark.parametrize("name", ["all", "-X", "-s CA,F", "-j", "-N", "-u", "-A none"])
def test_every_backend_gives_the_fast_path_lines(
    store_url: str, sqlite_url: str, name: str
) -> None:
    """The same records on PostgreSQL/MariaDB/SQLite (SQLAlchemy) and the fast path."""
    _seed(store_url)
    _seed(sqlite_url)
    f, w = FILTERS[name]
    reads = columns_read(resolve_format("ALL"))
    server = _sa_lines(store_url, f, w, reads)
    conn = fastread.open_store(Path(sqlite_url.removeprefix("sqlite:///")))
    try:
        quick = _fast_lines(conn, f, w, reads)
    finally:
        conn.close()
    strip = {"id"}  # primary keys differ between stores
    assert [({k: v for k, v in r.items() if k not in strip}, s) for r, s in server] == [
        ({k: v for k, v in r.items() if k not in strip}, s) for r, s in quick
    ]
    if name in ("all", "-X"):
        assert quick


SERVERS = pytest.mark.parametrize("backend_url", ["postgresql", "mariadb"], indirect=True)


@SERVERS
@pytest.mark.parametrize("name", ["all", "-X", "-D", "-s CA,F", "-j", "-N", "-u", "-A none"])
def test_server_driver_path_equals_sqlalchemy_path(store_url: str, name: str) -> None:
    """PostgreSQL/MariaDB through the driver alone (jobacct.serverread) and through
    SQLAlchemy: the same rows, every column (--json reads them all) and the fields' columns."""
    _seed(store_url)
    f, w = FILTERS[name]
    for reads in (None, columns_read(resolve_format("ALL"))):
        general = _sa_lines(store_url, f, w, reads)
        store = serverread.open_store(store_url)
        assert store is not None, store_url
        try:
            lean = [(r._asdict(), s) for r, s in iter_lines(store, f, w, now=NOW, reads=reads)]
        finally:
            store.close()
        assert [(dict(r), s) for r, s in lean] == [(dict(r), s) for r, s in general]
    if name in ("all", "-X"):
        assert general


def test_server_urls_the_driver_path_takes() -> None:
    plain = serverread.driver_params("postgresql+psycopg://postgres:p%40ss@db.example:5433/acct")
    assert plain == (
        "postgresql",
        {
            "host": "db.example",
            "port": 5433,
            "user": "postgres",
            "password": "p@ss",
            "dbname": "acct",
        },
    )
    maria = serverread.driver_params("mysql+pymysql://root@127.0.0.1/jobacct")
    assert maria == (
        "mysql",
        {"host": "127.0.0.1", "user": "root", "database": "jobacct", "charset": "utf8mb4"},
    )
    for other in (
        "postgresql://postgres@h/db",  # SQLAlchemy's default driver: its path
        "postgresql+psycopg://postgres@h/db?sslmode=require",
        "postgresql+psycopg:///db?host=/run/postgresql",
        "mysql+pymysql://root@h/",
        "sqlite:///x.sqlite",
    ):
        assert serverread.driver_params(other) is None, other


@SERVERS
def test_sacct_on_a_server_never_imports_sqlalchemy(store_url: str) -> None:
    _seed(store_url)
    status, modules, out = _run("--db", store_url, "sacct", "-a", "-X", "-S", "2020-01-01")
    assert status == 0, out
    assert "sqlalchemy" not in modules
    assert len(out.splitlines()) > 2


@pytest.mark.parametrize("field", ALL_FIELDS, ids=lambda f: f.name)
def test_a_field_renders_alike_from_only_the_columns_it_reads(
    fast: sqlite3.Connection, field: Field
) -> None:
    column = [Column(field, field.width)]
    reads = columns_read(column)
    assert reads is not None, f"{field.name}: its reads cannot be derived"
    ctx = Ctx(now=NOW)
    full = [cells_for(r, s, column, ctx) for r, s in iter_lines(fast, JobFilter(), EVERYTHING)]
    pruned = [
        cells_for(r, s, column, ctx)
        for r, s in iter_lines(fast, JobFilter(), EVERYTHING, reads=reads)
    ]
    assert pruned == full and len(full) > 20


def test_default_format_fetches_few_columns(fast: sqlite3.Connection) -> None:
    from jobacct.query import read_columns

    jobs, steps = read_columns(
        JobFilter(),
        fastread.table_columns(fast, "job"),
        fastread.table_columns(fast, "step"),
        columns_read(resolve_format(DEFAULT_FORMAT)),
    )
    assert set(jobs) == {
        "id", "job_id_raw", "array_job_id", "array_task_id", "array_task_str", "het_job_id",
        "het_job_offset", "job_name", "partition", "account", "ncpus", "state",
        "kill_requid", "exit_code", "exit_signal",
    }  # fmt: skip
    assert set(steps) == {
        "step_id", "step_het_component", "step_name", "ncpus", "state", "kill_requid",
        "exit_code", "exit_signal",
    }  # fmt: skip


def test_reads_of_a_new_extra_field_are_derived() -> None:
    # Someone adds a field the way EXTRA_FIELDS does: its columns are found in its code.
    added = Field("CancelReason", 20, job=lambda r, c: r.cancel_reason or "")
    assert getter_reads(added.job) is not None
    assert "cancel_reason" in (columns_read([Column(added, 20)]) or set())
    for extra in EXTRA_FIELDS:
        assert columns_read([Column(extra, extra.width)]) is not None
    # A getter reading a computed attribute name cannot be pruned: every column is fetched.
    dynamic = Field("Dyn", 5, job=lambda r, c: str(getattr(r, "state" + "")))
    assert columns_read([Column(dynamic, 5)]) is None


def test_a_missing_column_fails_loudly(fast: sqlite3.Connection) -> None:
    rows = iter_lines(fast, JobFilter(), EVERYTHING, reads={"job_name"})
    row, _ = next(iter(rows))
    assert row.job_name is not None
    with pytest.raises(AttributeError):
        _ = row.partition


@pytest.mark.parametrize(
    "spec", [DEFAULT_FORMAT, "ALL", LONG_FORMAT, "jobid%-30,state%3,start%5,jobname%1,elapsed%2"]
)
@pytest.mark.parametrize("parsable", [None, "p", "P"])
def test_line_writer_equals_cell_by_cell(
    fast: sqlite3.Connection, spec: str, parsable: str | None
) -> None:
    columns = resolve_format(spec)
    ctx = Ctx(now=NOW)
    lines = list(iter_lines(fast, JobFilter(), EVERYTHING))
    fastest = list(render_lines(lines, columns, ctx, parsable=parsable, delimiter="#"))
    expected = []
    for row, is_step in lines:
        cells = cells_for(row, is_step, columns, ctx)
        if parsable is None:
            expected.append(table_line(cells, columns))
        else:
            expected.append(parsable_line(cells, "#", parsable == "p"))
    assert fastest[-len(expected) :] == expected


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("width", [-12, -1, 0, 1, 3, 10])
def test_fitter_equals_fit(kind: Kind, width: int) -> None:
    one = fitter(width, kind)
    for value in ("", "a", "abc", "abcdefghij", "abcdefghijklmnop", "12:00:00"):
        assert one(value) == fit(value, width, kind)


def test_step_suffix_equals_jobid_module() -> None:
    from jobacct.fields import _step_suffix

    for step in (-6, -5, -4, -3, -2, 0, 1, 17, 4294967290):
        for het in (None, 0, 1, 3):
            assert _step_suffix(step, het) == format_step_suffix(step, het)


# ---------------------------------------------------------------- the command

PROBE = """
import json, sys
from jobacct.cli import main
status = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps([status, sorted(sys.modules)]), file=sys.stderr)
"""


def _run(*args: str) -> tuple[int, set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    )
    status, modules = json.loads(done.stderr.strip().splitlines()[-1])
    return status, set(modules), done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["-j", "2"],
        ["-a", "-P", "-S", "2020-01-01"],
        ["-a", "--json", "-S", "2020-01-01"],
        ["-a", "-X", "-N", "vm", "-S", "2020-01-01"],
    ],
)
def test_sacct_on_sqlite_never_imports_sqlalchemy(golden_path: Path, args: list[str]) -> None:
    status, modules, out = _run("--db", str(golden_path), "sacct", *args)
    assert status == 0
    assert out
    assert not {m for m in modules if m == "sqlalchemy" or m.startswith("sqlalchemy.")}


def test_sqlite_url_and_plain_path_take_the_fast_path(golden_path: Path) -> None:
    for db in (str(golden_path), "sqlite:///" + str(golden_path)):
        status, modules, out = _run("--db", db, "sacct", "-j", "2", "-P")
        assert status == 0 and out.startswith("JobID|")
        assert "sqlalchemy" not in modules


def test_sqlite_url_with_options_goes_through_sqlalchemy(golden_path: Path) -> None:
    status, modules, out = _run(
        "--db", f"sqlite:///{golden_path}?timeout=5", "sacct", "-j", "2", "-P"
    )
    assert status == 0 and out.startswith("JobID|")
    assert "sqlalchemy" in modules


def test_fast_path_and_sqlalchemy_print_the_same(golden_path: Path) -> None:
    plain = _run("--db", str(golden_path), "sacct", "-a", "-S", "2020-01-01", "-o", "ALL")
    general = _run(
        "--db", f"sqlite:///{golden_path}?timeout=5", "sacct", "-a", "-S", "2020-01-01", "-o", "ALL"
    )
    assert plain[0] == general[0] == 0
    assert plain[2] == general[2] and plain[2].count("\n") > 20


def test_not_a_database_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    done = subprocess.run(
        [sys.executable, "-m", "jobacct", "--db", str(junk), "sacct"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


def test_fast_path_record_type_is_a_named_tuple(fast: sqlite3.Connection) -> None:
    row, is_step = next(iter(iter_lines(fast, JobFilter(), EVERYTHING, reads={"job_name"})))
    assert isinstance(row, tuple) and not is_step
    assert type(row).__name__ == "Record"
    assert namedtuple  # the same kind of row the SQLAlchemy path yields


def test_stopping_early_ends_the_read(fast: sqlite3.Connection) -> None:
    # `| head`: the caller drops the lines after one; the read transaction ends with them
    # and its selection table is emptied (kept for the connection's next read: creating it
    # again would make SQLite prepare every statement again), and the connection reads again.
    lines = iter(iter_lines(fast, JobFilter(), EVERYTHING, reads={"job_name"}))
    next(lines)
    del lines
    assert not fast.in_transaction
    assert fast.execute("SELECT count(*) FROM temp.jobacct_sel").fetchone() == (0,)
    assert len(list(iter_lines(fast, JobFilter(), EVERYTHING))) > 20


def test_closing_the_connection_first_is_quiet(
    golden_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = fastread.open_store(golden_path)
    lines = iter(iter_lines(conn, JobFilter(), EVERYTHING, reads={"job_name"}))
    next(lines)
    conn.close()
    del lines
    assert capsys.readouterr().err == ""
