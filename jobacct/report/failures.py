"""``jobacct report failures``: the jobs that failed in the window, grouped every useful way.

Selection (slurm-semantics.md §4.7, terminal states): records whose state is FAILED, TIMEOUT,
OUT_OF_MEMORY or NODE_FAIL (§1.4, §5.1) and whose end time is in ``[start, end)``. Every record
counts, requeued runs included, since each one spent its CPU time.

Figures:

* core-hours of a job = AllocCPUS x Elapsed (end - start - suspended) / 3600, the whole run
  (sacct's CPUTimeRAW / 3600), since the job ended inside the window;
* groupings by state, DerivedExitCode as annotated (§2: a user's ``sjobexitmod`` value wins
  over the computed one), ExitCode (as sacct prints it: 128 off a code of 128 or more, §1.2,
  so a shell's exit 137 is counted as ``9:0`` beside the sacct line of the same job; the
  DerivedExitCode keeps ``137:0``), signal (the ExitCode's signal, else the DerivedExitCode's;
  jobs with neither are not in that table), account, partition and local day of the end;
* the top failing users (by job count, then core-hours);
* verdicts changed by an annotation (§2.3, §3): a failed job whose annotated DerivedExitCode
  is ``0:0`` ("failure marked success"), and a COMPLETED job whose annotated DerivedExitCode is
  not ``0:0`` ("success marked failure").
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from typing import Any

from jobacct.report.common import (
    Tally,
    core_hours,
    exit_text,
    hours2,
    job_id_text,
    ranked,
    run_seconds,
    sacct_exit_text,
    signal_text,
    user_text,
)
from jobacct.report.document import Chart, Column, Report, Series, Table
from jobacct.report.scope import Scope
from jobacct.report.sql import columns, fetch, new_sql, scope_sql
from jobacct.report.window import Window

FAILURE_STATES = ("FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL")
#: (State, ExitCode) pairs drawn as their own colour in the per-day chart; the rest is "other".
CHART_CODES = 6

_COLUMNS = (
    "cluster", "job_id_raw", "array_job_id", "array_task_id", "het_job_id", "het_job_offset",
    "user_name", "uid", "account", "partition", "state", "exit_code", "exit_signal",
    "derived_exit_code", "derived_exit_signal", "derived_annotated", "computed_exit_code",
    "computed_exit_signal", "comment", "ncpus", "time_start", "time_end", "time_suspended",
)  # fmt: skip


def failures_query(conn: Any, window: Window, scope: Scope) -> tuple[str, dict[str, Any]]:
    """The failed records of the window, plus the COMPLETED ones carrying an annotation.

    One statement on the ``(state, time_end)`` index: each state is a bounded range of it.
    No ORDER BY: sorting on time_end would make SQLite walk the time_end index over every
    job of the window instead of the state ranges (EXPLAIN QUERY PLAN in bench_report.py).
    """
    q = new_sql(conn)
    state, end = q.col("job", "state"), q.col("job", "time_end")
    where = [
        q.in_(state, [*FAILURE_STATES, "COMPLETED"]),
        f"{end} >= {q.p(window.start)}",
        f"{end} < {q.p(window.end)}",
        f"({state} <> {q.p('COMPLETED')} OR {q.col('job', 'derived_annotated')} = {q.p(True)})",
        *scope_sql(q, scope),
    ]
    sql = f"SELECT {columns(q, _COLUMNS)} FROM job WHERE {' AND '.join(where)}"
    return sql, q.params


def _tally_table(key: str, title: str, label: str, tallies: dict[Any, Tally]) -> Table:
    table = Table(
        key, title, [Column(label), Column("Jobs", "count"), Column("Core-hours", "hours")]
    )
    for name, t in ranked(tallies):
        table.rows.append([name, t.jobs, hours2(t.hours)])
    return table


def build_failures(conn: Any, window: Window, scope: Scope, *, top: int = 10) -> Report:
    """The failures report of ``window`` within ``scope``; ``top`` users are listed."""
    report = Report("failures", "Job Failures", window, scope.as_dict())
    days = window.days()
    by: dict[str, dict[Any, Tally]] = {
        k: {} for k in ("state", "derived", "exit", "signal", "user", "account", "partition")
    }
    per_day: list[Tally] = [Tally() for _ in days]
    day_codes: list[Counter[str]] = [Counter() for _ in days]
    changed: list[list[Any]] = []
    total = Tally()
    for r in fetch(conn, *failures_query(conn, window, scope)):
        derived = exit_text(r.derived_exit_code, r.derived_exit_signal)
        failed = r.state != "COMPLETED"
        if r.derived_annotated and failed == (derived == "0:0"):
            verdict = "failure marked success" if failed else "success marked failure"
            changed.append([
                (r.time_end, r.cluster, r.job_id_raw), job_id_text(r), r.cluster,
                user_text(r.user_name, r.uid), r.state,
                sacct_exit_text(r.exit_code, r.exit_signal), derived,
                exit_text(r.computed_exit_code, r.computed_exit_signal), r.comment or "", verdict,
            ])  # fmt: skip
        if not failed:
            continue
        hours = core_hours(r.ncpus, run_seconds(r.time_start, r.time_end, r.time_suspended))
        total.add(hours)
        code = sacct_exit_text(r.exit_code, r.exit_signal) or "(none)"
        keys: dict[str, Any] = {
            "state": r.state,
            "derived": derived,
            "exit": code,
            "user": user_text(r.user_name, r.uid),
            "account": r.account or "(none)",
            "partition": r.partition or "(none)",
        }
        sig = r.exit_signal or r.derived_exit_signal
        if sig:
            keys["signal"] = signal_text(sig)
        for name, value in keys.items():
            by[name].setdefault(value, Tally()).add(hours)
        day = bisect.bisect_right(days, r.time_end) - 1
        per_day[day].add(hours)
        # Labelled by state and code: a TIMEOUT's ExitCode is 0:0, which alone reads as
        # "succeeded" in a legend (tracker issue 15).
        day_codes[day][f"{r.state} {code}"] += 1

    changed = [row[1:] for row in sorted(changed, key=lambda row: row[0])]
    report.summary = [
        ("Failed jobs", total.jobs, "count"),
        ("Core-hours in failed jobs", hours2(total.hours), "hours"),
        ("Failures marked success", sum(c[-1] == "failure marked success" for c in changed),
         "count"),
        ("Successes marked failure", sum(c[-1] == "success marked failure" for c in changed),
         "count"),
    ]  # fmt: skip
    if not total.jobs and not changed:
        report.empty = "no failed, timed-out, out-of-memory or node-failed jobs in this window"
        return report
    report.tables = [
        _tally_table("by-state", "By state", "State", by["state"]),
        _tally_table(
            "by-derived-exit-code",
            "By DerivedExitCode (as annotated)",
            "DerivedExitCode",
            by["derived"],
        ),
        _tally_table("by-exit-code", "By ExitCode", "ExitCode", by["exit"]),
        _tally_table("by-signal", "By signal", "Signal", by["signal"]),
        _top_users(by["user"], total.jobs, top),
        _tally_table("by-account", "By account", "Account", by["account"]),
        _tally_table("by-partition", "By partition", "Partition", by["partition"]),
        _per_day(days, per_day),
        Table(
            "verdict-changed",
            "Verdict changed by annotation",
            [
                Column(n)
                for n in (
                    "JobID",
                    "Cluster",
                    "User",
                    "State",
                    "ExitCode",
                    "DerivedExitCode",
                    "DerivedExitCodeComputed",
                    "Comment",
                    "Verdict",
                )
            ],
            changed,
        ),
    ]
    report.charts = [_day_chart(days, day_codes)]
    report.notes = [
        "Core-hours: AllocCPUS x Elapsed of each failed job's whole run.",
        "Signal: the signal of the ExitCode, else of the DerivedExitCode.",
    ]
    return report


def _top_users(tallies: dict[Any, Tally], failed: int, top: int) -> Table:
    table = Table(
        "top-users",
        f"Top {top} failing users",
        [
            Column("User"),
            Column("Jobs", "count"),
            Column("Core-hours", "hours"),
            Column("% of failures", "percent"),
        ],
    )
    for name, t in ranked(tallies)[:top]:
        table.rows.append([name, t.jobs, hours2(t.hours), round(100.0 * t.jobs / failed, 2)])
    return table


def _day_label(midnight: int) -> str:
    return dt.datetime.fromtimestamp(midnight).strftime("%Y-%m-%d")


def _per_day(days: list[int], per_day: list[Tally]) -> Table:
    table = Table(
        "per-day",
        "Failures per day",
        [Column("Day"), Column("Jobs", "count"), Column("Core-hours", "hours")],
    )
    for midnight, t in zip(days, per_day):
        table.rows.append([_day_label(midnight), t.jobs, hours2(t.hours)])
    return table


def _day_chart(days: list[int], day_codes: list[Counter[str]]) -> Chart:
    overall: Counter[str] = Counter()
    for c in day_codes:
        overall.update(c)
    ordered = sorted(overall, key=lambda code: (-overall[code], code))
    shown = ordered[:CHART_CODES] if len(ordered) <= CHART_CODES else ordered[: CHART_CODES - 1]
    series = [Series(code, [float(c[code]) for c in day_codes]) for code in shown]
    rest = [code for code in ordered if code not in shown]
    if rest:
        series.append(Series("other", [float(sum(c[x] for x in rest)) for c in day_codes]))
    return Chart(
        "failures-per-day",
        "Failures per day by state and ExitCode",
        [_day_label(d)[5:] for d in days],
        series,
        "failed jobs",
        integer=True,
    )
