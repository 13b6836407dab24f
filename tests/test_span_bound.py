"""The span bound of a plain listing's window (migration 0006, jobacct.sqltext.where_sql)
selects exactly the jobs the plain interval-overlap test selects (slurm-semantics.md §4.7).

Real SQLite files at head; jobs with every shape the bound must survive: running (no end),
never eligible, ended before they were eligible (negative span), and spans of any length.
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobacct import fastread, migrate
from jobacct.config import make_engine
from jobacct.query import JobFilter
from jobacct.sqltext import ELIGIBLE_RANGE_SQL, span_sql

T0 = 1_794_000_000
DAY = 86_400


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("span") / "store.sqlite"
    engine = make_engine(f"sqlite:///{path}", create=True)
    migrate.upgrade(engine)
    engine.dispose()
    return path


times = st.integers(min_value=T0 - 10 * DAY, max_value=T0 + 10 * DAY)
jobs = st.lists(
    st.tuples(
        st.one_of(st.none(), times),  # time_eligible
        st.one_of(st.none(), st.integers(min_value=-2 * DAY, max_value=9 * DAY)),  # span
    ),
    max_size=60,
)


def _fill(conn: sqlite3.Connection, rows: list[tuple[int | None, int | None]]) -> None:
    conn.execute("DELETE FROM job")
    conn.executemany(
        "INSERT INTO job (cluster, job_id_raw, job_name, uid, nnodes, ncpus, time_submit,"
        " time_suspended, state, derived_exit_code, derived_exit_signal, derived_annotated,"
        " time_eligible, time_end) VALUES ('c', ?, 'j', 0, 1, 1, ?, 0, ?, 0, 0, 0, ?, ?)",
        [
            (
                number,
                (eligible or T0) - 5,
                "RUNNING" if span is None else "COMPLETED",
                eligible,
                None if span is None else (eligible or T0) + span,
            )
            for number, (eligible, span) in enumerate(rows, start=1)
        ],
    )


def _selected(conn: sqlite3.Connection, start: int, end: int, span: int | None) -> list[int]:
    sql, params = fastread.selection_sql(JobFilter(), start, end, span)
    return [row[0] for row in conn.execute(sql, params)]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=jobs, start=times, length=st.integers(min_value=0, max_value=3 * DAY))
def test_span_bound_selects_the_same_jobs(
    store: Path, rows: list[tuple[int | None, int | None]], start: int, length: int
) -> None:
    conn = sqlite3.connect(store, isolation_level=None)
    try:
        conn.execute("BEGIN")
        _fill(conn, rows)
        span = fastread.read_span(conn, JobFilter())
        ended = [s for e, s in rows if e is not None and s is not None]
        assert span == (max(ended) if ended else None)
        plain = _selected(conn, start, start + length, None)
        assert _selected(conn, start, start + length, span) == plain
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_the_bound_reads_the_span_index_and_a_short_eligible_range(store: Path) -> None:
    conn = sqlite3.connect(store)
    try:
        assert fastread.read_span(conn, JobFilter(states=["FAILED"])) is None
        plan = " / ".join(
            row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + str(span_sql(JobFilter())))
        )
        assert "USING INDEX ix_job_span" in plan or "USING COVERING INDEX ix_job_span" in plan
        sql, params = fastread.selection_sql(JobFilter(), T0, T0 + DAY, 3600)
        plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN job" not in plan, plan
    finally:
        conn.close()


def test_the_eligible_range_is_two_index_probes(store: Path) -> None:
    """The store's eligible-time range (whether a listing covers most of it) reads each
    end of the eligible index: in one SELECT, SQLite scanned the whole index (73 ms on a
    million jobs, a quarter of a day's -X: issue 16's case (b))."""
    conn = sqlite3.connect(store)
    try:
        _fill(conn, [(None, None), (T0 + DAY, 60), (T0 - DAY, None), (T0, 3600), (None, 5)])
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + ELIGIBLE_RANGE_SQL)]
        assert not any(step.startswith("SCAN job") for step in plan), plan
        low, high = conn.execute(ELIGIBLE_RANGE_SQL).fetchone()
        assert (low, high) == conn.execute(
            "SELECT min(time_eligible), max(time_eligible) FROM job"
        ).fetchone()
        assert (low, high) == (T0 - DAY, T0 + DAY)
    finally:
        conn.close()


def test_downgrade_drops_the_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.sqlite'}"
    engine = make_engine(url, create=True)
    try:
        migrate.upgrade(engine)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            migrate.downgrade(engine, "0005")
        conn = sqlite3.connect(tmp_path / "down.sqlite")
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        conn.close()
        assert "ix_job_span" not in names
        migrate.upgrade(engine)
        conn = sqlite3.connect(tmp_path / "down.sqlite")
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        conn.close()
        assert "ix_job_span" in names
    finally:
        engine.dispose()
