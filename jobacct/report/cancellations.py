"""``jobacct report cancellations``: who cancelled whose jobs, when, how, and what it cost.

Selection (slurm-semantics.md §4.7, terminal states): CANCELLED records whose end time is in
``[start, end)``.

Sources of each figure:

* who cancelled: ``kill_requid`` (Slurm's requid, §5.3: ``CANCELLED by <uid>``); a record
  without one is counted under ``(unknown)``. Uids are named by the user name the store holds
  for that uid, else the local passwd database, else printed as numbers;
* the job's state when the cancel arrived, the signal and the reason: the controller shim's
  provenance columns ``cancel_state``, ``cancel_signal`` and ``cancel_reason`` (§6.2). When the
  shim did not record the state (records imported from sacct or slurmdbd) it is inferred:
  PENDING if the job never started, else RUNNING, and the table says so;
* core-hours lost: AllocCPUS x Elapsed of the cancelled run (0 for a pending job).
"""

from __future__ import annotations

import pwd
from collections.abc import Iterable
from typing import Any

from jobacct.report.common import (
    Tally,
    core_hours,
    hours2,
    ranked,
    run_seconds,
    signal_text,
    user_text,
)
from jobacct.report.document import Chart, Column, Report, Series, Table
from jobacct.report.scope import Scope
from jobacct.report.sql import columns, fetch, new_sql, scope_sql
from jobacct.report.window import Window

UNKNOWN = "(unknown)"
#: Owners drawn in the chart; the rest is one "other" bar.
CHART_USERS = 15
STATES = ("PENDING", "RUNNING", "SUSPENDED")

_COLUMNS = (
    "cluster", "user_name", "uid", "account", "partition", "kill_requid", "cancel_time",
    "cancel_signal", "cancel_state", "cancel_reason", "ncpus", "time_start", "time_end",
    "time_suspended",
)  # fmt: skip


def cancellations_query(conn: Any, window: Window, scope: Scope) -> tuple[str, dict[str, Any]]:
    """The CANCELLED records of the window: one range of the ``(state, time_end)`` index."""
    q = new_sql(conn)
    end = q.col("job", "time_end")
    where = [
        f"{q.col('job', 'state')} = {q.p('CANCELLED')}",
        f"{end} >= {q.p(window.start)}",
        f"{end} < {q.p(window.end)}",
        *scope_sql(q, scope),
    ]
    return f"SELECT {columns(q, _COLUMNS)} FROM job WHERE {' AND '.join(where)}", q.params


def uid_names(
    conn: Any, uids: Iterable[int], known: dict[int, str] | None = None
) -> dict[int, str]:
    """A name for each uid: ``known`` (owners already read), else the store's user name for
    it, else passwd's, else the number.

    The store is asked once per unknown uid, for one record (``LIMIT 1`` on the uid index):
    a DISTINCT over every record of those uids would read all their jobs.
    """
    names = {uid: name for uid, name in (known or {}).items() if name}
    for uid in sorted(set(uids) - set(names)):
        q = new_sql(conn)
        user = q.col("job", "user_name")
        sql = (
            f"SELECT {user} AS user_name FROM job WHERE {q.col('job', 'uid')} = {q.p(uid)}"
            f" AND {user} IS NOT NULL AND {user} <> {q.p('')} LIMIT 1"
        )
        found = next(fetch(conn, sql, q.params), None)
        name = found.user_name if found is not None else None
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except (KeyError, OverflowError):
                name = str(uid)
        names[uid] = name
    return names


def build_cancellations(conn: Any, window: Window, scope: Scope) -> Report:
    """The cancellations report of ``window`` within ``scope``."""
    report = Report("cancellations", "Job Cancellations", window, scope.as_dict())
    rows = list(fetch(conn, *cancellations_query(conn, window, scope)))
    if not rows:
        report.empty = "no cancelled jobs in this window"
        return report
    names = uid_names(
        conn,
        (r.kill_requid for r in rows if r.kill_requid is not None),
        {r.uid: r.user_name for r in rows},
    )
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    states: dict[str, Tally] = {}
    signals: dict[str, Tally] = {}
    reasons: dict[str, Tally] = {}
    owners: dict[str, dict[str, int]] = {}
    total = Tally()
    by_owner = by_other = by_unknown = inferred = 0
    for r in rows:
        hours = core_hours(r.ncpus, run_seconds(r.time_start, r.time_end, r.time_suspended))
        total.add(hours)
        owner = user_text(r.user_name, r.uid)
        requester = UNKNOWN if r.kill_requid is None else names[r.kill_requid]
        if r.kill_requid is None:
            by_unknown += 1
        elif r.kill_requid == r.uid:
            by_owner += 1
        else:
            by_other += 1
        state = r.cancel_state
        if state is None:
            inferred += 1
            state = "PENDING" if r.time_start is None else "RUNNING"
        pair = pairs.setdefault((requester, owner), {"tally": Tally(), **dict.fromkeys(STATES, 0)})
        pair["tally"].add(hours)
        pair[state] = pair.get(state, 0) + 1
        states.setdefault(state, Tally()).add(hours)
        signal = UNKNOWN if r.cancel_signal is None else signal_text(r.cancel_signal)
        signals.setdefault(signal, Tally()).add(hours)
        reasons.setdefault(r.cancel_reason or "(none given)", Tally()).add(hours)
        per_state = owners.setdefault(owner, dict.fromkeys(STATES, 0))
        per_state[state] = per_state.get(state, 0) + 1

    report.summary = [
        ("Cancelled jobs", total.jobs, "count"),
        ("Core-hours lost", hours2(total.hours), "hours"),
        ("Cancelled by their owner", by_owner, "count"),
        ("Cancelled by someone else", by_other, "count"),
        ("Cancelled by an unknown user", by_unknown, "count"),
        ("State at cancel time inferred", inferred, "count"),
    ]
    who = Table(
        "who-cancelled-whom",
        "Who cancelled whose jobs",
        [
            Column("Cancelled by"),
            Column("Owner"),
            Column("Jobs", "count"),
            *(Column(s.capitalize(), "count") for s in STATES),
            Column("Core-hours lost", "hours"),
        ],
    )
    ordered = sorted(
        pairs.items(), key=lambda kv: (-kv[1]["tally"].jobs, -kv[1]["tally"].hours, kv[0])
    )
    for (requester, owner), p in ordered:
        who.rows.append(
            [requester, owner, p["tally"].jobs, *(p[s] for s in STATES), hours2(p["tally"].hours)]
        )
    report.tables = [
        who,
        _tally("state-at-cancel", "State at cancel time", "State", states),
        _tally("by-signal", "By signal", "Signal", signals),
        _tally("by-reason", "By reason", "Reason", reasons),
    ]
    report.charts = [_owner_chart(owners)]
    report.notes = [
        "Core-hours lost: AllocCPUS x Elapsed of each cancelled run (0 for pending jobs).",
        "State at cancel time, signal and reason come from the controller shim; for records "
        "it did not see, the state is inferred (PENDING if the job never started).",
    ]
    return report


def _tally(key: str, title: str, label: str, tallies: dict[str, Tally]) -> Table:
    table = Table(
        key, title, [Column(label), Column("Jobs", "count"), Column("Core-hours lost", "hours")]
    )
    for name, t in ranked(tallies):
        table.rows.append([name, t.jobs, hours2(t.hours)])
    return table


def _owner_chart(owners: dict[str, dict[str, int]]) -> Chart:
    ordered = sorted(owners, key=lambda o: (-sum(owners[o].values()), o))
    shown, rest = ordered[:CHART_USERS], ordered[CHART_USERS:]
    categories = list(shown) + (["other"] if rest else [])
    series = []
    for state in STATES:
        values = [float(owners[o][state]) for o in shown]
        if rest:
            values.append(float(sum(owners[o][state] for o in rest)))
        if any(values):
            series.append(Series(state.lower(), values))
    return Chart(
        "cancellations-per-user",
        "Cancellations per user (job owner)",
        categories,
        series,
        "cancelled jobs",
        horizontal=True,
        integer=True,
    )
