"""An index on job (user_name, time_eligible, time_end): one user's jobs by name

``sacct -u NAME`` selects by ``user_name`` (jobacct.sqltext.where_sql), which no index led
with: SQLite bounded the window with its span index and tested each job's name, and
PostgreSQL and MariaDB, which have no span bound, read every job eligible before the window's
end (half the store for a week in mid-month). With this index a user's week of a million-job
month is an index range: on the bench store (bench/RESULTS.md, case (e)) SQLite 0.29 s to
0.23 s, PostgreSQL 0.55 s to 0.42 s, MariaDB 0.55 s to 0.24 s. ``time_end`` is in the index
so that the window's other side is tested on index entries (MariaDB's index condition
pushdown, PostgreSQL's index filter) before any row is read.

Revision ID: 0009_job_user_name_index
Revises: 0008_job_superseded
Create Date: 2026-12-05 19:00:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009_job_user_name_index"
down_revision: str | Sequence[str] | None = "0008_job_superseded"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_job_user_name_time_eligible_time_end"


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(NAME, "job", ["user_name", "time_eligible", "time_end"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(NAME, table_name="job")
