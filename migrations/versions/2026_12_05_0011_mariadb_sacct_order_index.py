"""MariaDB: ix_job_sacct_order on generated order keys (as PostgreSQL's, 0010, and SQLite's, 0008)

A ``-X`` listing of most of the store sorted every selected row into sacct's order (§4.8,
``jobacct.sqltext.order_sql``): MariaDB indexes no expression, so its share of a month of a
million jobs was a sort per process (bench/RESULTS.md case (f)). Two VIRTUAL generated
columns hold the array ids' order keys (``coalesce(array_job_id, 0)``,
``coalesce(array_task_id, 0)``: computed on read, nothing stored in the rows) and the
index holds sacct's order on them; ``jobacct.serverread.job_source`` names the index for a
listing of most of the store, and the statement orders by the columns
(``jobacct.sqltext.ORDER_KEY_COLUMNS``: MariaDB 10.11 does not match an expression to a
generated column of the same expression).

Not declared in the model (columns and an index of one dialect, which no writer sets):
``jobacct.migrate.UNDECLARED_COLUMNS`` and ``UNDECLARED_INDEXES`` leave them out of the
comparison, and the readers leave the columns out of ``SELECT *``'s names.

Revision ID: 0011_mariadb_sacct_order_index
Revises: 0010_pg_sacct_order_index
Create Date: 2026-12-05 21:00:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011_mariadb_sacct_order_index"
down_revision: str | Sequence[str] | None = "0010_pg_sacct_order_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "mysql":
        # One ALTER: InnoDB adds VIRTUAL columns in place and builds the index once.
        op.execute(
            "ALTER TABLE job"
            " ADD COLUMN sacct_array_job_id BIGINT AS (coalesce(array_job_id, 0)) VIRTUAL,"
            " ADD COLUMN sacct_array_task_id INTEGER AS (coalesce(array_task_id, 0)) VIRTUAL,"
            " ADD INDEX ix_job_sacct_order"
            " (time_submit, sacct_array_job_id, sacct_array_task_id, job_id_raw, id)"
        )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "mysql":
        op.execute(
            "ALTER TABLE job DROP INDEX ix_job_sacct_order,"
            " DROP COLUMN sacct_array_job_id, DROP COLUMN sacct_array_task_id"
        )
