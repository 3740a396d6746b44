"""Outbox rows that carry a payload and no message: the operator's pager, SMS.

``message_id`` and ``ticket_id`` become nullable (a pager row may be about no case; an SMS row
has no message) and ``payload`` holds the JSON the row's sender posts. ``message_id`` stays
unique (null repeats). The downgrade deletes the payload rows (the old schema cannot hold them:
what was not sent is dropped) and makes both columns required again.

Revision ID: 0012_outbox_payload
Revises: 0011_attachments
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_outbox_payload"
down_revision: str | None = "0011_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM outbox WHERE message_id IS NULL OR ticket_id IS NULL"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("payload")
