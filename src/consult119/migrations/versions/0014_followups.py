"""Follow-ups and handoff notes.

``followups``: something to do on a case at ``due_at`` (a staff member's, or a callback the
system made for a missed call or a voicemail, ``cause`` ``call:<call_id>``, unique); the
scheduler scans those not yet alerted (``alerted_at``) by due time. ``handoff_notes``: what a case's holder tells the
next doctor; the case detail shows the latest.

Revision ID: 0014_followups
Revises: 0013_attachment_fk
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from consult119.db import UTCDateTime

revision: str = "0014_followups"
down_revision: str | None = "0013_attachment_fk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("alerted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cause", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["done_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cause", name="uq_followup_cause"),
    )
    op.create_index("ix_followups_alerted_due", "followups", ["alerted_at", "due_at"])
    op.create_index("ix_followups_ticket", "followups", ["ticket_id"])
    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_notes_ticket", "handoff_notes", ["ticket_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_notes_ticket", table_name="handoff_notes")
    op.drop_table("handoff_notes")
    op.drop_index("ix_followups_ticket", table_name="followups")
    op.drop_index("ix_followups_alerted_due", table_name="followups")
    op.drop_table("followups")
