"""``jobacct import``: load records that real Slurm printed."""

from __future__ import annotations

import grp
import io
import pwd
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any

import typer

from jobacct import inputs
from jobacct.cli.context import AppContext
from jobacct.cli.progress import ImportProgress
from jobacct.config import read_config
from jobacct.errors import UsageError
from jobacct.jobid import check_cluster_name
from jobacct.lines import bounded_lines
from jobacct.parallel_import import worker_count
from jobacct.slurmdbd_import import read_mysql_tsv, tres_name
from jobacct.slurmdbd_stream import (
    DEFAULT_CHUNK_ROWS,
    StreamResult,
    TsvReader,
    import_slurmdbd_stream,
)
from jobacct.slurmtime import parse_time

_CHUNK_HELP = "Rows (jobs + steps) written per transaction."
_WORKERS_HELP = (
    "Processes converting rows while this one writes (default: one per CPU, at most 4, for"
    " inputs of 4 MiB or more; 1: convert in this process)."
)

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
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Leave out unreadable rows, count and list them.")
    ] = False,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", metavar="N", min=1, help=_CHUNK_HELP)
    ] = DEFAULT_CHUNK_ROWS,
    keep_existing: Annotated[
        bool,
        typer.Option(
            "--keep-existing",
            help="Write only records the store does not hold; stored ones stay as they are.",
        ),
    ] = False,
) -> None:
    """Import `sacct --parsable2 --format=...` output (header line required), idempotently.

    Each file is read as a stream and written in chunks of rows, one transaction each: an
    unreadable row stops the import with nothing of its chunk written (earlier chunks stay;
    a re-run completes it), or is left out with --skip-bad. Progress and the summary go to
    stderr.

    Example: sacct -a -P -o ALL -S now-1days | jobacct import sacct --cluster tux -
    """
    app_ctx: AppContext = ctx.obj
    default_cluster = _cluster(
        cluster if cluster is not None else str(read_config().get("cluster", "cluster"))
    )
    handles: list[tuple[str, Any, int | None]] = []
    try:
        for name in files:
            if name == "-":
                handles.append(("<stdin>", sys.stdin, None))
                continue
            try:
                # Through the daemon the client opens the file (jobacct.inputs): a pipe.
                binary = inputs.open_binary(name)
            except OSError as exc:
                raise inputs.unreadable(name, exc) from None
            handle = io.TextIOWrapper(binary, encoding="utf-8")
            handles.append((name, handle, inputs.size_of(binary)))
        engine = app_ctx.engine()
        try:
            for source, handle, size in handles:
                _sacct_one(
                    engine, source, handle, size, default_cluster, skip_bad, chunk_rows,
                    keep_existing,
                )  # fmt: skip
        finally:
            engine.dispose()
    finally:
        for _, handle, size in handles:
            if size is not None:
                handle.close()


def _sacct_one(
    engine: Any,
    source: str,
    handle: Any,
    size: int | None,
    default_cluster: str,
    skip_bad: bool,
    chunk_rows: int,
    keep_existing: bool = False,
) -> None:
    from jobacct.sacct_stream import import_sacct_stream

    def position() -> tuple[int, int | None]:
        return (handle.buffer.tell() if size is not None else 0), size

    with ImportProgress(f"import sacct {source}", position if size else None) as progress:
        try:
            result = import_sacct_stream(
                engine,
                bounded_lines(handle, source),
                default_cluster,
                source,
                chunk_rows=chunk_rows,
                skip_bad=skip_bad,
                keep_existing=keep_existing,
                on_chunk=lambda _result, rows: progress.update(rows),
            )
        except (OSError, UnicodeDecodeError) as exc:
            raise inputs.unreadable(source, exc) from None
    for message in result.errors:
        typer.echo(f"jobacct: skipped: {message}", err=True)
    for message in result.warnings:
        _warn(message)
    ignored = (
        f"; fields not stored: {','.join(result.ignored_fields)}" if result.ignored_fields else ""
    )
    skipped = f", {result.bad_rows} bad rows skipped" if result.bad_rows else ""
    if keep_existing:
        skipped += f", {result.kept_existing} stored records kept as they are"
    typer.echo(
        f"{source}: {result.jobs_seen} job and {result.steps_seen} step rows,"
        f" {result.jobs_changed} jobs and {result.steps_changed} steps new or changed{skipped}"
        f"{ignored} ({progress.elapsed():.1f} s, {progress.rate():,.0f} rows/s)",
        err=True,
    )


def _cluster(name: str) -> str:
    """The --cluster value, checked (empty or 100 characters were stored, issue 14)."""
    try:
        return check_cluster_name(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _read_user_map(path: str) -> dict[int, str]:
    """uid -> name from a passwd-format file (``name:x:uid:...``) or ``UID NAME`` lines."""
    try:
        text = inputs.read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise inputs.unreadable(path, exc) from None
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
    if not names:
        # An empty map would name nobody and blank the user names of every job it touches.
        raise UsageError(f"{path}: no users in the user map")
    return names


def _read_dump(path: str) -> list[dict[str, str | None]]:
    try:
        return read_mysql_tsv(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise inputs.unreadable(path, exc) from None


def _read_qos_table(path: str) -> dict[int, str]:
    """id -> name from a ``mysql -B`` dump of slurmdbd's ``qos_table`` (sacct's QOS names)."""
    names: dict[int, str] = {}
    for number, row in enumerate(_read_dump(path), start=2):
        ident, name = row.get("id"), row.get("name")
        if ident is None or not ident.isdigit() or name is None:
            raise UsageError(f"{path}:{number}: expected the id and name columns of qos_table")
        names[int(ident)] = name
    return names


def _read_tres_table(path: str) -> dict[int, str]:
    """id -> sacct's TRES name (``cpu``, ``gres/gpu``) from a dump of ``tres_table``."""
    names: dict[int, str] = {}
    for number, row in enumerate(_read_dump(path), start=2):
        ident, kind, name = row.get("id"), row.get("type"), row.get("name")
        if ident is None or not ident.isdigit() or not kind:
            raise UsageError(
                f"{path}:{number}: expected the id, type and name columns of tres_table"
            )
        if row.get("deleted") not in (None, "0"):
            continue
        names[int(ident)] = tres_name(kind, name)
    return names


class _LocalNames(Mapping[int, str]):
    """uid/gid -> name from this host's passwd or group database, looked up when first
    needed (a streamed import meets its users as it goes)."""

    def __init__(self, lookup: Callable[[int], str]) -> None:
        self._lookup = lookup
        self._known: dict[int, str | None] = {}

    def get(self, key: int, default: Any = None) -> Any:
        if key not in self._known:
            try:
                self._known[key] = self._lookup(key)
            except (KeyError, OverflowError):
                self._known[key] = None
        found = self._known[key]
        return default if found is None else found

    def __getitem__(self, key: int) -> str:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return str(found)

    def __iter__(self) -> Iterator[int]:
        return (k for k, v in self._known.items() if v is not None)

    def __len__(self) -> int:
        return sum(1 for v in self._known.values() if v is not None)


def _passwd_names() -> _LocalNames:
    return _LocalNames(lambda uid: pwd.getpwuid(uid).pw_name)


def _group_names() -> _LocalNames:
    return _LocalNames(lambda gid: grp.getgrgid(gid).gr_name)


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
    "uid -> user name: passwd format or 'UID NAME' lines (default: this host's passwd;"
    " with --from, the users of slurmdbd's associations)."
)


_FROM_HELP = (
    "Read a live slurmdbd database instead of dumps: mysql+pymysql://user@host/slurm_acct_db."
)


def _summary(label: str, result: StreamResult, progress: ImportProgress) -> str:
    skipped = f", {result.bad_rows} bad rows skipped" if result.bad_rows else ""
    return (
        f"{label}: {result.jobs_seen} job and {result.steps_seen} step rows,"
        f" {result.jobs_changed} jobs and {result.steps_changed} steps new or changed{skipped}"
        f" ({progress.elapsed():.1f} s, {progress.rate():,.0f} rows/s)"
    )


def _progress_hook(progress: ImportProgress) -> Callable[[StreamResult, int], None]:
    def hook(_result: StreamResult, rows: int) -> None:
        progress.update(rows)

    return hook


def _warn(message: str) -> None:
    typer.echo(f"jobacct: warning: {message}", err=True)


def _report_skipped(result: StreamResult) -> None:
    for message in result.errors:
        typer.echo(f"jobacct: skipped: {message}", err=True)
    if result.bad_rows > len(result.errors):
        typer.echo(
            f"jobacct: skipped: (and {result.bad_rows - len(result.errors)} more bad rows)",
            err=True,
        )


@app.command("slurmdbd")
def slurmdbd(
    ctx: typer.Context,
    cluster: Annotated[
        str, typer.Option("--cluster", metavar="NAME", help="Cluster the tables belong to.")
    ],
    job_table: Annotated[
        str | None, typer.Option("--job-table", metavar="FILE", help=_JOB_TABLE_HELP)
    ] = None,
    step_table: Annotated[
        str | None, typer.Option("--step-table", metavar="FILE", help=_STEP_TABLE_HELP)
    ] = None,
    source_url: Annotated[
        str | None, typer.Option("--from", metavar="URL", help=_FROM_HELP)
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental", help="With --from: read only what changed since the last run."
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="TIME", help="With --from: read the jobs changed since TIME."
        ),
    ] = None,
    follow: Annotated[
        float | None,
        typer.Option(
            "--follow",
            metavar="SECONDS",
            help="With --from: keep importing what changed, every SECONDS (until interrupted).",
        ),
    ] = None,
    user_map: Annotated[
        str | None, typer.Option("--user-map", metavar="FILE", help=_USER_MAP_HELP)
    ] = None,
    qos_table: Annotated[
        str | None, typer.Option("--qos-table", metavar="FILE", help=_QOS_TABLE_HELP)
    ] = None,
    tres_table: Annotated[
        str | None, typer.Option("--tres-table", metavar="FILE", help=_TRES_TABLE_HELP)
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Leave out unreadable rows, count and list them.")
    ] = False,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", metavar="N", min=1, help=_CHUNK_HELP)
    ] = DEFAULT_CHUNK_ROWS,
    workers: Annotated[
        int | None, typer.Option("--workers", metavar="N", min=1, help=_WORKERS_HELP)
    ] = None,
) -> None:
    """Import a Slurm 22.05 slurmdbd's job and step tables, idempotently, in chunks.

    From mysql -B dumps (--job-table, --step-table, both in job_db_inx order as mysql dumps
    them) or straight from slurmdbd's database (--from). Each chunk of rows is written in one
    transaction: a bad row stops the import with nothing of its chunk written (earlier chunks
    stay; a re-run completes the import), or is left out with --skip-bad. Progress and the
    summary go to stderr. Group names come from this host's group database.

    Example: mysql -B -e 'SELECT * FROM tux_job_table' slurm_acct_db > jobs.tsv
    (likewise tux_step_table, and qos_table and tres_table for QOS and TRES names), then
    jobacct import slurmdbd --job-table jobs.tsv --step-table steps.tsv --cluster tux

    Example: jobacct import slurmdbd --from mysql+pymysql://slurm@dbhost/slurm_acct_db
    --cluster tux --incremental   (from cron; or --follow 60)
    """
    app_ctx: AppContext = ctx.obj
    cluster = _cluster(cluster)
    users: Mapping[int, str] | None = _read_user_map(user_map) if user_map is not None else None
    if source_url is not None:
        if job_table is not None or step_table is not None:
            raise UsageError("--from reads the tables itself: leave out --job-table/--step-table")
        _from_database(
            app_ctx,
            source_url,
            cluster,
            users,
            incremental,
            since,
            follow,
            skip_bad,
            chunk_rows,
            worker_count(workers),
        )
        return
    if incremental or since is not None or follow is not None:
        raise UsageError("--incremental, --since and --follow need --from URL")
    if job_table is None or step_table is None:
        raise UsageError("give --job-table and --step-table (mysql -B dumps), or --from URL")
    readers = []
    for name in (job_table, step_table):
        try:
            readers.append(TsvReader(name))
        except OSError as exc:
            raise inputs.unreadable(name, exc) from None
    jobs_reader, steps_reader = readers

    def position() -> tuple[int, int | None]:
        return (
            jobs_reader.bytes_read + steps_reader.bytes_read,
            jobs_reader.size + steps_reader.size,
        )

    engine = app_ctx.engine()
    label = f"{job_table}, {step_table}"
    try:
        with ImportProgress("import slurmdbd", position) as progress:
            try:
                result = import_slurmdbd_stream(
                    engine,
                    jobs_reader,
                    steps_reader,
                    cluster,
                    users if users is not None else _passwd_names(),
                    _group_names(),
                    qos_names=_read_qos_table(qos_table) if qos_table is not None else None,
                    tres_names=_read_tres_table(tres_table) if tres_table is not None else None,
                    job_source=job_table,
                    step_source=step_table,
                    chunk_rows=chunk_rows,
                    skip_bad=skip_bad,
                    on_warning=_warn,
                    on_chunk=_progress_hook(progress),
                    workers=worker_count(workers, (jobs_reader.size, steps_reader.size)),
                )
            except (OSError, UnicodeDecodeError) as exc:
                raise inputs.unreadable(label, exc) from None
    finally:
        engine.dispose()
    _report_skipped(result)
    typer.echo(_summary(label, result, progress), err=True)


def _from_database(
    app_ctx: AppContext,
    url: str,
    cluster: str,
    users: Mapping[int, str] | None,
    incremental: bool,
    since_text: str | None,
    follow: float | None,
    skip_bad: bool,
    chunk_rows: int,
    workers: int,
) -> None:
    from jobacct.live_import import import_live
    from jobacct.slurmdbd_live import LiveSource

    since = None
    if since_text is not None:
        try:
            since = parse_time(since_text, int(time.time()))
        except ValueError as exc:
            raise UsageError(f"invalid --since '{since_text}': {exc}") from exc
    if follow is not None and follow <= 0:
        raise UsageError("--follow needs a positive number of seconds")
    engine = app_ctx.engine()
    live = LiveSource(url, cluster)
    stop = _InterruptBetweenRounds() if follow is not None else None
    try:
        first = True
        while True:
            if stop is not None and stop.requested:
                raise KeyboardInterrupt
            with ImportProgress("import slurmdbd --from") as progress:
                done = import_live(
                    engine,
                    live,
                    cluster,
                    incremental=incremental or follow is not None,
                    since=since if first else None,
                    user_names=users,
                    group_names=_group_names(),
                    chunk_rows=chunk_rows,
                    skip_bad=skip_bad,
                    on_warning=_warn,
                    on_chunk=_progress_hook(progress),
                    workers=workers,
                )
            _report_skipped(done.result)
            if follow is None or done.result.jobs_seen or first:
                typer.echo(_summary(f"{live.shown} {cluster}", done.result, progress), err=True)
            if follow is None:
                return
            first = False
            live.close()
            assert stop is not None
            if stop.wait(follow):
                raise KeyboardInterrupt
    finally:
        if stop is not None:
            stop.restore()
        live.close()
        engine.dispose()


class _InterruptBetweenRounds:
    """--follow's Ctrl-C: noted while a round runs, acted on between rounds.

    A KeyboardInterrupt raised inside a round lands wherever the database drivers happen to
    be (SQLAlchemy's pool then logs a traceback while it resets the connection); the round's
    chunks are transactions, so finishing the round and stopping before the next is clean.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._previous = signal.signal(signal.SIGINT, self._note)

    def _note(self, _signum: int, _frame: Any) -> None:
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; True as soon as Ctrl-C was pressed."""
        return self._event.wait(seconds)

    def restore(self) -> None:
        signal.signal(signal.SIGINT, self._previous)
