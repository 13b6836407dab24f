"""``jobacct scancel``: cancel or signal jobs, job steps and array tasks in the store.

The thin layer over :mod:`jobacct.scancel`: options (the command line overrides the
``SCANCEL_*`` environment), scancel's own messages (``scancel: error: ...``) and exit
statuses (the largest Slurm error & 0xFF, slurm-semantics.md §6.7), and the ``-i`` question.
Database problems are reported as every jobacct command reports them.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from jobacct import caller
from jobacct.cli.context import AppContext
from jobacct.textsafe import encodable


def scancel(
    ctx: typer.Context,
    job_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="JOBID",
            help="Jobs to signal: 123, 123_7, 123_[1-5,9], 123_*, 123+1, 123.4, comma lists.",
            show_default=False,
        ),
    ] = None,
    signal: Annotated[
        str | None,
        typer.Option("-s", "--signal", help="Signal name or number (default: cancel, KILL)."),
    ] = None,
    batch: Annotated[
        bool, typer.Option("-b", "--batch", help="Signal the batch shell only.")
    ] = False,
    full: Annotated[
        bool, typer.Option("-f", "--full", help="Signal every step, the batch shell included.")
    ] = False,
    hurry: Annotated[
        bool, typer.Option("-H", "--hurry", help="Skip burst-buffer stage-out.")
    ] = False,
    interactive: Annotated[
        bool, typer.Option("-i", "--interactive", help="Ask before each job.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-Q", "--quiet", help="Do not report jobs that are not found.")
    ] = False,
    verbose: Annotated[
        int, typer.Option("-v", "--verbose", count=True, help="Say what is done.")
    ] = 0,
    account: Annotated[
        str | None, typer.Option("-A", "--account", help="Only jobs of this account.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("-n", "--name", "--jobname", help="Only jobs with this name.")
    ] = None,
    partition: Annotated[
        str | None, typer.Option("-p", "--partition", help="Only jobs in this partition.")
    ] = None,
    qos: Annotated[str | None, typer.Option("-q", "--qos", help="Only jobs of this QOS.")] = None,
    reservation: Annotated[
        str | None, typer.Option("-R", "--reservation", help="Only jobs in this reservation.")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option("-t", "--state", help="Only jobs in this state (PENDING, RUNNING, ...)."),
    ] = None,
    user: Annotated[
        str | None, typer.Option("-u", "--user", help="Only jobs of this user (name or uid).")
    ] = None,
    me: Annotated[bool, typer.Option("--me", help="Only your own jobs.")] = False,
    nodelist: Annotated[
        str | None,
        typer.Option(
            "-w", "--nodelist", help="Only jobs on these nodes (hostlist, or a file if it has /)."
        ),
    ] = None,
    wckey: Annotated[str | None, typer.Option("--wckey", help="Only jobs of this wckey.")] = None,
    clusters: Annotated[
        str | None, typer.Option("-M", "--clusters", help="Comma list of clusters.")
    ] = None,
    ctld: Annotated[
        bool, typer.Option("--ctld", help="Send step signals through the controller.")
    ] = False,
    admin_comment: Annotated[
        str | None,
        typer.Option("--admin-comment", help="Set the jobs' AdminComment (Administrators)."),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why (jobacct): kept and shown by sacct as CancelReason."),
    ] = None,
) -> None:
    """Cancel or signal jobs, as Slurm's scancel does, recording who, when, which signal, why.

    Examples: jobacct scancel 1234; jobacct scancel --signal=USR1 --batch 1236;
    jobacct scancel --state=PENDING --user=bob --partition=debug
    """
    from jobacct.annotate import check_text
    from jobacct.config import write_engine
    from jobacct.scancel import (
        Options,
        ScancelExit,
        apply_environment,
        environment,
        parse_nodelist_option,
        parse_signal_option,
        parse_state_option,
        run_scancel,
        split_ids,
    )

    app_ctx: AppContext = ctx.obj
    given = {
        key
        for key, value in (
            ("account", account),
            ("name", name),
            ("partition", partition),
            ("qos", qos),
            ("user", user),
            ("wckey", wckey),
            ("state", state),
            ("clusters", clusters),
        )
        if value is not None
    }
    given |= {
        key
        for key, value in (
            ("batch", batch),
            ("full", full),
            ("interactive", interactive),
            ("verbose", verbose),
        )
        if value
    }
    try:
        ids = split_ids(job_ids or [])
    except ScancelExit as exc:
        for line in exc.lines:
            sys.stderr.write(encodable(line + "\n"))
        raise typer.Exit(exc.status) from None
    opts = Options(
        ids=ids,
        batch=batch,
        full=full,
        hurry=hurry,
        interactive=interactive,
        quiet=quiet,
        verbose=verbose,
        ctld=ctld,
        account=account,
        name=name,
        partition=partition,
        qos=qos,
        reservation=reservation,
        user=user,
        me=me,
        wckey=wckey,
        clusters=[c for c in clusters.split(",") if c] if clusters else None,
        admin_comment=admin_comment,
        reason=reason,
    )
    try:
        for field, text in (("--reason", reason), ("--admin-comment", admin_comment)):
            if text is not None:
                check_text(field, text)
        warnings = apply_environment(opts, environment(), given)
        if signal is not None:
            opts.signal = parse_signal_option(signal)
        if state is not None:
            opts.state = parse_state_option(state)
        if nodelist is not None:
            opts.nodelist = nodelist
            opts.nodes = parse_nodelist_option(nodelist)
        for line in warnings:
            sys.stderr.write(encodable(line + "\n"))
        if opts.clusters and any(c.lower() in ("all", "-1") for c in opts.clusters):
            opts.clusters = None
        engine = app_ctx.engine()
        try:
            status = run_scancel(
                write_engine(engine),
                opts,
                caller.caller_uid(),
                int(time.time()),
                _write_err,
                _ask if opts.interactive else None,
            )
        finally:
            engine.dispose()
    except ScancelExit as exc:
        for line in exc.lines:
            sys.stderr.write(encodable(line + "\n"))
        raise typer.Exit(exc.status) from None
    raise typer.Exit(status)


def _write_err(text: str) -> None:
    sys.stderr.write(encodable(text))


def _ask(prompt: str) -> bool | None:
    """scancel's ``_confirmation``: ask until y or n; None when standard input ends."""
    while True:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stdout.write("\n")
            return None
        if line[:1] in ("y", "Y"):
            return True
        if line[:1] in ("n", "N"):
            return False
