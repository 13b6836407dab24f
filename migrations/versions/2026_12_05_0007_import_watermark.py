"""import_watermark: how far incremental slurmdbd imports have read each source

``jobacct import slurmdbd --from URL --incremental`` (and ``--follow``) reads only the job rows
whose ``job_db_inx`` or ``mod_time`` is past what the store last saw of that source; this
table keeps those two marks per source (tracker issue 12). A new table only: no batch rebuild
of ``job`` (so SQLite's ix_job_span of 0006 is untouched).

Named ``import_watermark`` (revision 0007_import_watermark) so that a migration added on
main meanwhile can be ordered before or after it by fixing ``down_revision`` at the merge.

Revision ID: 0007_import_watermark
Revises: 0006
Create Date: 2026-12-05 14:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007_import_watermark"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "import_watermark",
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("last_job_db_inx", sa.BigInteger(), nullable=False),
        sa.Column("last_mod_time", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_import_watermark")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("import_watermark")
