"""Shared fixtures: real databases (SQLite files, PostgreSQL and MariaDB servers), golden data.

Server-backed tests create their own database for the session and drop it afterwards. Where
no server answers they skip with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from jobacct import migrate
from jobacct.config import make_engine

GOLDEN = Path(__file__).parent / "golden"

FAKETIME = shutil.which("faketime")
#: libfaketime's own clocks stay real: only the wall clock is frozen, so sleeps, SQLite's
#: busy timeout and subprocess timeouts inside the faked process still advance.
FAKETIME_ENV = {"FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def frozen_clock(when: str) -> list[str]:
    """The argv prefix that runs a command with its wall clock frozen at ``when``.

    ``when`` is ``YYYY-MM-DD HH:MM:SS`` (or with a ``T``), read in the command's TZ. ``-f``
    matters: without it the faketime wrapper only *starts* the clock there and lets it run, so
    two runs of the same command may see different seconds (a running job's Elapsed then
    differs by one). Use with :data:`FAKETIME_ENV` in the command's environment.
    """
    assert FAKETIME is not None
    return [FAKETIME, "-f", when.replace("T", " ")]


SERVER_ADMIN_URLS = {
    "postgresql": os.environ.get(
        "JOBACCT_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "JOBACCT_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
    ),
}
BACKENDS = ["sqlite", "postgresql", "mariadb"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test runs with TZ=UTC, the golden corpus's clock (golden/README.md)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def server_unreachable(kind: str, admin_url: str, exc: OperationalError) -> NoReturn:
    """Skip the test with the reason, or fail it under CI=true (server tests must run)."""
    reason = f"{kind} server not reachable at {admin_url}: {str(exc.orig).strip()[:120]}"
    if _in_ci():
        pytest.fail(reason + " (CI=true: server tests must run)")
    pytest.skip(reason)


def _server_database(kind: str) -> Iterator[str]:
    admin_url = SERVER_ADMIN_URLS[kind]
    name = f"jobacct_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        admin.dispose()
        server_unreachable(kind, admin_url, exc)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database per backend for the whole session (SQLite: a file)."""
    kind = request.param
    if kind == "sqlite":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "session.sqlite")
        return
    yield from _server_database(kind)


@pytest.fixture
def store_url(backend_url: str, tmp_path: Path) -> Iterator[str]:
    """A database at head with no records, on each backend."""
    if backend_url.startswith("sqlite"):
        url = "sqlite:///" + str(tmp_path / "jobacct.sqlite")
        engine = make_engine(url, create=True)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    engine = make_engine(backend_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM step"))
        conn.execute(text("DELETE FROM job"))
        conn.execute(text("DELETE FROM event"))  # the shim's journal (no foreign key)
    engine.dispose()
    yield backend_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file at head with no records."""
    url = "sqlite:///" + str(tmp_path / "jobacct.sqlite")
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def golden_stdout(path: Path) -> str:
    """The ``--- stdout`` section of a golden case or sacct view file."""
    return parse_case(path)[0]["stdout"]


def parse_case(path: Path) -> list[dict[str, str]]:
    """The commands of a golden file: command, user, time, stdout, stderr, exit status."""
    entries: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    section = None
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("$ ") and (current is None or section == "done"):
            current = {"command": line[2:].rstrip("\n"), "stdout": "", "stderr": ""}
            entries.append(current)
            section = None
        elif current is None:
            continue
        elif line.startswith("# as ") and section is None:
            user, _, when = line[5:].strip().partition(" at ")
            current["user"], current["time"] = user, when
        elif line.rstrip("\n") == "--- stdout":
            section = "stdout"
        elif line.rstrip("\n") == "--- stderr":
            section = "stderr"
        elif line.startswith("--- exit status: "):
            current["status"] = line.split(":", 1)[1].strip()
            section = "done"
        elif section in ("stdout", "stderr"):
            current[section] += line
    return entries


@pytest.fixture(scope="session")
def golden_all_lines() -> list[str]:
    """The golden store: ``sacct -a --parsable2 --format=ALL`` of the real Slurm 22.05."""
    return golden_stdout(GOLDEN / "sacct" / "03_parsable2_ALL.txt").splitlines()


def build_golden_store(path: Path) -> str:
    """Make a SQLite store at ``path`` holding the golden records; returns its URL.

    slurmdbd's tables first (they hold the pending-cancelled jobs sacct's listings hide), then
    ``sacct -a --parsable2 --format=ALL`` of the same real Slurm.
    """
    from sqlalchemy.orm import Session

    from jobacct.importer import import_sacct
    from jobacct.slurmdbd_import import import_slurmdbd, read_mysql_tsv

    url = "sqlite:///" + str(path)
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    users = {0: "root", 1001: "alice"}
    with Session(engine) as session, session.begin():
        import_slurmdbd(
            session,
            read_mysql_tsv(GOLDEN / "db" / "golden_job_table.tsv"),
            read_mysql_tsv(GOLDEN / "db" / "golden_step_table.tsv"),
            "golden",
            users,
            users,
        )
        import_sacct(
            session,
            golden_stdout(GOLDEN / "sacct" / "03_parsable2_ALL.txt").splitlines(),
            "golden",
        )
    engine.dispose()
    return url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Figures some suites report at the end of the run: the fuzz examples run, and the
    oracle's count of compared and differing lines (tests/test_oracle.py), also written to
    ``oracle-summary.txt`` in the oracle test's temporary directory."""
    fuzz = sys.modules.get("tests.test_fuzz")
    fuzz_line = fuzz.pytest_terminal_summary_line() if fuzz is not None else ""
    if fuzz_line:
        terminalreporter.write_line(fuzz_line)
    oracle = sys.modules.get("tests.test_oracle")
    line = oracle.summary_line() if oracle is not None else None
    if line is None:
        return
    terminalreporter.write_line(line)
    where = oracle.SUMMARY.get("dir") if oracle is not None else None
    if where:
        (Path(where) / "oracle-summary.txt").write_text(line + "\n")
