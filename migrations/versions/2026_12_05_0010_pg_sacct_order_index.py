"""PostgreSQL: ix_job_sacct_order, sacct's order as an expression index (as SQLite's, 0008)

A ``-X`` listing of most of the store (a month of a million jobs) sorted every selected row
into sacct's order (§4.8, ``jobacct.sqltext.order_sql``); with this index PostgreSQL walks
the rows in that order instead, and a read shared by several processes gives each its own
range of submit times (jobacct.splitread): bench/RESULTS.md case (f), 1.75 s to 1.36 s.

Partial on a condition every row meets (``superseded IS NOT NULL``) that only the statements
meant to walk it state (``jobacct.serverread.job_source``): a day's listing, which the
window's indexes serve better, walked it otherwise (0.38 s to 0.72 s). SQLite has had the same
index since 0008; MariaDB has no expression indexes. Not declared in the model (an
expression index of one dialect): tests/test_migrations.py leaves it out of the comparison.

Revision ID: 0010_pg_sacct_order_index
Revises: 0009_job_user_name_index
Create Date: 2026-12-05 19:50:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010_pg_sacct_order_index"
down_revision: str | Sequence[str] | None = "0009_job_user_name_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_job_sacct_order ON job (time_submit,"
            " coalesce(array_job_id, 0), coalesce(array_task_id, 0), job_id_raw, id)"
            " WHERE superseded IS NOT NULL"
        )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_job_sacct_order")
