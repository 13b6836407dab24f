"""``jobacct sjobexitmod``: list or annotate a job's DerivedExitCode and Comment.

Slurm's contrib script (slurm-semantics.md §3), without its bugs: ``-e`` takes ``CODE`` or
``CODE:SIGNAL`` and ``-e 0`` works, ``-c`` selects the cluster, and every failure exits
non-zero. ``--history`` shows every change ever made to the job's annotations.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Annotated

import typer

from jobacct import caller, store
from jobacct.annotate import Changes, annotate_jobs, check_text, history, job_text
from jobacct.cli import listing
from jobacct.cli.context import AppContext
from jobacct.cli.output import write_lines
from jobacct.errors import JobNotFoundError, UsageError
from jobacct.exitcode import ExitCode, ExitCodeError
from jobacct.fields import SJOBEXITMOD_FORMAT, Ctx, resolve_format
from jobacct.jobid import JobIdError, JobSelector, parse_selector
from jobacct.query import JobFilter, Window, iter_lines
from jobacct.render import render_lines
from jobacct.slurmtime import format_date


def sjobexitmod(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(metavar="JOBID", help="The job (123, 123_4, 123+1).")],
    exit_code: Annotated[
        str | None, typer.Option("-e", help="New DerivedExitCode: CODE or CODE:SIGNAL.")
    ] = None,
    reason: Annotated[str | None, typer.Option("-r", help="New Comment (the reason).")] = None,
    cluster: Annotated[str | None, typer.Option("-c", help="Cluster of the job.")] = None,
    list_job: Annotated[
        bool, typer.Option("-l", help="List the job's exit codes and comment.")
    ] = False,
    show_history: Annotated[
        bool, typer.Option("--history", help="Show every change of the job's annotations.")
    ] = False,
    json_out: listing.Json = False,
    parsable2: listing.Parsable2 = False,
    noheader: listing.NoHeader = False,
) -> None:
    """Record why a job really failed (or succeeded): DerivedExitCode and Comment.

    Only the job's owner, root, and users with AdminLevel Operator or Administrator may.

    Example: jobacct sjobexitmod -e 49 -r "out of memory" 123
    """
    app_ctx: AppContext = ctx.obj
    try:
        selector = parse_selector(job_id)
        derived = ExitCode.parse(exit_code) if exit_code is not None else None
    except (JobIdError, ExitCodeError) as exc:
        raise UsageError(str(exc)) from exc
    if selector.step_id is not None:
        # DerivedExitCode and Comment belong to the job: "201.batch" is a slip, not job 201
        # (sacctmgr's "where jobid=40.0" does modify job 40, golden case 16: modify-job
        # keeps that; sjobexitmod refuses it, tracker issue 14).
        raise UsageError(
            f"invalid job id '{job_id}': sjobexitmod annotates jobs; give the job's id"
            f" ({job_id.strip().split('.', 1)[0]})"
        )
    listing.check(json_out, parsable2, noheader)
    if (json_out or parsable2 or noheader) and not (list_job or show_history):
        raise UsageError("--json, -P and -n go with -l or --history")
    output = Output(json_out, parsable2, not noheader)
    if list_job or show_history:
        given = [o for o, v in (("-e", exit_code), ("-r", reason)) if v is not None]
        if given or (list_job and show_history):
            # -l and --history only read; a change given with them would be silently dropped.
            shown = " and ".join([*given, *(["--history"] if list_job and show_history else [])])
            raise UsageError(f"-l/--history list only: {shown} cannot be used with them")
    if list_job:
        _list(app_ctx, selector, cluster, output)
        return
    if show_history:
        _history(app_ctx, selector, cluster, output)
        return
    if derived is None and reason is None:
        raise UsageError("Either reason string or exit code required.")
    changes = Changes(
        derived=derived, comment=None if reason is None else check_text("Comment", reason)
    )
    with app_ctx.session() as session:
        jobs = store.select_jobs(session, [selector], cluster, lock=True)
        jobs = [j for j in jobs if caller.may_read(j.uid, j.account)]  # PrivateData=jobs
        if not jobs:
            raise JobNotFoundError(f"ESLURM_INVALID_JOB_ID: no job {job_id} in the store")
        annotate_jobs(session, jobs, changes, caller.caller_uid(), "sjobexitmod", int(time.time()))
    sys.stdout.write(f"\n Modification of job {job_id} was successful.\n\n")


@dataclass(frozen=True)
class Output:
    """How -l and --history print: --json, -P, and whether with a header (-n)."""

    json: bool = False
    parsable2: bool = False
    header: bool = True


def _list(app_ctx: AppContext, selector: JobSelector, cluster: str | None, out: Output) -> None:
    # What the contrib script runs: sacct -X -j <id> -o JobID,Account,NNodes,... (§3).
    f = JobFilter(selectors=[selector], allocations_only=True, visible=caller.read_scope())
    if cluster is not None:
        f.clusters = [cluster]
    now = int(time.time())
    engine = app_ctx.engine()
    try:
        with engine.connect() as conn:
            lines = render_lines(
                iter_lines(conn, f, Window(0, now + 1)),
                resolve_format(SJOBEXITMOD_FORMAT),
                Ctx(now=now, time_format=os.environ.get("SLURM_TIME_FORMAT")),
                parsable="P" if out.parsable2 or out.json else None,
                delimiter=_UNIT if out.json else "|",
                header=out.header or out.json,
            )
            if out.json:
                # The -P cells as sacct prints them, split on a separator no cell holds.
                columns = next(lines).split(_UNIT)
                listing.write_json("jobs", columns, (line.split(_UNIT) for line in lines))
            else:
                write_lines(lines)
    finally:
        engine.dispose()


#: The separator of the cells turned into JSON: a control character, which stored text
#: never holds (jobacct.textsafe refuses it at every input).
_UNIT = "\x1f"
HISTORY_COLUMNS = ("Time", "JobID", "Field", "Old", "New", "UID", "Command")


def _history(app_ctx: AppContext, selector: JobSelector, cluster: str | None, out: Output) -> None:

    with app_ctx.session(write=False) as session:
        jobs = store.select_jobs(session, [selector], cluster)
        jobs = [j for j in jobs if caller.may_read(j.uid, j.account)]  # PrivateData=jobs
        if not jobs:
            raise JobNotFoundError(f"ESLURM_INVALID_JOB_ID: no job {selector} in the store")
        rows = [
            (
                format_date(a.time),
                job_text(job),
                a.field,
                a.old_value,
                a.new_value,
                a.uid,
                a.command,
            )
            for job, a in history(session, jobs)
        ]
    # Without -P or --json it prints as -P does: the history was always '|'-separated.
    listing.write_records("history", HISTORY_COLUMNS, rows, json_out=out.json, header=out.header)
