"""``jobacct sacct``: sacct(1)'s selection options and output formats over the store."""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer

from jobacct import caller
from jobacct.cli.context import AppContext
from jobacct.cli.output import write_lines
from jobacct.errors import UsageError
from jobacct.fields import DEFAULT_FORMAT, FIELDS, Column, Ctx, FieldError, resolve_format
from jobacct.jobid import JobIdError, parse_selectors
from jobacct.query import FilterError, JobFilter, default_window, iter_lines, parse_states
from jobacct.render import render_lines
from jobacct.slurmtime import TimeSpecError, format_date, parse_time


def _now() -> int:
    return int(time.time())


def _split(values: str | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for v in values.split(",") if v.strip()]


def build_filter(
    *,
    jobs: str | None,
    users: str | None,
    accounts: str | None,
    clusters: str | None,
    names: str | None,
    states: str | None,
    start: str | None,
    end: str | None,
    all_users: bool,
    allocations: bool,
    duplicates: bool,
    caller_uid: int,
    now: int,
) -> JobFilter:
    """Turn sacct's option strings into a :class:`JobFilter`.

    The default user scope is sacct's (§4.7): your own jobs, unless you are root, give
    ``-a``, ``-u -1``, or ``-j`` without ``-u``.

    Raises:
        UsageError: naming the bad job id, state or time.
    """
    f = JobFilter(allocations_only=allocations, duplicates=duplicates)
    try:
        if jobs:
            f.selectors = parse_selectors(jobs)
        if states:
            f.states = parse_states(states)
        if start:
            f.start = parse_time(start, now)
        if end:
            f.end = parse_time(end, now)
    except (JobIdError, FilterError, TimeSpecError) as exc:
        raise UsageError(str(exc)) from exc
    f.accounts = _split(accounts)
    f.clusters = _split(clusters)
    f.names = _split(names)
    user_list = _split(users)
    if user_list is not None and "-1" not in user_list:
        f.uids = [int(u) for u in user_list if u.isdigit()]
        f.user_names = [u for u in user_list if not u.isdigit()]
    elif user_list is None and not (all_users or caller_uid == 0 or f.selectors):
        f.uids = [caller_uid]
    return f


def sacct(
    ctx: typer.Context,
    jobs: Annotated[
        str | None,
        typer.Option("--jobs", "-j", help="Job ids: 123, 123.batch, 123_4, 123+1 (comma list)."),
    ] = None,
    users: Annotated[
        str | None,
        typer.Option(
            "--user", "--uid", "-u", help="Users (names or uids, comma list); -1 for all."
        ),
    ] = None,
    accounts: Annotated[
        str | None, typer.Option("--accounts", "-A", help="Accounts (comma list).")
    ] = None,
    clusters: Annotated[
        str | None,
        typer.Option("--clusters", "-M", help="Clusters (comma list); default: all in the store."),
    ] = None,
    names: Annotated[str | None, typer.Option("--name", help="Job names (comma list).")] = None,
    states: Annotated[
        str | None,
        typer.Option("--state", "-s", help="States, long or short names: CD,F,CA,TO,OOM,..."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--starttime",
            "-S",
            help="Window start, Slurm time syntax (now-1days, 2026-11-22T10:00).",
        ),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--endtime", "-E", help="Window end, Slurm time syntax.")
    ] = None,
    all_users: Annotated[bool, typer.Option("--allusers", "-a", help="All users' jobs.")] = False,
    allocations: Annotated[
        bool, typer.Option("--allocations", "-X", help="Job lines only, no steps.")
    ] = False,
    duplicates: Annotated[
        bool, typer.Option("--duplicates", "-D", help="Every record of a job id (requeues).")
    ] = False,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format", "--fields", "-o", help="Fields, with optional %WIDTH (%-WIDTH left-aligns)."
        ),
    ] = None,
    brief: Annotated[
        bool, typer.Option("--brief", "-b", help="JobID, State, ExitCode only.")
    ] = False,
    noheader: Annotated[bool, typer.Option("--noheader", "-n", help="No header lines.")] = False,
    parsable: Annotated[
        bool, typer.Option("--parsable", "-p", help="'|'-separated, with a trailing '|'.")
    ] = False,
    parsable2: Annotated[
        bool, typer.Option("--parsable2", "-P", help="'|'-separated, no trailing '|'.")
    ] = False,
    delimiter: Annotated[str, typer.Option("--delimiter", help="Delimiter for -p/-P.")] = "|",
    helpformat: Annotated[
        bool,
        typer.Option("--helpformat", "--help-fields", "-e", help="List the field names and exit."),
    ] = False,
) -> None:
    """Query job records as sacct(1) does, in its formats, byte for byte.

    Example: jobacct sacct -a -X -o JobID,State,ExitCode,DerivedExitCode,Comment -S now-1days
    """
    if helpformat:
        _print_helpformat()
        return
    app_ctx: AppContext = ctx.obj
    now = _now()
    spec = ",".join(fmt) if fmt else ""
    if brief:
        spec = ",".join(x for x in (spec, "jobid,state,exitcode") if x)
    if not spec:
        spec = os.environ.get("SACCT_FORMAT") or DEFAULT_FORMAT
    try:
        columns: list[Column] = resolve_format(spec)
    except FieldError as exc:
        raise UsageError(str(exc)) from exc
    f = build_filter(
        jobs=jobs,
        users=users,
        accounts=accounts,
        clusters=clusters,
        names=names,
        states=states,
        start=start,
        end=end,
        all_users=all_users,
        allocations=allocations,
        duplicates=duplicates,
        caller_uid=caller.caller_uid(),
        now=now,
    )
    try:
        window = default_window(f, now, parse_time("today", now))
    except FilterError:
        assert f.start is not None and f.end is not None
        raise UsageError(
            f"Start time ({format_date(f.start)}) requested is after end time "
            f"({format_date(f.end)})."
        ) from None
    render_ctx = Ctx(now=now, time_format=os.environ.get("SLURM_TIME_FORMAT"))
    mode = "P" if parsable2 else "p" if parsable else None
    engine = app_ctx.engine()
    try:
        with engine.connect() as conn:
            write_lines(
                render_lines(
                    iter_lines(conn, f, window),
                    columns,
                    render_ctx,
                    parsable=mode,
                    delimiter=delimiter,
                    header=not noheader,
                )
            )
    finally:
        engine.dispose()


def _print_helpformat() -> None:
    # sacct -e: every field name, four to a line, each %-19s, space-separated (golden 14_e).
    names = [f.name for f in FIELDS]
    for i in range(0, len(names), 4):
        sys.stdout.write(" ".join(f"{n:<19}" for n in names[i : i + 4]) + "\n")
