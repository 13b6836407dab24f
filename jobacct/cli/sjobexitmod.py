"""``jobacct sjobexitmod``: list or annotate a job's DerivedExitCode and Comment.

Slurm's contrib script (slurm-semantics.md §3), without its bugs: ``-e`` takes ``CODE`` or
``CODE:SIGNAL`` and ``-e 0`` works, and every failure exits non-zero.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer

from jobacct import caller, store
from jobacct.cli.context import AppContext
from jobacct.cli.output import write_lines
from jobacct.errors import JobAcctError, JobNotFoundError, UsageError
from jobacct.exitcode import ExitCode, ExitCodeError
from jobacct.fields import SJOBEXITMOD_FORMAT, Ctx, resolve_format
from jobacct.jobid import JobIdError, parse_selector
from jobacct.query import JobFilter, Window, iter_lines
from jobacct.render import render_lines


class AccessDeniedError(JobAcctError):
    """ESLURM_ACCESS_DENIED (2002): the caller may not change this job."""


def sjobexitmod(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(metavar="JOBID", help="The job (123, 123_4, 123+1).")],
    exit_code: Annotated[
        str | None, typer.Option("-e", help="New DerivedExitCode: CODE or CODE:SIGNAL.")
    ] = None,
    reason: Annotated[str | None, typer.Option("-r", help="New Comment (the reason).")] = None,
    cluster: Annotated[str | None, typer.Option("-c", help="Cluster of the job.")] = None,
    listing: Annotated[
        bool, typer.Option("-l", help="List the job's exit codes and comment.")
    ] = False,
) -> None:
    """Record why a job really failed (or succeeded): DerivedExitCode and Comment.

    Example: jobacct sjobexitmod -e 49 -r "out of memory" 123
    """
    app_ctx: AppContext = ctx.obj
    try:
        selector = parse_selector(job_id)
        derived = ExitCode.parse(exit_code) if exit_code is not None else None
    except (JobIdError, ExitCodeError) as exc:
        raise UsageError(str(exc)) from exc
    if selector.step_id is not None:
        # sacctmgr takes "jobid=40.0" as job 40 (golden case 16); so do we.
        selector = parse_selector(job_id.split(".", 1)[0])
    if listing:
        _list(app_ctx, job_id, cluster)
        return
    if derived is None and reason is None:
        raise UsageError("Either reason string or exit code required.")
    if reason is not None:
        _check_comment(reason)
    uid = caller.caller_uid()
    with app_ctx.session() as session:
        jobs = store.select_jobs(session, [selector], cluster)
        if not jobs:
            raise JobNotFoundError(f"ESLURM_INVALID_JOB_ID: no job {job_id} in the store")
        for job in jobs:
            # sacctmgr modify job: the owner or an operator (root here) may (§2.3).
            if uid not in (0, job.uid):
                raise AccessDeniedError(
                    f"ESLURM_ACCESS_DENIED: job {job_id} belongs to uid {job.uid}; only its"
                    " owner or root may annotate it"
                )
            store.annotate(session, job, derived, reason)
    sys.stdout.write(f"\n Modification of job {job_id} was successful.\n\n")


def _check_comment(text: str) -> None:
    bad = next((ch for ch in text if ord(ch) < 32 or ord(ch) == 127), None)
    if bad is not None:
        raise UsageError(
            f"the comment contains control character {ord(bad):#04x}; it is stored literally,"
            " so control characters are refused"
        )


def _list(app_ctx: AppContext, job_id: str, cluster: str | None) -> None:
    # What the contrib script runs: sacct -X -j <id> -o JobID,Account,NNodes,... (§3).
    f = JobFilter(selectors=[parse_selector(job_id)], allocations_only=True)
    if cluster is not None:
        f.clusters = [cluster]
    now = int(time.time())
    engine = app_ctx.engine()
    try:
        with engine.connect() as conn:
            write_lines(
                render_lines(
                    iter_lines(conn, f, Window(0, now + 1)),
                    resolve_format(SJOBEXITMOD_FORMAT),
                    Ctx(now=now, time_format=os.environ.get("SLURM_TIME_FORMAT")),
                )
            )
    finally:
        engine.dispose()
