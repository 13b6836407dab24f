"""Alembic environment: migrations run on a connection handed over by jobacct.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool

from jobacct.config import resolve_database_url
from jobacct.model import Base

target_metadata = Base.metadata


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Switch SQLite's foreign keys, outside any transaction, and check that it took.

    Batch mode rebuilds tables; with foreign keys on, ON DELETE CASCADE empties the child
    tables (step, annotation, signal_request) while ``job`` is copied. SQLite ignores this
    PRAGMA inside a transaction, and jobacct's engines emit BEGIN on a connection's first
    statement (config._sqlite_pragmas), so it goes to the driver's own connection, which is
    in autocommit mode, after ending whatever the caller had begun (tracker issue 14).
    """
    if connection.in_transaction():
        connection.commit()
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    (state,) = raw.execute("PRAGMA foreign_keys").fetchone()
    if bool(state) != on:
        raise RuntimeError("SQLite did not switch foreign keys: a transaction is open")


def _run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        _sqlite_foreign_keys(connection, on=False)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # a no-op off SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "sqlite":
        bad = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if bad:
            raise RuntimeError(f"foreign key violations after migration: {bad}")
        _sqlite_foreign_keys(connection, on=True)


def run_migrations_online() -> None:
    """Use the caller's connection if given, else one from jobacct's URL rule."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("db")
    engine = create_engine(resolve_database_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them online")
run_migrations_online()
