"""Alembic migrations on every backend: up, down, up again, and model == migrations."""

from __future__ import annotations

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text

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
            context = MigrationContext.configure(conn, opts={"include_object": _declared})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def _declared(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
    """Everything but the indexes and columns of one dialect (migrate.UNDECLARED_INDEXES,
    migrate.UNDECLARED_COLUMNS)."""
    if kind == "index":
        return name not in migrate.UNDECLARED_INDEXES
    return not (kind == "column" and name in migrate.UNDECLARED_COLUMNS)


@pytest.mark.parametrize("backend_url", ["postgresql"], indirect=True)
def test_postgresql_has_the_sacct_order_index(backend_url: str) -> None:
    """Migration 0010: sacct's order as a partial expression index on PostgreSQL."""
    engine = make_engine(backend_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_job_sacct_order'")
            ).scalar_one()
        assert "(time_submit, COALESCE(array_job_id" in found
        assert found.endswith("WHERE (superseded IS NOT NULL)")
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend_url", ["mariadb"], indirect=True)
def test_mariadb_has_the_sacct_order_keys_and_index(backend_url: str) -> None:
    """Migration 0011: the array ids' order keys as VIRTUAL generated columns (nothing
    stored, no writer sets them) and sacct's order as an index on them."""
    engine = make_engine(backend_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            generated = dict(
                conn.execute(
                    text(
                        "SELECT column_name, generation_expression FROM information_schema.columns"
                        " WHERE table_schema = DATABASE() AND table_name = 'job'"
                        " AND extra = 'VIRTUAL GENERATED'"
                    )
                ).all()
            )
            indexed = conn.execute(
                text(
                    "SELECT column_name FROM information_schema.statistics"
                    " WHERE table_schema = DATABASE() AND table_name = 'job'"
                    " AND index_name = 'ix_job_sacct_order' ORDER BY seq_in_index"
                )
            ).scalars()
            assert list(indexed) == ["time_submit", *migrate.ORDER_KEY_COLUMNS, "job_id_raw", "id"]
        assert generated == {
            "sacct_array_job_id": "coalesce(`array_job_id`,0)",
            "sacct_array_task_id": "coalesce(`array_task_id`,0)",
        }
    finally:
        engine.dispose()


# ------------------------------------------------- every step down and up keeps the data


def _chain() -> list[str]:
    """Revision ids from the first to head."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def _counts(engine: Engine) -> dict[str, int]:
    tables = set(inspect(engine).get_table_names()) - {migrate.VERSION_TABLE}
    with engine.connect() as conn:
        return {t: int(conn.scalar(text(f"SELECT COUNT(*) FROM {t}")) or 0) for t in tables}


def _fill(url: str) -> None:
    """Rows in every table: the golden records, shim events, a cancel, an annotation..."""
    from sqlalchemy.orm import Session

    from jobacct.model import Annotation, Coordinator, ImportWatermark, Job, UserPrivilege
    from jobacct.shim.apply import apply
    from jobacct.slurmdbd_import import import_slurmdbd, read_mysql_tsv
    from tests.conftest import GOLDEN
    from tests.test_shim_requests import _cancel, _running

    engine = make_engine(url)
    users = {0: "root", 1001: "alice"}
    with Session(engine) as session, session.begin():
        import_slurmdbd(
            session,
            read_mysql_tsv(GOLDEN / "db" / "golden_job_table.tsv"),
            read_mysql_tsv(GOLDEN / "db" / "golden_step_table.tsv"),
            "golden",
            users,
            users,
        )
        session.add(UserPrivilege(uid=1001, user_name="alice", admin_level="Operator"))
        session.add(Coordinator(uid=1002, account="lc"))
        session.add(
            ImportWatermark(
                source="dbhost/slurm_acct_db/golden",
                cluster="golden",
                last_job_db_inx=72,
                last_mod_time=1795347419,
                updated=1795350000,
            )
        )
        job = session.scalars(select(Job).where(Job.job_id_raw == 37)).one()
        session.add(
            Annotation(
                job_pk=job.id,
                field="Comment",
                old_value=None,
                new_value="why",
                uid=0,
                time=1795350000,
                command="test",
            )
        )
    apply(engine, [*_running(), _cancel(3)])  # event and signal_request rows
    engine.dispose()


def test_every_downgrade_and_upgrade_keeps_the_rows(store_url: str) -> None:
    """Issue 14: a migration that rebuilds ``job`` on SQLite must not cascade-delete steps."""
    _fill(store_url)
    engine = make_engine(store_url)
    try:
        full = _counts(engine)
        assert all(full.values()), full  # every table holds rows
        chain = _chain()
        seen = {chain[-1]: full}
        for revision in reversed(chain[:-1]):
            migrate.downgrade(engine, revision)
            now = _counts(engine)
            kept = {t: n for t, n in full.items() if t in now}
            assert {t: now[t] for t in kept} == kept, f"downgrade to {revision}"
            seen[revision] = now
        base = seen[chain[0]]
        for revision in chain[1:]:
            migrate.upgrade(engine, revision)
            now = _counts(engine)
            # The tables that lived through the whole round trip keep every row.
            assert {t: now[t] for t in base} == base, f"upgrade to {revision}"
    finally:
        engine.dispose()
