"""Alembic migrations on every backend: up, down, up again, and model == migrations."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from jobacct import migrate
from jobacct.config import make_engine
from jobacct.model import Base


def test_one_head() -> None:
    assert len(ScriptDirectory.from_config(migrate.alembic_config()).get_heads()) == 1


def test_upgrade_downgrade_upgrade(backend_url: str) -> None:
    engine = make_engine(backend_url, create=True)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert {"job", "step"} <= set(inspect(engine).get_table_names())
        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert not {"job", "step"} & set(inspect(engine).get_table_names())
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_model_matches_migrations(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            # SQLite's ix_job_span (migration 0006) is an expression index SQLAlchemy
            # cannot reflect there: it says so and leaves it out of the comparison.
            warnings.filterwarnings(
                "ignore", message="Skipped unsupported reflection of expression-based index"
            )
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
