"""``jobacct sacct``: sacct(1)'s selection options and output formats over the store.

The command's options are declared here for Typer; what it does is
:func:`jobacct.sacct_command.run_sacct`, which the common command lines also reach without
Typer (:mod:`jobacct.sacct_fastpath`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from jobacct.appcontext import AppContext
from jobacct.sacct_command import build_filter, run_sacct

__all__ = ["build_filter", "sacct"]


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
    groups: Annotated[
        str | None,
        typer.Option("--group", "--gid", "-g", help="Groups (names or gids, comma list)."),
    ] = None,
    partitions: Annotated[
        str | None, typer.Option("--partition", "-r", help="Partitions (comma list).")
    ] = None,
    qos: Annotated[str | None, typer.Option("--qos", "-q", help="QOS names (comma list).")] = None,
    wckeys: Annotated[
        str | None, typer.Option("--wckeys", "-W", help="WCKeys (comma list).")
    ] = None,
    reasons: Annotated[
        str | None,
        typer.Option("--reason", "-R", help="Stored reasons, e.g. NonZeroExitCode (comma list)."),
    ] = None,
    constraints: Annotated[
        str | None,
        typer.Option("--constraints", "-C", help="Jobs whose constraints hold all of these."),
    ] = None,
    job_flags: Annotated[
        str | None,
        typer.Option(
            "--flags",
            "-F",
            help="Any of SchedSubmit, SchedMain, SchedBackfill, StartReceived (comma list).",
        ),
    ] = None,
    nodelist: Annotated[
        str | None,
        typer.Option(
            "--nodelist", "-N", help="Jobs that ran on any of these nodes: tux[0-3,7] (all users)."
        ),
    ] = None,
    nnodes: Annotated[
        str | None, typer.Option("--nnodes", "-i", help="Node count N or range N-M.")
    ] = None,
    ncpus: Annotated[
        str | None, typer.Option("--ncpus", "-I", help="Allocated CPUs N or range N-M.")
    ] = None,
    timelimit_min: Annotated[
        str | None,
        typer.Option(
            "--timelimit-min", "-k", help="Time limit (M, H:M:S, D-H...); alone: exactly this."
        ),
    ] = None,
    timelimit_max: Annotated[
        str | None,
        typer.Option("--timelimit-max", "-K", help="Upper end of the -k range (needs -k)."),
    ] = None,
    all_clusters: Annotated[
        bool, typer.Option("--allclusters", "-L", help="Every cluster (the default here).")
    ] = False,
    whole_hetjob: Annotated[
        str | None,
        typer.Option(
            "--whole-hetjob", help="yes: -j brings every het component; no: only the id given."
        ),
    ] = None,
    truncate: Annotated[
        bool,
        typer.Option("--truncate", "-T", help="Clip Start/End to the window; Elapsed follows."),
    ] = False,
    expand_array: Annotated[
        bool, typer.Option("--array", help="One line per pending task of an array record.")
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
    long: Annotated[
        bool, typer.Option("--long", "-l", help="sacct's long list: usage statistics too.")
    ] = False,
    noheader: Annotated[bool, typer.Option("--noheader", "-n", help="No header lines.")] = False,
    parsable: Annotated[
        bool, typer.Option("--parsable", "-p", help="'|'-separated, with a trailing '|'.")
    ] = False,
    parsable2: Annotated[
        bool, typer.Option("--parsable2", "-P", help="'|'-separated, no trailing '|'.")
    ] = False,
    delimiter: Annotated[str, typer.Option("--delimiter", help="Delimiter for -p/-P.")] = "|",
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="sacct's JSON document (Slurm 22.05 keys), jobs with their steps nested; "
            "-o/-b/-n are ignored.",
        ),
    ] = False,
    ndjson: Annotated[
        bool,
        typer.Option("--ndjson", help="One JSON job object (steps nested) per line."),
    ] = False,
    csv_out: Annotated[
        bool,
        typer.Option("--csv", help="RFC 4180 CSV of the -o fields (CRLF line ends)."),
    ] = False,
    helpformat: Annotated[
        bool,
        typer.Option("--helpformat", "--help-fields", "-e", help="List the field names and exit."),
    ] = False,
) -> None:
    """Query job records as sacct(1) does, in its formats, byte for byte.

    Example: jobacct sacct -a -X -o JobID,State,ExitCode,DerivedExitCode,Comment -S now-1days
    """
    # Every parameter but ctx is an option of run_sacct's, by the same name (taken before
    # any other local exists).
    options = dict(locals())
    app_ctx: AppContext = options.pop("ctx").obj
    run_sacct(db_option=app_ctx.db_option, **options)
