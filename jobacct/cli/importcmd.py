"""``jobacct import``: load records that real Slurm printed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from jobacct.cli.context import AppContext
from jobacct.config import read_config
from jobacct.errors import UsageError
from jobacct.importer import import_sacct

app = typer.Typer(help="Load records from Slurm's own output.", no_args_is_help=True)


@app.command("sacct")
def sacct(
    ctx: typer.Context,
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="sacct -P/-p output files; - for stdin.")],
    cluster: Annotated[str | None, typer.Option("--cluster", help="Cluster for rows without a Cluster field.")] = None,
) -> None:
    """Import `sacct --parsable2 --format=...` output (header line required), idempotently.

    All files are imported in one transaction: a file with an unreadable row writes nothing.

    Example: sacct -a -P -o ALL -S now-1days | jobacct import sacct --cluster tux -
    """
    app_ctx: AppContext = ctx.obj
    default_cluster = cluster or str(read_config().get("cluster", "cluster"))
    texts: list[tuple[str, list[str]]] = []
    for name in files:
        try:
            if name == "-":
                texts.append(("<stdin>", sys.stdin.read().splitlines()))
            else:
                texts.append((name, Path(name).read_text(encoding="utf-8").splitlines()))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {name}: {exc}") from exc
    with app_ctx.session() as session:
        results = [
            (source, import_sacct(session, lines, default_cluster, source))
            for source, lines in texts
        ]
    for source, result in results:
        ignored = f"; fields not stored: {','.join(result.ignored_fields)}" if result.ignored_fields else ""
        typer.echo(
            f"{source}: {result.jobs_seen} job and {result.steps_seen} step rows,"
            f" {result.jobs_changed} jobs and {result.steps_changed} steps new or changed{ignored}"
        )
