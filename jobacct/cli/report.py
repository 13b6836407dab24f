"""``jobacct report``: failure, cancellation and sreport-style usage reports for cron and mail.

Every command takes the window (``-S/--start``, ``-E/--end`` in sacct's syntax; default
yesterday 00:00 to today 00:00 local), the filters (``-M``, ``-A``, ``-u``, ``-r``), the
output format, and ``--mail-to`` to send it instead of printing it. The rules are in
:mod:`jobacct.report` and its modules.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from typing import Annotated

import typer

from jobacct.cli.context import AppContext
from jobacct.errors import DatabaseUnavailableError, JobAcctError, UsageError
from jobacct.fastread import open_store, sqlite_url_path
from jobacct.formats.stream import silence

app = typer.Typer(
    help="Reports for cron: failures, cancellations, utilization, top users, accounts.",
    no_args_is_help=True,
)

Start = Annotated[
    str | None,
    typer.Option("--start", "-S", help="Window start, sacct -S syntax (default: yesterday 00:00)."),
]
End = Annotated[
    str | None,
    typer.Option("--end", "-E", help="Window end, sacct -E syntax (default: today 00:00)."),
]
Clusters = Annotated[
    str | None, typer.Option("--cluster", "--clusters", "-M", help="Comma list of clusters.")
]
Accounts = Annotated[
    str | None, typer.Option("--account", "--accounts", "-A", help="Comma list of accounts.")
]
Users = Annotated[
    str | None,
    typer.Option("--user", "--users", "-u", help="Comma list of user names or uids."),
]
Partitions = Annotated[
    str | None,
    typer.Option("--partition", "--partitions", "-r", help="Comma list of partitions."),
]
# sreport's `format=` names the fields; here the fields are fixed per report, and this is the
# kind of output. --format, its first name, still works (crontabs use it).
Format = Annotated[
    str | None,
    typer.Option(
        "--output-format",
        "--format",
        help="text (default), csv, json, markdown or html (--format: the same, its old name).",
    ),
]
Parsable2 = Annotated[
    bool,
    typer.Option("--parsable2", "-P", help="'|'-separated blocks, as sreport -P (see -n)."),
]
NoHeader = Annotated[
    bool, typer.Option("--noheader", "-n", help="With -P: the rows only, no heading or headers.")
]
MailTo = Annotated[
    list[str] | None,
    typer.Option(
        "--mail-to",
        help="Mail the report (text and HTML with charts) to ADDRESS; repeat or comma-list.",
        metavar="ADDRESS",
    ),
]
Resend = Annotated[
    bool,
    typer.Option("--resend", help="With --mail-to: send even to recipients who already got it."),
]
Unit = Annotated[
    str | None,
    typer.Option(
        "--time-format",
        "-t",
        help="sreport units: Minutes (default), Hours, Seconds, Percent, MinPer, HourPer, SecPer.",
    ),
]
Top = Annotated[str | None, typer.Option("--top", help="How many users to list (default 10).")]


def _top(text: str | None) -> int:
    if text is None:
        return 10
    if not text.strip().isdigit() or int(text) < 1:
        raise UsageError(f"invalid --top value '{text}': a positive whole number")
    return int(text)


def _output_format(fmt: str | None, parsable2: bool, noheader: bool) -> str:
    """The output format of ``--output-format``/``-P``; ``P`` for -P.

    Raises:
        UsageError: -P with another format, or -n without -P.
    """
    if parsable2:
        if fmt is not None and fmt.strip().lower() != "text":
            raise UsageError(f"-P and --output-format {fmt} cannot be used together")
        return "P"
    if noheader:
        raise UsageError("-n/--noheader goes with -P")
    from jobacct.report.output import parse_format

    return parse_format(fmt)


def _recipients(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        for item in value.split(","):
            address = item.strip()
            if address and address not in out:
                if "@" not in address or any(c.isspace() for c in address):
                    raise UsageError(f"invalid mail address '{address}'")
                out.append(address)
    if values and not out:
        # "--mail-to ''" (an unset variable in a crontab) must not turn into printing.
        raise UsageError("--mail-to needs a mail address")
    return out


def _run(
    ctx: typer.Context,
    kind: str,
    *,
    start: str | None,
    end: str | None,
    clusters: str | None,
    accounts: str | None,
    users: str | None,
    partitions: str | None,
    fmt: str | None,
    mail_to: list[str] | None,
    resend: bool,
    unit: str | None = None,
    top: str | None = None,
    parsable2: bool = False,
    noheader: bool = False,
) -> None:
    """Build report ``kind`` and print it or mail it."""
    from jobacct.report import build_report
    from jobacct.report.output import write_report
    from jobacct.report.scope import Scope
    from jobacct.report.units import parse_unit
    from jobacct.report.window import resolve_window

    now = int(time.time())
    window = resolve_window(start, end, now)
    scope = Scope.parse(clusters=clusters, accounts=accounts, users=users, partitions=partitions)
    time_unit = parse_unit(unit)
    count = _top(top)
    out_format = _output_format(fmt, parsable2, noheader)
    recipients = _recipients(mail_to)
    settings = None
    if recipients:
        from jobacct.report.smtp import load_smtp_settings

        settings = load_smtp_settings()  # bad settings fail before the query runs
    app_ctx: AppContext = ctx.obj
    path = sqlite_url_path(app_ctx.url())
    if path is not None:
        # A SQLite file: stdlib sqlite3, no SQLAlchemy import (jobacct.fastread).
        conn = open_store(path)
        try:
            report = build_report(conn, kind, window, scope, now=now, unit=time_unit, top=count)
        except sqlite3.OperationalError as exc:
            raise DatabaseUnavailableError(f"cannot use the database: {exc}") from exc
        except sqlite3.Error as exc:
            raise JobAcctError(f"database error: {exc}") from exc
        finally:
            conn.close()
    else:
        engine = app_ctx.engine()
        try:
            with engine.connect() as sa_conn:
                report = build_report(
                    sa_conn, kind, window, scope, now=now, unit=time_unit, top=count
                )
        finally:
            engine.dispose()
    if settings is None:
        try:
            write_report(
                report, out_format, sys.stdout, terminal=sys.stdout.isatty(), header=not noheader
            )
            sys.stdout.flush()
        except BrokenPipeError:
            # `| head` went away: not an error, as for sacct (exit 0).
            silence(sys.stdout)
        return
    from jobacct.report.mail import send_report

    result = send_report(report, recipients, settings, resend=resend, now=now)
    if not sys.stdout.isatty():
        # Quiet success under cron: any output would be mailed to the crontab's owner daily.
        return
    if result.sent_to:
        typer.echo(f"Sent {report.heading()} to {', '.join(result.sent_to)} ({result.message_id})")
    if result.already:
        typer.echo(
            f"Not sent again to {', '.join(result.already)}: already sent "
            f"({result.message_id}); use --resend to send it anyway"
        )


@app.command("failures")
def failures(
    ctx: typer.Context,
    start: Start = None,
    end: End = None,
    clusters: Clusters = None,
    accounts: Accounts = None,
    users: Users = None,
    partitions: Partitions = None,
    fmt: Format = None,
    parsable2: Parsable2 = False,
    noheader: NoHeader = False,
    top: Top = None,
    mail_to: MailTo = None,
    resend: Resend = False,
) -> None:
    """Failed, timed-out, out-of-memory and node-failed jobs, grouped, with core-hours.

    Example: jobacct report failures --output-format html > failures.html
    """
    _run(ctx, "failures", start=start, end=end, clusters=clusters, accounts=accounts,
         users=users, partitions=partitions, fmt=fmt,
         parsable2=parsable2, noheader=noheader, mail_to=mail_to, resend=resend,
         top=top)  # fmt: skip


@app.command("cancellations")
def cancellations(
    ctx: typer.Context,
    start: Start = None,
    end: End = None,
    clusters: Clusters = None,
    accounts: Accounts = None,
    users: Users = None,
    partitions: Partitions = None,
    fmt: Format = None,
    parsable2: Parsable2 = False,
    noheader: NoHeader = False,
    mail_to: MailTo = None,
    resend: Resend = False,
) -> None:
    """Who cancelled whose jobs, pending or running, signal, reason, core-hours lost.

    Example: jobacct report cancellations -S now-7days -E now
    """
    _run(ctx, "cancellations", start=start, end=end, clusters=clusters, accounts=accounts,
         users=users, partitions=partitions, fmt=fmt,
         parsable2=parsable2, noheader=noheader, mail_to=mail_to,
         resend=resend)  # fmt: skip


@app.command("utilization")
def utilization(
    ctx: typer.Context,
    start: Start = None,
    end: End = None,
    clusters: Clusters = None,
    accounts: Accounts = None,
    users: Users = None,
    partitions: Partitions = None,
    unit: Unit = None,
    fmt: Format = None,
    parsable2: Parsable2 = False,
    noheader: NoHeader = False,
    mail_to: MailTo = None,
    resend: Resend = False,
) -> None:
    """sreport cluster Utilization: allocated CPU time per cluster (from job records).

    Example: jobacct report utilization -t hours -S "now-7days midnight" -E midnight
    """
    _run(ctx, "utilization", start=start, end=end, clusters=clusters, accounts=accounts,
         users=users, partitions=partitions, fmt=fmt,
         parsable2=parsable2, noheader=noheader, mail_to=mail_to, resend=resend,
         unit=unit)  # fmt: skip


@app.command("top-users")
def top_users(
    ctx: typer.Context,
    start: Start = None,
    end: End = None,
    clusters: Clusters = None,
    accounts: Accounts = None,
    users: Users = None,
    partitions: Partitions = None,
    unit: Unit = None,
    top: Top = None,
    fmt: Format = None,
    parsable2: Parsable2 = False,
    noheader: NoHeader = False,
    mail_to: MailTo = None,
    resend: Resend = False,
) -> None:
    """sreport user TopUsage: the users (per account) with the most CPU time.

    Example: jobacct report top-users --top 5 -t percent
    """
    _run(ctx, "top-users", start=start, end=end, clusters=clusters, accounts=accounts,
         users=users, partitions=partitions, fmt=fmt,
         parsable2=parsable2, noheader=noheader, mail_to=mail_to, resend=resend,
         unit=unit, top=top)  # fmt: skip


@app.command("account-by-user")
def account_by_user(
    ctx: typer.Context,
    start: Start = None,
    end: End = None,
    clusters: Clusters = None,
    accounts: Accounts = None,
    users: Users = None,
    partitions: Partitions = None,
    unit: Unit = None,
    fmt: Format = None,
    parsable2: Parsable2 = False,
    noheader: NoHeader = False,
    mail_to: MailTo = None,
    resend: Resend = False,
) -> None:
    """sreport cluster AccountUtilizationByUser: each account's CPU time, then its users'.

    Example: jobacct report account-by-user -t hourper -A chem,ml
    """
    _run(ctx, "account-by-user", start=start, end=end, clusters=clusters, accounts=accounts,
         users=users, partitions=partitions, fmt=fmt,
         parsable2=parsable2, noheader=noheader, mail_to=mail_to, resend=resend,
         unit=unit)  # fmt: skip
