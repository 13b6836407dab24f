"""event.received as DOUBLE; signal_request.target

``event.received`` was created as ``Float`` in 0004, which MariaDB makes a 4-byte FLOAT: epoch
seconds came back with about six significant digits (±10^4 s). It becomes a double everywhere.
``signal_request.target`` keeps the JobID a request addressed on each record, so a cancel of an
array task still inside its meta record (``123_7``) says which task it was (tracker issue 5).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column(
            "received", existing_type=sa.Float(), type_=sa.Double(), existing_nullable=False
        )
    with op.batch_alter_table("signal_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.String(length=255), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("signal_request", schema=None) as batch_op:
        batch_op.drop_column("target")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column(
            "received", existing_type=sa.Double(), type_=sa.Float(), existing_nullable=False
        )
