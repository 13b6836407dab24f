"""Where the database is: one precedence rule, and engines made the same way everywhere.

Precedence: ``--db`` > ``JOBACCT_DATABASE_URL`` > the site config file > the embedded default,
a SQLite file in the user's data directory. A value without ``://`` is a SQLite path.
"""

from __future__ import annotations

import os

from jobacct.errors import DatabaseUnavailableError, UsageError

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from sqlalchemy import Engine

# SQLAlchemy is imported where it is used: `jobacct sacct` on a SQLite file never loads it
# (jobacct.fastread; about 0.45 s of start-up). So is pathlib, where a Path is made: a
# sacct on a sqlite:/// URL needs none (3 ms of its start-up, tracker issue 16).

ENV_URL = "JOBACCT_DATABASE_URL"
ENV_CONFIG = "JOBACCT_CONFIG"
SITE_CONFIG = "/etc/jobacct/jobacct.toml"


def missing_store(path: str | os.PathLike[str]) -> DatabaseUnavailableError:
    """The error for a SQLite store that does not exist (it is never made but by db init)."""
    from pathlib import Path

    return DatabaseUnavailableError(
        f"database file {Path(path)} does not exist: run 'jobacct db init' to create it,"
        " or name an existing store with --db PATH or JOBACCT_DATABASE_URL"
    )


#: The optional extra that installs the driver of each server backend (pyproject.toml).
DRIVER_EXTRAS = {"postgresql": ("PostgreSQL", "postgresql"), "mysql": ("MariaDB", "mysql")}
DRIVER_EXTRAS["mariadb"] = DRIVER_EXTRAS["mysql"]


def missing_driver(backend: str, exc: ImportError) -> DatabaseUnavailableError:
    """The error for a server URL whose driver is not installed: which extra installs it."""
    module = exc.name or str(exc)
    if backend in DRIVER_EXTRAS:
        server, extra = DRIVER_EXTRAS[backend]
        if module == "MySQLdb":  # a mysql+mysqldb:// URL
            extra = "mysqlclient"
        return DatabaseUnavailableError(
            f"the {server} driver ({module}) is not installed: pip install 'jobacct[{extra}]'"
        )
    return DatabaseUnavailableError(f"the database driver {module} is not installed")


def unreadable_store(path: str | os.PathLike[str], exc: OSError) -> DatabaseUnavailableError:
    """The error for a SQLite store the caller may not open (the daemon's, mode 0600)."""
    from pathlib import Path

    return DatabaseUnavailableError(
        f"cannot open database file {Path(path)}: {exc.strerror} (only the store's owner may;"
        " others go through the jobacct server: see the README, 'Serving the store')"
    )


def check_reachable(path: str | os.PathLike[str]) -> None:
    """Refuse a SQLite path the caller may not reach (a missing file is for the caller).

    Raises:
        DatabaseUnavailableError: permission denied on the file or a directory above it.
    """
    try:
        os.stat(path)
    except PermissionError as exc:
        raise unreadable_store(path, exc) from None
    except OSError:
        pass


def default_sqlite_path() -> Path:
    """The embedded default: ``<user data dir>/jobacct/jobacct.sqlite`` (XDG on Linux)."""
    from pathlib import Path

    import platformdirs  # only when no database is given: keeps start-up short

    return Path(platformdirs.user_data_dir("jobacct")) / "jobacct.sqlite"


#: Every key of the site config file: top-level keys, and the keys of its tables. ``server``
#: is either the daemon's address (a string, read by clients) or the ``[server]`` table,
#: whose ``address`` clients read and whose other keys the daemon reads
#: (:mod:`jobacct.server.policy`); ``[smtp]`` is :mod:`jobacct.report.smtp`'s.
CONFIG_KEYS = frozenset({"database_url", "server", "cluster", "smtp"})
TABLE_KEYS = {
    "server": frozenset({"address", "controllers", "private_data"}),
    "smtp": frozenset({"host", "port", "user", "password", "starttls", "ssl", "from", "timeout"}),
}


def config_path() -> Path:
    """The site config file: ``$JOBACCT_CONFIG`` or ``/etc/jobacct/jobacct.toml``."""
    from pathlib import Path

    return Path(os.environ.get(ENV_CONFIG) or SITE_CONFIG)


def read_config() -> dict[str, Any]:
    """The site config file as a dict; empty if there is none.

    The default file may be missing; a file named by ``$JOBACCT_CONFIG`` must exist
    (``JOBACCT_CONFIG=/dev/null`` says "no config file").

    Raises:
        UsageError: a file that is not valid TOML, holds a key jobacct does not know
            (:data:`CONFIG_KEYS`, :data:`TABLE_KEYS`: a misspelled key would be ignored), or
            is named by ``$JOBACCT_CONFIG`` and does not exist.
    """
    import tomllib  # only when no database is given: keeps start-up short

    path = config_path()
    try:
        with path.open("rb") as handle:
            config = tomllib.load(handle)
    except FileNotFoundError:
        if os.environ.get(ENV_CONFIG):
            raise UsageError(
                f"config file {path} (${ENV_CONFIG}) does not exist"
                f" (JOBACCT_CONFIG=/dev/null: no config file)"
            ) from None
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc}") from exc
    check_config_keys(config, path)
    return config


def check_config_keys(config: dict[str, Any], path: Path) -> None:
    """Refuse a key the site config file may not hold (:data:`CONFIG_KEYS`).

    Raises:
        UsageError: naming the first unknown key (``[table].key`` for a table's) and the file.
    """
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise UsageError(
            f"unknown key '{unknown[0]}' in config file {path}"
            f" (known: {', '.join(sorted(CONFIG_KEYS))})"
        )
    for table, known in TABLE_KEYS.items():
        value = config.get(table)
        unknown = sorted(set(value) - known) if isinstance(value, dict) else []
        if unknown:
            raise UsageError(
                f"unknown key '{unknown[0]}' in [{table}] of config file {path}"
                f" (known: {', '.join(sorted(known))})"
            )


def server_address(config: dict[str, Any]) -> str | None:
    """The daemon's address in a site config: ``server = "ADDR"`` or ``[server] address``."""
    value = config.get("server")
    if isinstance(value, dict):
        value = value.get("address")
    return str(value) if value else None


def resolve_database_url(option: str | None = None) -> str:
    """The database URL by the one precedence rule (module docstring); paths become URLs."""
    value = option or os.environ.get(ENV_URL)
    if not value:
        value = read_config().get("database_url")
    if not value:
        value = str(default_sqlite_path())
    return to_url(str(value))


def to_url(value: str) -> str:
    """A plain path becomes ``sqlite:///PATH``; URLs are checked and returned unchanged.

    Raises:
        UsageError: if the value looks like a URL but SQLAlchemy cannot parse it.
    """
    if "://" not in value:
        from pathlib import Path

        return "sqlite:///" + str(Path(value).expanduser().absolute())
    if value.startswith("sqlite:///") and "?" not in value:
        return value  # a file path follows: nothing to check, and no SQLAlchemy import
    from jobacct.serverread import driver_params

    if driver_params(value) is not None:
        return value  # a plain server URL (jobacct.serverread parsed it): no SQLAlchemy import
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError as exc:
        raise UsageError(f"invalid database URL '{value}'") from exc
    return value


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for server URLs and in-memory databases."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str, *, create: bool = False) -> Engine:
    """An engine for ``url``.

    SQLite: the file must exist unless ``create`` (so a typo never makes an empty database),
    WAL journal, a busy timeout, and foreign keys on. MariaDB/MySQL: utf8mb4.

    Raises:
        DatabaseUnavailableError: if the SQLite file does not exist and ``create`` is false,
            or the server's driver is not installed (naming the extra that installs it).
        UsageError: if no driver handles the URL.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    parsed = make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            check_reachable(path)
        if path is not None and not create and not path.exists():
            raise missing_store(path)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    elif backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    try:
        engine = create_engine(parsed, **kwargs)
    except ImportError as exc:
        raise missing_driver(backend, exc) from exc
    except ArgumentError as exc:
        raise UsageError(f"cannot use database URL '{url}': {exc}") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def write_engine(engine: Engine) -> Engine:
    """The same engine, but SQLite transactions begin IMMEDIATE (take the write lock at once).

    A deferred SQLite transaction that reads and then writes fails with SQLITE_BUSY when
    another writer got in between; beginning IMMEDIATE makes concurrent writers wait (busy
    timeout) and then see each other's commits. Servers lock rows instead (FOR UPDATE).
    """
    return engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (the pysqlite recipe), so that write
    # transactions can begin IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The journal mode is a property of the file: `db init` turns WAL on once (see
    # enable_wal); setting it here would rewrite the header of every file merely read, such
    # as the committed sample database. NORMAL is durable across process crashes in WAL mode.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def enable_wal(engine: Engine) -> None:
    """Put a SQLite database in WAL mode, so readers run beside the one writer (no-op else)."""
    if engine.dialect.name != "sqlite":
        return
    # Outside any transaction (SQLite refuses the change inside one): the DBAPI connection
    # is in autocommit mode (see _sqlite_pragmas).
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA journal_mode=WAL")  # type: ignore[union-attr]
    finally:
        raw.close()
