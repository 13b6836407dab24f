"""``job.superseded`` (jobacct/superseded.py, migration 0008) on every backend: each writer
keeps it equal to its rule (a newer, not REVOKED record of the same cluster and JobIDRaw
exists), whatever order the records arrive in, and sacct selects what the newest-record test
alone selects (§4.8)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from jobacct import migrate, store
from jobacct.config import make_engine
from jobacct.importer import import_sacct
from jobacct.model import Job
from jobacct.query import JobFilter, Window, iter_lines
from jobacct.sacct_stream import import_sacct_stream
from jobacct.shim.apply import apply

HEADER = "JobIDRaw|JobID|Cluster|UID|User|State|Submit|Eligible|Start|End|ExitCode\n"
T0 = 1_790_000_000  # 2026-09-21T14:13:20Z


def _row(job: int, submit: int, state: str, cluster: str = "tux") -> str:
    def iso(t: int) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")

    return (
        f"{job}|{job}|{cluster}|1001|alice|{state}|{iso(submit)}|{iso(submit)}"
        f"|{iso(submit + 1)}|{iso(submit + 30)}|0:0\n"
    )


#: Job 44 run three times (two requeues), job 45 once, and job 44 of another cluster.
RUNS = [
    _row(44, T0, "REQUEUED"),
    _row(44, T0 + 100, "REQUEUED"),
    _row(44, T0 + 200, "COMPLETED"),
    _row(45, T0 + 50, "FAILED"),
    _row(44, T0 + 150, "COMPLETED", cluster="other"),
]


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def flags(engine: Engine) -> dict[tuple[str, int, int], bool]:
    """Every record's stored flag, by key."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Job.cluster, Job.job_id_raw, Job.time_submit, Job.superseded)
        ).all()
    return {(c, j, t): bool(s) for c, j, t, s in rows}


def by_rule(engine: Engine) -> dict[tuple[str, int, int], bool]:
    """The flag every record should have, computed from the records in Python."""
    with engine.connect() as conn:
        rows = conn.execute(select(Job.cluster, Job.job_id_raw, Job.time_submit, Job.state)).all()
    return {
        (c, j, t): any(
            c2 == c and j2 == j and t2 > t and s2 != "REVOKED" for c2, j2, t2, s2 in rows
        )
        for c, j, t, _s in rows
    }


def assert_kept(engine: Engine) -> dict[tuple[str, int, int], bool]:
    stored = flags(engine)
    assert stored == by_rule(engine)
    return stored


EXPECTED = {
    ("tux", 44, T0): True,
    ("tux", 44, T0 + 100): True,
    ("tux", 44, T0 + 200): False,
    ("tux", 45, T0 + 50): False,
    ("other", 44, T0 + 150): False,
}


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4], [2, 4, 0, 3, 1], [4, 3, 2, 1, 0]])
def test_bulk_import_keeps_the_flag_in_any_order(engine: Engine, order: list[int]) -> None:
    for i in order:  # one chunk (transaction) per record: each arrival is its own write
        import_sacct_stream(engine, [HEADER, RUNS[i]], "tux")
    assert assert_kept(engine) == EXPECTED
    # Everything again, in one chunk: nothing changes.
    import_sacct_stream(engine, [HEADER, *RUNS], "tux")
    assert assert_kept(engine) == EXPECTED


def test_bulk_import_of_one_chunk(engine: Engine) -> None:
    import_sacct_stream(engine, [HEADER, *reversed(RUNS)], "tux")
    assert assert_kept(engine) == EXPECTED


def test_row_by_row_importer_keeps_the_flag(engine: Engine) -> None:
    for i in (2, 0, 4, 1, 3):
        with Session(engine) as session, session.begin():
            import_sacct(session, [HEADER, RUNS[i]], "tux")
    assert assert_kept(engine) == EXPECTED


def test_a_revoked_newer_record_does_not_supersede(engine: Engine) -> None:
    import_sacct_stream(engine, [HEADER, *RUNS], "tux")
    # The newest run becomes REVOKED (a federation sibling): the run before it is newest.
    import_sacct_stream(engine, [HEADER, _row(44, T0 + 200, "REVOKED")], "tux")
    assert assert_kept(engine)[("tux", 44, T0 + 100)] is False
    # And back, through the row-by-row path.
    with Session(engine) as session, session.begin():
        store.upsert_job(session, "tux", 44, T0 + 200, {"state": "COMPLETED"})
    assert assert_kept(engine)[("tux", 44, T0 + 100)] is True


def _shim_run(seq: int, submit: int, state: str) -> list[dict[str, Any]]:
    def ev(kind: str, n: int, **fields: Any) -> dict[str, Any]:
        base = {"schema": 1, "cluster": "tux", "job_id_raw": 44, "submit": submit}
        return {**base, "type": kind, "seq": seq + n, **fields}

    return [
        ev("job_submit", 0, uid=1001, user_name="alice", account="lc", job_name="rq"),
        ev("job_start", 1, time=submit + 5, nodelist="vm", nnodes=1, ncpus=2),
        ev("job_end", 2, time=submit + 30, state=state, exit=0),
    ]


def test_shim_events_out_of_order_keep_the_flag(engine: Engine) -> None:
    first = _shim_run(0, T0, "REQUEUED")
    second = _shim_run(3, T0 + 100, "COMPLETED")
    apply(engine, second[:1])  # the second run's submit arrives first
    assert assert_kept(engine) == {("tux", 44, T0 + 100): False}
    apply(engine, [first[2], second[2]])  # both ends, the first run never seen before
    assert assert_kept(engine) == {("tux", 44, T0): True, ("tux", 44, T0 + 100): False}
    apply(engine, first + second)  # everything again, in one batch
    assert assert_kept(engine) == {("tux", 44, T0): True, ("tux", 44, T0 + 100): False}


def _selected(engine: Engine, **options: Any) -> list[tuple[int, int]]:
    f = JobFilter(clusters=["tux"], **options)
    w = Window(options["start"], options["end"])
    with engine.connect() as conn:
        return [
            (row.job_id_raw, row.time_submit)
            for row, is_step in iter_lines(conn, f, w, now=T0 + 3600)
            if not is_step
        ]


def test_sacct_selection_is_the_newest_record_rule(engine: Engine) -> None:
    import_sacct_stream(engine, [HEADER, *RUNS], "tux")
    window = {"start": T0 - 10, "end": T0 + 3600}
    assert _selected(engine, **window) == [(45, T0 + 50), (44, T0 + 200)]
    assert _selected(engine, duplicates=True, **window) == [
        (44, T0),
        (45, T0 + 50),
        (44, T0 + 100),
        (44, T0 + 200),
    ]
    # Newest among the selected records: -s RQ shows the newest REQUEUED run.
    assert _selected(engine, states=["REQUEUED"], **window) == [(44, T0 + 100)]
    # A window that ends before the last run: the run before it is the newest there.
    assert _selected(engine, start=T0 - 10, end=T0 + 150) == [(45, T0 + 50), (44, T0 + 100)]


def test_migration_backfills_the_flag(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        import_sacct_stream(engine, [HEADER, *RUNS], "tux")
        migrate.downgrade(engine, "0007_import_watermark")
        migrate.upgrade(engine)
        assert assert_kept(engine) == EXPECTED
        # A stale flag (a writer that did not keep it) is what the backfill repairs.
        with engine.begin() as conn:
            conn.execute(update(Job).values(superseded=False))
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version VALUES ('0007_import_watermark')"))
            if conn.dialect.name == "sqlite":
                conn.execute(text("DROP INDEX ix_job_sacct_order"))
            conn.execute(text("ALTER TABLE job DROP COLUMN superseded"))
            # ...and what later migrations made (0009's index, MariaDB's 0011 order keys).
            mysql = conn.dialect.name in ("mysql", "mariadb")
            on = " ON job" if mysql else ""
            conn.execute(text(f"DROP INDEX ix_job_user_name_time_eligible_time_end{on}"))
            if mysql:
                conn.execute(
                    text(
                        "ALTER TABLE job DROP INDEX ix_job_sacct_order,"
                        " DROP COLUMN sacct_array_job_id, DROP COLUMN sacct_array_task_id"
                    )
                )
        migrate.upgrade(engine)
        assert assert_kept(engine) == EXPECTED
    finally:
        engine.dispose()


def test_a_listing_of_most_of_the_store_reads_in_index_order(tmp_path: Path) -> None:
    """SQLite: fastread walks ix_job_sacct_order (no sort) for a window covering the store,
    and selects the same records in the same order as the planner's own plan."""
    import sqlite3

    from jobacct import fastread

    url = "sqlite:///" + str(tmp_path / "s.sqlite")
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    rows = [_row(100 + n % 7, T0 + 37 * n, "COMPLETED") for n in range(60)]
    import_sacct_stream(engine, [HEADER, *rows], "tux")
    engine.dispose()
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    f = JobFilter()
    start, end = T0 - 10, T0 + 3600
    span = fastread.read_span(conn, f)
    hint = fastread.order_hint(conn, f, start, end, span)
    assert hint == fastread.ORDER_INDEX
    assert fastread.order_hint(conn, JobFilter(uids=[1001]), start, end, span) == ""
    assert fastread.order_hint(conn, f, T0 + 2000, T0 + 2100, span) == ""
    hinted, params = fastread.selection_sql(f, start, end, span, hint)
    plain, _same = fastread.selection_sql(f, start, end, span)
    plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + hinted, params)]
    assert plan[0] == "SCAN job USING INDEX ix_job_sacct_order", plan
    assert not any("TEMP B-TREE" in line for line in plan), plan
    plain_plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + plain, params)]
    assert not any("ix_job_sacct_order" in line for line in plain_plan), plain_plan
    selected = conn.execute(hinted, params).fetchall()
    assert len(selected) == 7
    assert selected == conn.execute(plain, params).fetchall()
    conn.close()
