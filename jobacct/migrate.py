"""Alembic plumbing shared by ``jobacct db`` and the tests: config, upgrade, head check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from jobacct.errors import SchemaOutdatedError


def migrations_dir() -> Path:
    """The migration scripts: inside the installed package, else the source tree's."""
    packaged = Path(__file__).parent / "migrations"
    if (packaged / "env.py").exists():
        return packaged
    return Path(__file__).parent.parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config that needs no ini file; ``connection`` is handed to env.py."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The revision id of the newest migration."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty (uninitialised) database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (one transaction per migration script)."""
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``base`` empties it)."""
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), revision)


def check_at_head(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not this version's head.

    Raises:
        SchemaOutdatedError: naming ``jobacct db upgrade`` (or ``db init`` if empty).
    """
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaOutdatedError(
            "database has no jobacct schema: run 'jobacct db init' (or 'jobacct db upgrade')"
        )
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if current not in known:
        raise SchemaOutdatedError(
            f"database schema {current} is newer than this jobacct (head {head}): upgrade jobacct"
        )
    raise SchemaOutdatedError(
        f"database schema {current} is behind head {head}: run 'jobacct db upgrade'"
    )
