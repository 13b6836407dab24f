"""``jobacct shim``: feed controller events into the store (tracker issue 5, docs/events.md).

``ingest`` reads JSON Lines events from files or stdin, streaming, one transaction per batch;
``jobcomp`` is a ``JobCompType=jobcomp/script`` program (README "Controller shim").
"""

from __future__ import annotations

import json
import os
import select
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO, Annotated, Any

import typer

from jobacct import inputs
from jobacct.cli.context import AppContext
from jobacct.errors import JobAcctError, UsageError

app = typer.Typer(help="Controller events in: the shim's transports.", no_args_is_help=True)

#: How long a pipe may stay quiet before the events read so far are committed (seconds).
IDLE_FLUSH = 0.2


def _lines(name: str, handle: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) of a stream; (0, None) whenever a pipe stays quiet IDLE_FLUSH s.

    A pipe from a live controller may pause for minutes: what was read before the pause is
    committed then, not when the batch fills.
    """
    fd = handle.fileno()
    # By the open file, not by the name: through the daemon a named file arrives as a pipe.
    regular = not os.isatty(fd) and _is_regular(fd)
    if regular:
        for number, line in enumerate(handle, start=1):
            yield number, line
        return
    pending = b""
    number = 0
    while True:
        ready, _, _ = select.select([fd], [], [], IDLE_FLUSH)
        if not ready:
            yield 0, None
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            number += 1
            yield number, line
    if pending:
        yield number + 1, pending


def _is_regular(fd: int) -> bool:
    import stat

    return stat.S_ISREG(os.fstat(fd).st_mode)


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    files: Annotated[
        list[str] | None,
        typer.Argument(metavar="[FILE]...", help="JSON Lines event files; - (default) is stdin."),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, help="Events per transaction.", show_default=True),
    ] = 5000,
) -> None:
    """Apply controller events (JSON Lines, schema 1; docs/events.md), streaming.

    One transaction per batch: a batch with a bad event (malformed, unknown type, unknown job
    for a signal, a cancel from a user who may not) writes nothing and the command stops
    with one error line naming the event's file, line and key; the batches before it stay
    applied. Events already applied are skipped. A progress bar is shown on a terminal.

    Example: jobacct shim ingest events.jsonl
    """
    import logging

    from jobacct.shim.apply import ApplySummary, ShimEventError, apply, parse_event

    # A write collision with another ingester is rolled back and retried (apply's docstring);
    # psycopg logs the aborted executemany pipeline as a WARNING on stderr, which is noise.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    app_ctx: AppContext = ctx.obj
    names = files or ["-"]
    engine = app_ctx.engine()
    total = ApplySummary()
    progress, task = _progress(names)
    batch: list[Any] = []
    first_where = ""

    def flush() -> None:
        nonlocal batch
        if not batch:
            return
        total.add(apply(engine, batch))
        if progress is not None:
            progress.update(task, completed=total.received)
        batch = []

    try:
        with ExitStack() as stack:
            if progress is not None:
                stack.enter_context(progress)
            for name in names:
                handle = _open(name, stack)
                label = "<stdin>" if name == "-" else name
                for number, raw in _lines(name, handle):
                    if raw is None:
                        flush()
                        continue
                    text = raw.decode("utf-8", errors="strict").strip()
                    if not text:
                        continue
                    where = f"{label}:{number}"
                    if not batch:
                        first_where = where
                    batch.append(parse_event(text, where))
                    if len(batch) >= batch_size:
                        flush()
            flush()
    except ShimEventError as exc:
        # The batch being read or applied is rolled back; earlier batches stay committed.
        raise JobAcctError(
            f"{exc} (nothing from {first_where} on was applied;"
            f" {total.received} events before it were)"
        ) from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"input is not UTF-8: {exc}") from None
    finally:
        engine.dispose()
    typer.echo(_describe(total))


def _open(name: str, stack: ExitStack) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    try:
        return stack.enter_context(inputs.open_binary(name))
    except OSError as exc:
        raise inputs.unreadable(name, exc) from None


def _progress(names: list[str]) -> tuple[Any, Any]:
    """A Rich progress bar on stderr when it is a terminal (events applied); else None."""
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("applying events"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("events", total=None)
    return progress, task


def _describe(total: Any) -> str:
    return (
        f"{total.received} events: {total.applied} applied"
        f" ({total.already_done} answered ESLURM_ALREADY_DONE),"
        f" {total.duplicates} already applied;"
        f" {total.jobs_written} job and {total.steps_written} step records written"
    )


@app.command("jobcomp")
def jobcomp(
    ctx: typer.Context,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster", help="Cluster when CLUSTER is empty (default: config, else 'cluster')."
        ),
    ] = None,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the events as JSON Lines; write nothing.")
    ] = False,
) -> None:
    """Run as Slurm's JobCompType=jobcomp/script program: record the finished job.

    Reads the variables slurmctld sets (JOBID, SUBMIT, START, END, JOBSTATE, EXITCODE,
    DERIVED_EC, UID, ...) and applies them as events with fixed sequence numbers, so a second
    run for the same job changes nothing. slurmctld passes no other variables: give the
    database with a wrapper script (JOBACCT_DATABASE_URL) or the site config file.

    Example: JobCompType=jobcomp/script, JobCompLoc=/usr/local/sbin/jobacct-jobcomp
    """
    from jobacct.config import read_config
    from jobacct.shim.jobcomp import events_from_env

    default_cluster = cluster or str(read_config().get("cluster", "cluster"))
    events = events_from_env(os.environ, default_cluster)
    if print_only:
        for event in events:
            typer.echo(json.dumps(event, separators=(",", ":")))
        return
    from jobacct.shim.apply import apply

    app_ctx: AppContext = ctx.obj
    engine = app_ctx.engine()
    try:
        summary = apply(engine, events)
    finally:
        engine.dispose()
    typer.echo(_describe(summary))
