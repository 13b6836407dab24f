"""A PostgreSQL or MariaDB store whose database does not exist yet: saying so, or creating it.

``jobacct db init`` connects to the database its URL names; when the server answers that
there is no such database (PostgreSQL SQLSTATE 3D000, MariaDB error 1049), the error names
the database, the server and how to create it; ``db init --create`` creates it (through the
server's maintenance database, ``postgres``, or no database on MariaDB) with the same
account, then migrates it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from jobacct.errors import DatabaseUnavailableError, UsageError

#: PostgreSQL's invalid_catalog_name, MariaDB's ER_BAD_DB_ERROR.
PG_NO_DATABASE = "3D000"
MYSQL_NO_DATABASE = 1049


def is_missing_database(engine: Engine, exc: BaseException | None) -> bool:
    """Whether ``exc`` (a DBAPIError's ``orig``) says the URL's database does not exist."""
    name = engine.url.database
    if not name or exc is None:
        return False
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        sqlstate = getattr(exc, "sqlstate", None)
        return sqlstate == PG_NO_DATABASE or f'database "{name}" does not exist' in str(exc)
    if backend in ("mysql", "mariadb"):
        args: Any = getattr(exc, "args", ())
        return bool(args) and args[0] == MYSQL_NO_DATABASE
    return False


def _where(url: URL) -> str:
    kind = "PostgreSQL" if url.get_backend_name() == "postgresql" else "MariaDB"
    port = f":{url.port}" if url.port else ""
    return f"the {kind} server {url.host or 'localhost'}{port}"


def missing_database_error(url: URL) -> DatabaseUnavailableError:
    """The error for a server URL whose database does not exist: which, where, how to fix."""
    name = url.database
    if url.get_backend_name() == "postgresql":
        how = f"createdb -h {url.host or 'localhost'} -p {url.port or 5432}"
        how += f" -U {url.username} {name}" if url.username else f" {name}"
    else:
        how = f"mariadb -h {url.host or 'localhost'} -e 'CREATE DATABASE {name}'"
    return DatabaseUnavailableError(
        f"database '{name}' does not exist on {_where(url)}: create it ({how}),"
        " or run 'jobacct db init --create'"
    )


def create_database(url: URL) -> str:
    """Create the database ``url`` names on its server; the line that says so.

    PostgreSQL: ``CREATE DATABASE`` from the ``postgres`` database (UTF8 is the server's
    default); MariaDB: ``CREATE DATABASE ... CHARACTER SET utf8mb4`` without a database.

    Raises:
        UsageError: a name that is not a plain identifier (letters, digits, ``_``, ``$``).
        sqlalchemy.exc.DBAPIError: the server refuses (no CREATEDB right, ...).
    """
    name = url.database or ""
    if not name or not all(c.isalnum() or c in "_$" for c in name):
        raise UsageError(f"will not create database '{name}': not a plain name")
    postgres = url.get_backend_name() == "postgresql"
    # URL.set(database=None) would keep the name: build the server's URL anew.
    server = URL.create(
        url.drivername, url.username, url.password, url.host, url.port,
        "postgres" if postgres else None, url.query,
    )  # fmt: skip
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if postgres:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    finally:
        admin.dispose()
    return f"created database '{name}' on {_where(url)}"
