"""``jobacct serve``: the daemon that alone opens the store (tracker issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jobacct.cli.context import AppContext
from jobacct.errors import UsageError


def serve(
    ctx: typer.Context,
    socket_path: Annotated[
        str,
        typer.Option("--socket", metavar="PATH", help="Unix socket to listen on."),
    ] = "/run/jobacct/jobacct.sock",
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=64, help="Threads reading for the REST API.")
    ] = 4,
) -> None:
    """Serve the store to local users over a Unix socket (run it as the store's owner).

    Clients are identified by the kernel (SO_PEERCRED). Every command runs through it with
    JOBACCT_SERVER=unix:PATH, --server or 'server' in the site config; slurmrestd clients
    can read GET /slurmdb/v0.0.38/jobs and /slurmdb/v0.0.38/job/{job_id}.

    Example: jobacct --db /var/lib/jobacct/jobacct.sqlite serve --socket /run/jobacct/jobacct.sock
    """
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise UsageError(
            "jobacct serve needs aiohttp: install jobacct[server] (pip install 'jobacct[server]')"
        ) from None
    from jobacct.server.app import serve as run_server

    app_ctx: AppContext = ctx.obj
    run_server(app_ctx.url(), Path(socket_path), threads=threads, db_option=app_ctx.db_option)
