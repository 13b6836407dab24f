"""``jobacct db``: create, migrate and inspect the store's schema."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from jobacct import migrate, serverdb
from jobacct.cli.context import AppContext
from jobacct.config import enable_wal, sqlite_path
from jobacct.errors import DatabaseUnavailableError, UsageError


@contextmanager
def _readable(engine: Engine) -> Iterator[None]:
    """Turn a file that is not a database (or an unreachable server) into one error line."""
    try:
        yield
    except DBAPIError as exc:
        raise DatabaseUnavailableError(
            f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}"
        ) from None


app = typer.Typer(help="Create, migrate and inspect the database.", no_args_is_help=True)


@app.command("init")
def init(
    ctx: typer.Context,
    create: Annotated[
        bool,
        typer.Option(
            "--create",
            help="PostgreSQL/MariaDB: create the URL's database if the server has none.",
        ),
    ] = False,
) -> None:
    """Create the database (a SQLite file is made if missing) and migrate it to head.

    A new SQLite file is made mode 0600, in a directory made mode 0700 if missing: only its
    owner (the account of `jobacct serve`) may open it; everyone else goes through the daemon.

    On PostgreSQL or MariaDB the database must exist (the error says how to create it), or
    --create creates it.

    Example: jobacct --db /var/lib/jobacct/jobacct.sqlite db init
    """
    app_ctx: AppContext = ctx.obj
    created = _create_private(app_ctx.url())
    engine = app_ctx.engine(create=True, check_schema=False)
    try:
        with _readable(engine):
            try:
                migrate.check_migratable(engine)
            except DBAPIError as exc:
                if not serverdb.is_missing_database(engine, exc.orig):
                    raise
                if not create:
                    raise serverdb.missing_database_error(engine.url) from None
                typer.echo(serverdb.create_database(engine.url))
                migrate.check_migratable(engine)
            enable_wal(engine)
        migrate.upgrade(engine)
        typer.echo(f"database at {migrate.current_revision(engine)} (head)")
    finally:
        engine.dispose()
    if created is not None:
        typer.echo(created)


def _create_private(url: str) -> str | None:
    """Make a missing SQLite file 0600 (its directory 0700 if missing); what was done.

    SQLite gives the -wal and -shm files the mode of the database file, so they are 0600
    too. An existing directory is left as it is, but a mode that lets others in is named.
    """
    path = sqlite_path(url)
    if path is None or path.exists():
        return None
    made_dir = not path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(path, 0o600)  # whatever the umask
    dir_mode = stat.S_IMODE(path.parent.stat().st_mode)
    where = (
        f"in new directory {path.parent} (mode 0700)"
        if made_dir
        else (f"in {path.parent} (mode {dir_mode:04o})")
    )
    note = ""
    if dir_mode & 0o077:
        note = f"; for 'jobacct serve' make the directory private: chmod 700 {path.parent}"
    return f"created {path} (mode 0600) {where}{note}"


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate an existing database up to the newest schema (or REVISION).

    Example: jobacct db upgrade
    """
    app_ctx: AppContext = ctx.obj
    engine = app_ctx.engine(check_schema=False)
    try:
        with _readable(engine):
            migrate.check_migratable(engine)
        if revision not in ("head", "heads") and revision not in migrate.known_revisions():
            raise UsageError(f"unknown revision '{revision}' (head {migrate.head_revision()})")
        migrate.upgrade(engine, revision)
        typer.echo(f"database at {migrate.current_revision(engine)}")
    finally:
        engine.dispose()


@app.command("current")
def current(ctx: typer.Context) -> None:
    """Print the database's schema revision and whether it is at head.

    Example: jobacct db current
    """
    app_ctx: AppContext = ctx.obj
    engine = app_ctx.engine(check_schema=False)
    try:
        with _readable(engine):
            rev = migrate.check_migratable(engine)
        head = migrate.head_revision()
        state = "head" if rev == head else f"behind head {head}: run 'jobacct db upgrade'"
        typer.echo(f"{rev or '(empty)'} ({state})")
    finally:
        engine.dispose()
