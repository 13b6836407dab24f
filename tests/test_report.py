"""Every number of every report, on known records, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jobacct.config import make_engine
from jobacct.report import build_report
from jobacct.report.document import Report, Table
from jobacct.report.render_data import report_dict
from jobacct.report.scope import Scope
from jobacct.report.units import parse_unit
from jobacct.report.window import Window
from tests.test_report_data import (
    DAY,
    T,
    cancellation_jobs,
    failure_jobs,
    fill,
    usage_jobs,
)

TWO_DAYS = Window(T, T + 2 * DAY)
ONE_DAY = Window(T, T + DAY)
NOW = T + 10 * DAY


def make(url: str, kind: str, window: Window, scope: Scope | None = None, **kw: Any) -> Report:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return build_report(conn, kind, window, scope or Scope(), now=NOW, **kw)
    finally:
        engine.dispose()


def rows(report: Report, key: str) -> list[list[Any]]:
    table: Table = next(t for t in report.tables if t.key == key)
    return table.rows


def summary(report: Report) -> dict[str, Any]:
    return {label: value for label, value, _kind in report.summary}


@pytest.fixture
def failures_url(store_url: str) -> Iterator[str]:
    fill(store_url, failure_jobs())
    yield store_url


@pytest.fixture
def cancellations_url(store_url: str) -> Iterator[str]:
    fill(store_url, cancellation_jobs())
    yield store_url


@pytest.fixture
def usage_url(store_url: str) -> Iterator[str]:
    fill(store_url, usage_jobs())
    yield store_url


# ------------------------------------------------------------------ failures


def test_failures_every_number(failures_url: str) -> None:
    r = make(failures_url, "failures", TWO_DAYS)
    assert r.empty is None
    assert r.heading() == ("Job Failures 2026-11-20T00:00:00 - 2026-11-21T23:59:59 (172800 secs)")
    assert summary(r) == {
        "Failed jobs": 8,
        "Core-hours in failed jobs": 27.0,
        "Failures marked success": 1,
        "Successes marked failure": 1,
    }
    assert rows(r, "by-state") == [
        ["FAILED", 5, 10.0],
        ["TIMEOUT", 1, 8.0],
        ["NODE_FAIL", 1, 5.0],
        ["OUT_OF_MEMORY", 1, 4.0],
    ]
    assert rows(r, "by-derived-exit-code") == [
        ["0:0", 2, 9.0],
        ["1:0", 2, 3.0],
        ["0:15", 1, 8.0],
        ["0:125", 1, 4.0],
        ["49:0", 1, 2.0],
        ["2:0", 1, 1.0],
    ]
    assert rows(r, "by-exit-code") == [
        ["1:0", 4, 10.0],
        ["0:0", 1, 8.0],
        ["0:125", 1, 4.0],
        ["0:9", 1, 4.0],
        ["2:0", 1, 1.0],
    ]
    assert rows(r, "by-signal") == [
        ["15 (SIGTERM)", 1, 8.0],
        ["125 (OOM)", 1, 4.0],
        ["9 (SIGKILL)", 1, 4.0],
    ]
    assert rows(r, "top-users") == [
        ["alice", 4, 13.0, 50.0],
        ["bob", 2, 8.0, 25.0],
        ["carol", 1, 5.0, 12.5],
        ["dave", 1, 1.0, 12.5],
    ]
    assert rows(r, "by-account") == [["chem", 4, 17.0], ["ml", 3, 9.0], ["phys", 1, 1.0]]
    assert rows(r, "by-partition") == [["batch", 5, 18.0], ["gpu", 2, 8.0], ["debug", 1, 1.0]]
    assert rows(r, "per-day") == [["2026-11-20", 3, 11.0], ["2026-11-21", 5, 16.0]]
    assert rows(r, "verdict-changed") == [
        ["107", "tux", "carol", "COMPLETED", "0:0", "3:0", "0:0", "bad input",
         "success marked failure"],
        ["104", "tux", "bob", "FAILED", "0:9", "0:0", "0:9", "killed on purpose",
         "failure marked success"],
    ]  # fmt: skip
    (chart,) = r.charts
    assert chart.categories == ["11-20", "11-21"]
    # By state and code (issue 15): a TIMEOUT's 0:0 is not a lone "0:0" in the legend.
    assert [(s.label, s.values) for s in chart.series] == [
        ("FAILED 1:0", [2.0, 1.0]),
        ("FAILED 0:9", [0.0, 1.0]),
        ("FAILED 2:0", [0.0, 1.0]),
        ("NODE_FAIL 1:0", [0.0, 1.0]),
        ("OUT_OF_MEMORY 0:125", [0.0, 1.0]),
        ("TIMEOUT 0:0", [1.0, 0.0]),
    ]


def test_failures_filters(failures_url: str) -> None:
    tux = make(failures_url, "failures", TWO_DAYS, Scope(clusters=["tux"]))
    assert summary(tux)["Failed jobs"] == 7
    assert summary(tux)["Core-hours in failed jobs"] == 26.0
    bob = make(failures_url, "failures", TWO_DAYS, Scope(users=["bob"]))
    assert rows(bob, "by-state") == [["FAILED", 1, 4.0], ["OUT_OF_MEMORY", 1, 4.0]]
    assert [row[0] for row in rows(bob, "verdict-changed")] == ["104"]
    by_uid = make(failures_url, "failures", TWO_DAYS, Scope(users=["70002"]))
    assert report_dict(by_uid)["tables"] == report_dict(bob)["tables"]
    gpu = make(failures_url, "failures", TWO_DAYS, Scope(accounts=["ml"], partitions=["gpu"]))
    assert summary(gpu)["Failed jobs"] == 2
    day1 = make(failures_url, "failures", Window(T, T + DAY), top=1)
    assert summary(day1)["Failed jobs"] == 3
    assert rows(day1, "top-users") == [["alice", 3, 11.0, 100.0]]
    assert rows(day1, "verdict-changed")[0][0] == "107"


def test_failures_empty(failures_url: str) -> None:
    r = make(failures_url, "failures", Window(T - 10 * DAY, T - 9 * DAY))
    assert r.empty == "no failed, timed-out, out-of-memory or node-failed jobs in this window"
    assert r.tables == []


# ------------------------------------------------------------------ cancellations


def test_cancellations_every_number(cancellations_url: str) -> None:
    r = make(cancellations_url, "cancellations", TWO_DAYS)
    assert summary(r) == {
        "Cancelled jobs": 6,
        "Core-hours lost": 11.5,
        "Cancelled by their owner": 2,
        "Cancelled by someone else": 3,
        "Cancelled by an unknown user": 1,
        "State at cancel time inferred": 2,
    }
    # Cancelled by, Owner, Jobs, Pending, Running, Suspended, Core-hours lost
    assert rows(r, "who-cancelled-whom") == [
        ["70009", "bob", 1, 0, 1, 0, 6.0],
        ["alice", "alice", 1, 0, 1, 0, 4.0],
        ["root", "alice", 1, 0, 0, 1, 1.0],
        ["carol", "carol", 1, 0, 1, 0, 0.5],
        ["(unknown)", "carol", 1, 1, 0, 0, 0.0],
        ["root", "bob", 1, 1, 0, 0, 0.0],
    ]
    assert rows(r, "state-at-cancel") == [
        ["RUNNING", 3, 10.5],
        ["PENDING", 2, 0.0],
        ["SUSPENDED", 1, 1.0],
    ]
    assert rows(r, "by-signal") == [
        ["15 (SIGTERM)", 2, 10.0],
        ["9 (SIGKILL)", 2, 1.0],
        ["(unknown)", 2, 0.5],
    ]
    assert rows(r, "by-reason") == [
        ["(none given)", 3, 1.5],
        ["maintenance", 2, 6.0],
        ["wrong input", 1, 4.0],
    ]
    (chart,) = r.charts
    assert chart.categories == ["alice", "bob", "carol"]
    assert [(s.label, s.values) for s in chart.series] == [
        ("pending", [0.0, 1.0, 1.0]),
        ("running", [1.0, 1.0, 1.0]),
        ("suspended", [1.0, 0.0, 0.0]),
    ]


def test_cancellations_filter_and_empty(cancellations_url: str) -> None:
    bob = make(cancellations_url, "cancellations", TWO_DAYS, Scope(accounts=["ml"]))
    assert summary(bob)["Cancelled jobs"] == 2
    assert summary(bob)["Core-hours lost"] == 6.0
    empty = make(cancellations_url, "cancellations", Window(T + 5 * DAY, T + 6 * DAY))
    assert empty.empty == "no cancelled jobs in this window"


# ------------------------------------------------------------------ usage (sreport)


def used(report: Report, unit: str) -> list[list[Any]]:
    """Rows with usage cells as the text formats print them in ``unit``."""
    from jobacct.report.cells import cell_text

    u = parse_unit(unit)
    out = []
    for table in report.tables:
        for row in table.rows:
            out.append(
                [cell_text(c.kind, v, u, table.usage_total) for c, v in zip(table.columns, row)]
            )
    return out


def test_utilization(usage_url: str) -> None:
    r = make(usage_url, "utilization", ONE_DAY)
    # tux: 36000 + 10800 + 25600 + 400 = 72800 CPU-seconds; dev: 3600.
    assert rows(r, "utilization") == [["dev", 3600], ["tux", 72800]]
    assert used(r, "minutes") == [["dev", "60"], ["tux", "1213"]]
    assert used(r, "hours") == [["dev", "1"], ["tux", "20"]]
    assert used(r, "seconds") == [["dev", "3600"], ["tux", "72800"]]
    assert used(r, "percent") == [["dev", "4.71%"], ["tux", "95.29%"]]
    assert used(r, "minper") == [["dev", "60(4.71%)"], ["tux", "1213(95.29%)"]]
    assert r.unit_line() == "Usage reported in CPU Minutes"
    assert "need node state" in " ".join(r.notes)
    (chart,) = r.charts
    assert chart.categories == ["tux/ml", "tux/chem", "dev/chem"]
    assert [round(v, 4) for v in chart.series[0].values] == [10.2222, 10.0, 1.0]


def test_top_users(usage_url: str) -> None:
    r = make(usage_url, "top-users", ONE_DAY)
    assert r.title == "Top 10 Users"
    assert used(r, "minutes") == [
        ["dev", "carol", "chem", "60"],
        ["tux", "alice", "chem", "600"],
        ["tux", "bob", "ml", "433"],
        ["tux", "alice", "ml", "180"],
    ]
    assert used(r, "percent") == [
        ["dev", "carol", "chem", "100.00%"],
        ["tux", "alice", "chem", "49.45%"],
        ["tux", "bob", "ml", "35.71%"],
        ["tux", "alice", "ml", "14.84%"],
    ]
    two = make(usage_url, "top-users", ONE_DAY, Scope(clusters=["tux"]), top=2)
    assert two.title == "Top 2 Users"
    assert used(two, "hours") == [["tux", "alice", "chem", "10"], ["tux", "bob", "ml", "7"]]


def test_account_by_user(usage_url: str) -> None:
    r = make(usage_url, "account-by-user", ONE_DAY, Scope(clusters=["tux"]))
    assert used(r, "minutes") == [
        ["tux", "chem", "", "600"],
        ["tux", "chem", "alice", "600"],
        ["tux", "ml", "", "613"],
        ["tux", "ml", "alice", "180"],
        ["tux", "ml", "bob", "433"],
    ]
    assert used(r, "hourper") == [
        ["tux", "chem", "", "10(49.45%)"],
        ["tux", "chem", "alice", "10(49.45%)"],
        ["tux", "ml", "", "10(50.55%)"],
        ["tux", "ml", "alice", "3(14.84%)"],
        ["tux", "ml", "bob", "7(35.71%)"],
    ]
    assert report_dict(make(usage_url, "account-by-user", ONE_DAY, unit=parse_unit("s")))["tables"][
        0
    ]["rows"] == [
        {"Cluster": "dev", "Account": "chem", "Login": "", "Used": 3600},
        {"Cluster": "dev", "Account": "chem", "Login": "carol", "Used": 3600},
    ]


def test_usage_empty(usage_url: str) -> None:
    r = make(usage_url, "utilization", Window(T + 30 * DAY, T + 31 * DAY))
    assert r.empty == "no job ran in this window"
