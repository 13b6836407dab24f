"""job.superseded, backfilled; SQLite: an index in sacct's order

``superseded`` says that a newer record of the same (cluster, JobIDRaw) exists and is not
REVOKED (jobacct/superseded.py): sacct's newest-record test (slurm-semantics.md §4.8), a
correlated subquery per selected row, then runs only for those records (a month's ``-X``
listing of a million jobs spent a quarter of its SQL time in it, tracker issue 16). Added as
false everywhere, then set by one statement for the records that have a newer one.

``ix_job_sacct_order`` (SQLite only, an expression index like 0006's ``ix_job_span``, which
SQLAlchemy cannot reflect there, so the model does not declare it): sacct's order (§4.8,
``jobacct.sqltext.order_sql``) without its last key, the rowid, which every SQLite index ends
with. A listing that covers most of the store walks it instead of sorting every row
(``jobacct.fastread``): 1.41 s to 0.89 s for a month of a million jobs. Partial on a
condition every row meets and no other statement states, so that only the statements that
name it use it: without statistics SQLite's planner would prefer it to the window's indexes
for any statement in sacct's order.

Revision ID: 0008_job_superseded
Revises: 0007_import_watermark
Create Date: 2026-12-05 16:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from jobacct.superseded import refresh_sql

# revision identifiers, used by Alembic.
revision: str = "0008_job_superseded"
down_revision: str | Sequence[str] | None = "0007_import_watermark"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    dialect = op.get_bind().dialect.name
    # A plain ADD COLUMN (no batch rebuild of job: SQLite's expression indexes stay).
    op.add_column(
        "job", sa.Column("superseded", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.execute(refresh_sql(dialect, None))
    if dialect == "sqlite":
        op.execute(
            "CREATE INDEX ix_job_sacct_order ON job (time_submit,"
            " coalesce(array_job_id, 0), coalesce(array_task_id, 0), job_id_raw)"
            " WHERE superseded IS NOT NULL"
        )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX ix_job_sacct_order")
    op.drop_column("job", "superseded")
