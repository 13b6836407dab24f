"""``jobacct import``: load records that real Slurm printed."""

from __future__ import annotations

import grp
import pwd
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from jobacct import inputs
from jobacct.cli.context import AppContext
from jobacct.config import read_config
from jobacct.errors import UsageError
from jobacct.importer import import_sacct
from jobacct.slurmdbd_import import import_slurmdbd, read_mysql_tsv

app = typer.Typer(help="Load records from Slurm's own output.", no_args_is_help=True)


@app.command("sacct")
def sacct(
    ctx: typer.Context,
    files: Annotated[
        list[str], typer.Argument(metavar="FILE...", help="sacct -P/-p output files; - for stdin.")
    ],
    cluster: Annotated[
        str | None, typer.Option("--cluster", help="Cluster for rows without a Cluster field.")
    ] = None,
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
                texts.append((name, inputs.read_text(name).splitlines()))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {name}: {exc}") from exc
    with app_ctx.session() as session:
        results = [
            (source, import_sacct(session, lines, default_cluster, source))
            for source, lines in texts
        ]
    for source, result in results:
        ignored = (
            f"; fields not stored: {','.join(result.ignored_fields)}"
            if result.ignored_fields
            else ""
        )
        typer.echo(
            f"{source}: {result.jobs_seen} job and {result.steps_seen} step rows,"
            f" {result.jobs_changed} jobs and {result.steps_changed} steps new or changed{ignored}"
        )


def _read_user_map(path: str) -> dict[int, str]:
    """uid -> name from a passwd-format file (``name:x:uid:...``) or ``UID NAME`` lines."""
    try:
        text = inputs.read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    names: dict[int, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) >= 3 and parts[2].isdigit():
            names[int(parts[2])] = parts[0]
            continue
        words = line.split()
        if len(words) == 2 and words[0].isdigit():
            names[int(words[0])] = words[1]
            continue
        raise UsageError(f"{path}:{number}: expected 'name:x:uid:...' or 'UID NAME'")
    return names


def _read_qos_table(path: str) -> dict[int, str]:
    """id -> name from a ``mysql -B`` dump of slurmdbd's ``qos_table`` (sacct's QOS names)."""
    try:
        rows = read_mysql_tsv(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    names: dict[int, str] = {}
    for number, row in enumerate(rows, start=2):
        ident, name = row.get("id"), row.get("name")
        if ident is None or not ident.isdigit() or name is None:
            raise UsageError(f"{path}:{number}: expected the id and name columns of qos_table")
        names[int(ident)] = name
    return names


def _read_tres_table(path: str) -> dict[int, str]:
    """id -> sacct's TRES name (``cpu``, ``gres/gpu``) from a dump of ``tres_table``."""
    try:
        rows = read_mysql_tsv(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    names: dict[int, str] = {}
    for number, row in enumerate(rows, start=2):
        ident, kind, name = row.get("id"), row.get("type"), row.get("name")
        if ident is None or not ident.isdigit() or not kind:
            raise UsageError(
                f"{path}:{number}: expected the id, type and name columns of tres_table"
            )
        if row.get("deleted") not in (None, "0"):
            continue
        # slurmdb_make_tres_string: "type/name" when the TRES has a name, else the type
        names[int(ident)] = f"{kind}/{name}" if name else kind
    return names


def _local_names(ids: set[int], lookup: Callable[[int], str]) -> dict[int, str]:
    names: dict[int, str] = {}
    for ident in ids:
        try:
            names[ident] = lookup(ident)
        except (KeyError, OverflowError):
            continue
    return names


def _ids(rows: list[dict[str, str | None]], column: str) -> set[int]:
    return {int(v) for row in rows if (v := row.get(column)) is not None and v.isdigit()}


_JOB_TABLE_HELP = "mysql -B dump of <cluster>_job_table."
_STEP_TABLE_HELP = "mysql -B dump of <cluster>_step_table."
_QOS_TABLE_HELP = (
    "mysql -B dump of qos_table (id and name columns), naming id_qos (without it QOS is empty)."
)
_TRES_TABLE_HELP = (
    "mysql -B dump of tres_table (id, type, name columns), naming GRES, licenses and other"
    " TRES beyond the built-in eight (without it they are left out of AllocTRES/ReqTRES)."
)
_USER_MAP_HELP = (
    "uid -> user name: passwd format or 'UID NAME' lines (default: this host's passwd)."
)


@app.command("slurmdbd")
def slurmdbd(
    ctx: typer.Context,
    job_table: Annotated[str, typer.Option("--job-table", metavar="FILE", help=_JOB_TABLE_HELP)],
    step_table: Annotated[str, typer.Option("--step-table", metavar="FILE", help=_STEP_TABLE_HELP)],
    cluster: Annotated[
        str, typer.Option("--cluster", metavar="NAME", help="Cluster the tables belong to.")
    ],
    user_map: Annotated[
        str | None, typer.Option("--user-map", metavar="FILE", help=_USER_MAP_HELP)
    ] = None,
    qos_table: Annotated[
        str | None, typer.Option("--qos-table", metavar="FILE", help=_QOS_TABLE_HELP)
    ] = None,
    tres_table: Annotated[
        str | None, typer.Option("--tres-table", metavar="FILE", help=_TRES_TABLE_HELP)
    ] = None,
) -> None:
    """Import a Slurm 22.05 slurmdbd's job and step tables (mysql -B dumps), idempotently.

    Both tables are imported in one transaction: a row that cannot be read writes nothing.
    Group names come from this host's group database.

    Example: mysql -B -e 'SELECT * FROM tux_job_table' slurm_acct_db > jobs.tsv
    (likewise tux_step_table, and qos_table and tres_table for QOS and TRES names), then
    jobacct import slurmdbd --job-table jobs.tsv --step-table steps.tsv --cluster tux
    """
    app_ctx: AppContext = ctx.obj
    tables = []
    for name in (job_table, step_table):
        try:
            tables.append(read_mysql_tsv(name))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {name}: {exc}") from exc
    job_rows, step_rows = tables
    if user_map is not None:
        users = _read_user_map(user_map)
    else:
        users = _local_names(_ids(job_rows, "id_user"), lambda uid: pwd.getpwuid(uid).pw_name)
    groups = _local_names(_ids(job_rows, "id_group"), lambda gid: grp.getgrgid(gid).gr_name)
    qos_names = _read_qos_table(qos_table) if qos_table is not None else None
    tres_names = _read_tres_table(tres_table) if tres_table is not None else None
    with app_ctx.session() as session:
        result = import_slurmdbd(
            session,
            job_rows,
            step_rows,
            cluster,
            users,
            groups,
            qos_names=qos_names,
            tres_names=tres_names,
            job_source=job_table,
            step_source=step_table,
        )
    for warning in result.warnings:
        typer.echo(f"jobacct: warning: {warning}", err=True)
    typer.echo(
        f"{job_table}, {step_table}: {result.jobs_seen} job and {result.steps_seen} step rows,"
        f" {result.jobs_changed} jobs and {result.steps_changed} steps new or changed"
    )
