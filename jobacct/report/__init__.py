"""Cron-friendly reports over the store (tracker issue 6): ``jobacct report KIND``.

Kinds: ``failures`` (:mod:`.failures`), ``cancellations`` (:mod:`.cancellations`), and
sreport's ``utilization``, ``top-users`` and ``account-by-user`` (:mod:`.usage`). Each builds
a :class:`~jobacct.report.document.Report` for a window (:mod:`.window`) and scope
(:mod:`.scope`); :mod:`.output` prints it as text, CSV, JSON, Markdown or HTML, and
:mod:`.mail` sends it. Rules are cited from slurm-semantics.md in each module.
"""

from __future__ import annotations

from typing import Any

from jobacct.report.cancellations import build_cancellations
from jobacct.report.document import Report
from jobacct.report.failures import build_failures
from jobacct.report.scope import Scope
from jobacct.report.units import MINUTES, TimeUnit
from jobacct.report.usage import build_account_by_user, build_top_users, build_utilization
from jobacct.report.window import Window

KINDS = ("failures", "cancellations", "utilization", "top-users", "account-by-user")


def build_report(
    conn: Any,
    kind: str,
    window: Window,
    scope: Scope,
    *,
    now: int,
    unit: TimeUnit = MINUTES,
    top: int = 10,
) -> Report:
    """The report ``kind`` (one of :data:`KINDS`) from the store behind ``conn``.

    ``conn`` is a stdlib ``sqlite3.Connection`` (SQLite files: no SQLAlchemy import) or a
    SQLAlchemy ``Connection`` (:mod:`jobacct.report.sql`).

    ``unit`` applies to the usage reports, ``top`` to ``failures`` (failing users) and
    ``top-users``; ``now`` (epoch) ends the run of jobs still running.
    """
    if kind == "failures":
        return build_failures(conn, window, scope, top=top)
    if kind == "cancellations":
        return build_cancellations(conn, window, scope)
    if kind == "utilization":
        return build_utilization(conn, window, scope, unit, now)
    if kind == "top-users":
        return build_top_users(conn, window, scope, unit, now, top=top)
    if kind == "account-by-user":
        return build_account_by_user(conn, window, scope, unit, now)
    raise ValueError(f"unknown report kind {kind!r}")
