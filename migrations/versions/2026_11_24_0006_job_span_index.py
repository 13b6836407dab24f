"""SQLite: an index on each job's span, time_end - time_eligible

A plain ``sacct -S/-E`` listing selects the jobs whose [eligible, end] overlaps the window.
One index can bound only one side of that test, so a day in the middle of a month read half
the job index. The largest span (one probe of this index) gives the other side
(``jobacct.sqltext.where_sql``): a one-day selection over a million jobs went from 0.18 s
to 0.11 s (bench/RESULTS.md).

SQLite only: it is the store the fast read path serves, and SQLAlchemy cannot reflect an
expression index there (so the model does not declare it and autogenerate ignores it).
MariaDB has no expression indexes; PostgreSQL's read path keeps the plain conditions.
A later migration that rebuilds the job table on SQLite (``batch_alter_table``) reflects it
first and so would drop this index: it must create it again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 04:00:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE INDEX ix_job_span ON job ((time_end - time_eligible))")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX ix_job_span")
