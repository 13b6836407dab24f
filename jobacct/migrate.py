"""Alembic plumbing shared by ``jobacct db`` and the tests: config, upgrade, head check.

Every command checks the schema before it touches the store, so that check must be cheap: it
reads ``alembic_version`` with one SELECT and compares it with :data:`HEAD`, without importing
Alembic (about a third of a second of start-up on the project's 2-core machines). Alembic's
script directory is only loaded to explain a mismatch, and by ``db`` commands.
"""

from __future__ import annotations

from jobacct.errors import SchemaOutdatedError

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from pathlib import Path

    from alembic.config import Config
    from sqlalchemy import Connection, Engine

#: The newest migration's revision id. A new migration must update it:
#: tests/test_migrations.py checks it against Alembic's script directory.
HEAD = "0011_mariadb_sacct_order_index"

#: Indexes the migrations make for one dialect that the model does not declare (expression
#: indexes): SQLite's ``ix_job_span`` (0006) and ``ix_job_sacct_order`` (0008), PostgreSQL's
#: ``ix_job_sacct_order`` (0010), MariaDB's (0011). Comparisons of the model with a store
#: leave them out.
UNDECLARED_INDEXES = frozenset({"ix_job_span", "ix_job_sacct_order"})

#: MariaDB's generated columns of ``job`` (0011) holding ``coalesce(array_job_id, 0)`` and
#: ``coalesce(array_task_id, 0)``, sacct's order keys (``jobacct.sqltext.order_sql``):
#: MariaDB indexes no expression, and its optimizer (10.11) uses an index on such columns
#: only where a statement names them.
ORDER_KEY_COLUMNS = ("sacct_array_job_id", "sacct_array_task_id")

#: Columns the migrations make for one dialect that the model does not declare: the order
#: keys, which no writer sets and no field reads. Comparisons and the readers' column
#: names (``SELECT *``) leave them out.
UNDECLARED_COLUMNS = frozenset(ORDER_KEY_COLUMNS)

#: Alembic's version table (its default name; migrations/env.py does not change it).
VERSION_TABLE = "alembic_version"


def migrations_dir() -> Path:
    """The migration scripts: inside the installed package, else the source tree's."""
    from pathlib import Path  # here: the schema check of every command needs none

    packaged = Path(__file__).parent / "migrations"
    if (packaged / "env.py").exists():
        return packaged
    return Path(__file__).parent.parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config that needs no ini file; ``connection`` is handed to env.py."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The revision id of the newest migration, as Alembic's script directory says."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty (uninitialised) database.

    Reads Alembic's version table directly (what ``MigrationContext.get_current_revision``
    does, without importing Alembic).

    Raises:
        SchemaOutdatedError: if the version table holds more than one revision (branches).
    """
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if not rows:
        return None
    if len(rows) > 1:
        raise several_heads_error([str(r[0]) for r in rows])
    return str(rows[0][0])


def several_heads_error(revisions: list[str]) -> SchemaOutdatedError:
    """The error for a version table holding more than one revision (branches)."""
    return SchemaOutdatedError(
        f"database schema has several heads ({', '.join(sorted(revisions))}):"
        " run 'jobacct db upgrade'"
    )


def _recorded_revisions(engine: Engine) -> tuple[list[str] | None, list[str]]:
    """(rows of the version table or None if it is missing, the other tables' names)."""
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        if VERSION_TABLE not in tables:
            return None, tables
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return [str(r[0]) for r in rows], [t for t in tables if t != VERSION_TABLE]


def check_migratable(engine: Engine) -> str | None:
    """The revision a database is at, checked before Alembic migrates it (None: empty).

    Raises:
        SchemaOutdatedError: the database holds another application's tables and no jobacct
            schema; or its version table records several revisions; or a revision this
            jobacct does not know (a newer jobacct's, or not jobacct's at all). Alembic would
            fail on each with a traceback, or add jobacct's tables to a foreign database.
    """
    revisions, tables = _recorded_revisions(engine)
    if not revisions:
        if tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise SchemaOutdatedError(
                f"database holds tables that are not jobacct's ({shown}) and no jobacct"
                " schema: refusing to add jobacct's tables to it; use an empty database"
            )
        return None
    if len(revisions) > 1:
        raise SchemaOutdatedError(
            f"database records several schema revisions ({', '.join(sorted(revisions))}):"
            " its version table was changed by hand; restore it from a backup"
        )
    (current,) = revisions
    if current not in known_revisions():
        raise SchemaOutdatedError(
            f"database schema {current} is not one this jobacct knows (head {head_revision()}):"
            " a newer jobacct's, or not jobacct's; upgrade jobacct"
        )
    return current


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (one transaction per migration script)."""
    from alembic import command

    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``base`` empties it)."""
    from alembic import command

    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), revision)


def check_at_head(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not this version's head.

    The usual case (at :data:`HEAD`) costs one SELECT; anything else is explained with the
    help of Alembic's script directory.

    Raises:
        SchemaOutdatedError: naming ``jobacct db upgrade`` (or ``db init`` if empty).
    """
    check_revision(current_revision(engine))


def check_reachable_at_head(engine: Engine) -> None:
    """:func:`check_at_head`, a server that cannot be reached said as such (the command's
    and the daemon's one wording: the URL without its password, the driver's first line).

    Raises:
        DatabaseUnavailableError: the database could not be reached.
        SchemaOutdatedError: as :func:`check_at_head`.
    """
    from sqlalchemy.exc import OperationalError

    from jobacct.errors import DatabaseUnavailableError

    try:
        check_at_head(engine)
    except OperationalError as exc:
        raise DatabaseUnavailableError(
            f"cannot reach database {engine.url.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
        ) from exc


def check_revision(current: str | None) -> None:
    """:func:`check_at_head` for a revision already read (None: no schema).

    The SQLite fast path (:mod:`jobacct.fastread`) reads ``alembic_version`` with stdlib
    sqlite3 and calls this, so the usual case imports neither SQLAlchemy nor Alembic.

    Raises:
        SchemaOutdatedError: naming ``jobacct db upgrade`` (or ``db init`` if empty).
    """
    if current == HEAD:
        return
    if current is None:
        raise SchemaOutdatedError(
            "database has no jobacct schema: run 'jobacct db init' (or 'jobacct db upgrade')"
        )
    head = head_revision()
    if current == head:
        # HEAD is stale (a migration was added without updating it): still correct, only
        # slower; tests/test_migrations.py fails until HEAD is updated.
        return
    if current not in known_revisions():
        raise SchemaOutdatedError(
            f"database schema {current} is newer than this jobacct (head {head}): upgrade jobacct"
        )
    raise SchemaOutdatedError(
        f"database schema {current} is behind head {head}: run 'jobacct db upgrade'"
    )
