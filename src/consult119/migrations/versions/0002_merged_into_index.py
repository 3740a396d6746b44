"""Index tickets.merged_into_id.

Following a merge chain and deleting tickets (retention, the demo's rebuild) look tickets up by
``merged_into_id``; without an index each lookup scans the table.

Revision ID: 0002_merged_into_index
Revises: 0001_initial
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_merged_into_index"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_merged_into_id", ["merged_into_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_merged_into_id")
