"""Retention: when a case or contact was purged, and links found from either side.

``purged_at`` marks a case de-identified (or a contact erased) by ``consult119 retention purge``,
so a purge never counts the same record twice and staff can tell an emptied case from one that
never had messages. Purging deletes a case's links from both sides, hence the index on
``other_ticket_id``.

Revision ID: 0003_retention
Revises: 0002_merged_into_index
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from consult119.db import UTCDateTime

revision: str = "0003_retention"
down_revision: str | None = "0002_merged_into_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ticket_links", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_links_other_ticket_id", ["other_ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_links", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_links_other_ticket_id")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
