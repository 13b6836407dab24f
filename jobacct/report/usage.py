"""sreport's usage reports from job records: ``utilization``, ``top-users``, ``account-by-user``.

sreport (slurm-semantics.md §8) reads slurmdbd's hourly rollups of node and job state. The store
holds job records only, so:

* computed: **Allocated** CPU time = for each record that ran during the window, AllocCPUS x
  the part of its run inside ``[start, end)`` (a job still running counts up to now). Every
  record counts (requeued runs too: each held its CPUs); revoked federation siblings never
  ran here and are skipped. Suspended time cannot be placed inside the window (the store keeps
  only its total) and counts as allocated;
* not computed: Down, PLND Down, Idle, Planned, Reported, OverCommitted and Energy need node
  state or energy rollups that the store does not keep, so those columns are left out, and
  Proper Name needs the cluster's passwd. Percent values are shares of the allocated total of
  the report (utilization) or of the cluster (the others), where sreport divides by the
  cluster's reported time.

Layouts follow sreport: ``cluster Utilization`` (Cluster, Allocated), ``user TopUsage`` (``Top
N Users``: Cluster, Login, Account, Used; one row per user and account, most used first) and
``cluster AccountUtilizationByUser`` (each account's row with an empty Login, then its users;
accounts and users in name order, as sreport's hierarchy is printed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jobacct.report.common import user_text
from jobacct.report.document import Chart, Column, Report, Series, Table
from jobacct.report.scope import Scope
from jobacct.report.sql import columns, fetch, new_sql, scope_sql
from jobacct.report.units import TimeUnit
from jobacct.report.window import Window

#: Accounts drawn in the chart; the rest is one "other" bar.
CHART_ACCOUNTS = 15

NOTE_ALLOCATED = (
    "Allocated: CPU time of the job records clipped to the window (running jobs up to now)."
)
NOTE_MISSING = (
    "Down, PLND Down, Idle, Planned and Reported need node state, which the store does not "
    "keep: not shown. Percent is of the allocated total."
)


def usage_query(conn: Any, window: Window, scope: Scope) -> tuple[str, dict[str, Any]]:
    """Records that ran during the window, in sacct's plain-window index shape (§4.7).

    A job that started has been eligible, so ``time_eligible < end`` holds for every record
    that ran before the end; the ``(time_eligible, time_end)`` index answers both bounds.
    The end is deliberately not bounded above: with ``time_end < <never>`` SQLite's planner
    walks the ``time_end`` index over every later job instead (0.8-1.7 s against 0.13-0.27 s
    for a day of the million-job store; performance.md, "Query-plan trap").
    """
    q = new_sql(conn)

    def c(name: str) -> str:
        return q.col("job", name)

    where = [
        f"{c('time_eligible')} IS NOT NULL",
        f"{c('time_eligible')} < {q.p(window.end)}",
        f"({c('time_end')} IS NULL OR {c('time_end')} > {q.p(window.start)})",
        f"{c('time_start')} IS NOT NULL",
        f"{c('time_start')} < {q.p(window.end)}",
        f"{c('state')} <> {q.p('REVOKED')}",
        *scope_sql(q, scope),
    ]
    names = ("cluster", "account", "user_name", "uid", "ncpus", "time_start", "time_end")
    return f"SELECT {columns(q, names)} FROM job WHERE {' AND '.join(where)}", q.params


@dataclass
class Usage:
    """CPU-seconds allocated inside the window, by (cluster, account, user)."""

    cells: dict[tuple[str, str, str], int]

    def clusters(self) -> dict[str, int]:
        """Cluster -> CPU-seconds."""
        out: dict[str, int] = {}
        for (cluster, _a, _u), secs in self.cells.items():
            out[cluster] = out.get(cluster, 0) + secs
        return out

    def of_cluster(self, cluster: str) -> Iterator[tuple[str, str, int]]:
        """(account, user, CPU-seconds) of one cluster."""
        for (c, account, user), secs in self.cells.items():
            if c == cluster:
                yield account, user, secs


def collect_usage(conn: Any, window: Window, scope: Scope, now: int) -> Usage:
    """Sum AllocCPUS x clipped run time per (cluster, account, user)."""
    cells: dict[tuple[str, str, str], int] = {}
    for r in fetch(conn, *usage_query(conn, window, scope)):
        begin = max(r.time_start, window.start)
        finish = min(r.time_end if r.time_end is not None else now, window.end)
        if finish <= begin or not r.ncpus:
            continue
        key = (r.cluster, r.account or "", user_text(r.user_name, r.uid))
        cells[key] = cells.get(key, 0) + r.ncpus * (finish - begin)
    return Usage(cells)


def _frame(kind: str, title: str, window: Window, scope: Scope, unit: TimeUnit) -> Report:
    report = Report(kind, title, window, scope.as_dict(), unit=unit)
    report.notes = [NOTE_ALLOCATED, NOTE_MISSING]
    return report


def build_utilization(conn: Any, window: Window, scope: Scope, unit: TimeUnit, now: int) -> Report:
    """sreport ``cluster Utilization``: allocated CPU time per cluster."""
    report = _frame("utilization", "Cluster Utilization", window, scope, unit)
    usage = collect_usage(conn, window, scope, now)
    if not usage.cells:
        report.empty = "no job ran in this window"
        return report
    per_cluster = usage.clusters()
    table = Table(
        "utilization",
        "Cluster Utilization",
        [Column("Cluster"), Column("Allocated", "usage")],
        usage_total=sum(per_cluster.values()),
    )
    table.rows = [[c, secs] for c, secs in sorted(per_cluster.items())]
    report.tables = [table]
    report.charts = [_account_chart(usage)]
    return report


def build_top_users(
    conn: Any, window: Window, scope: Scope, unit: TimeUnit, now: int, *, top: int = 10
) -> Report:
    """sreport ``user TopUsage``: the ``top`` (user, account) pairs of each cluster."""
    report = _frame("top-users", f"Top {top} Users", window, scope, unit)
    usage = collect_usage(conn, window, scope, now)
    if not usage.cells:
        report.empty = "no job ran in this window"
        return report
    for cluster, total in sorted(usage.clusters().items()):
        table = Table(
            f"top-users-{cluster}",
            f"Cluster {cluster}",
            [Column("Cluster"), Column("Login"), Column("Account"), Column("Used", "usage")],
            usage_total=total,
        )
        pairs = sorted(usage.of_cluster(cluster), key=lambda p: (-p[2], p[1], p[0]))
        table.rows = [[cluster, user, account, secs] for account, user, secs in pairs[:top]]
        report.tables.append(table)
    report.charts = [_account_chart(usage)]
    return report


def build_account_by_user(
    conn: Any, window: Window, scope: Scope, unit: TimeUnit, now: int
) -> Report:
    """sreport ``cluster AccountUtilizationByUser``: each account, then its users."""
    report = _frame("account-by-user", "Cluster/Account/User Utilization", window, scope, unit)
    usage = collect_usage(conn, window, scope, now)
    if not usage.cells:
        report.empty = "no job ran in this window"
        return report
    for cluster, total in sorted(usage.clusters().items()):
        table = Table(
            f"account-by-user-{cluster}",
            f"Cluster {cluster}",
            [Column("Cluster"), Column("Account"), Column("Login"), Column("Used", "usage")],
            usage_total=total,
        )
        accounts: dict[str, dict[str, int]] = {}
        for account, user, secs in usage.of_cluster(cluster):
            accounts.setdefault(account, {})[user] = secs
        for account in sorted(accounts):
            users = accounts[account]
            table.rows.append([cluster, account, "", sum(users.values())])
            table.rows.extend([cluster, account, u, users[u]] for u in sorted(users))
        report.tables.append(table)
    report.charts = [_account_chart(usage)]
    return report


def _account_chart(usage: Usage) -> Chart:
    several = len(usage.clusters()) > 1
    per_account: dict[str, int] = {}
    for (cluster, account, _u), secs in usage.cells.items():
        label = f"{cluster}/{account or '(none)'}" if several else (account or "(none)")
        per_account[label] = per_account.get(label, 0) + secs
    ordered = sorted(per_account, key=lambda a: (-per_account[a], a))
    shown, rest = ordered[:CHART_ACCOUNTS], ordered[CHART_ACCOUNTS:]
    values = [per_account[a] / 3600.0 for a in shown]
    categories = list(shown)
    if rest:
        categories.append("other")
        values.append(sum(per_account[a] for a in rest) / 3600.0)
    return Chart(
        "usage-per-account",
        "Usage per account",
        categories,
        [Series("allocated", values)],
        "CPU hours",
        horizontal=True,
    )
