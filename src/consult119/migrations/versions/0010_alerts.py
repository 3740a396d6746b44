"""Alerts, and the next-response clock.

Alerts: what needs a person now (a red flag, a breached clock, a reopened case…), open until
the action that answers it, raised once per cause (the unique ``cause``) across processes.

The next-response clock on tickets (``next_response_since``, ``next_response_due_at``,
``next_response_warned_at``, ``next_response_breached_at``): a traveller's message after a staff
reply starts it with the case's target, the next staff reply stops it.

Revision ID: 0010_alerts
Revises: 0009_self_reported
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from consult119.db import UTCDateTime

revision: str = "0010_alerts"
down_revision: str | None = "0009_self_reported"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("cause", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("raised_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("escalated_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["resolved_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cause", name="uq_alert_cause"),
    )
    op.create_index("ix_alerts_state_raised", "alerts", ["state", "raised_at"])
    op.create_index("ix_alerts_ticket_state", "alerts", ["ticket_id", "state"])
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name in (
            "next_response_since",
            "next_response_due_at",
            "next_response_warned_at",
            "next_response_breached_at",
        ):
            batch_op.add_column(sa.Column(name, UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_tickets_next_response_due_at", ["next_response_due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_next_response_due_at")
        for name in (
            "next_response_breached_at",
            "next_response_warned_at",
            "next_response_due_at",
            "next_response_since",
        ):
            batch_op.drop_column(name)
    op.drop_index("ix_alerts_ticket_state", table_name="alerts")
    op.drop_index("ix_alerts_state_raised", table_name="alerts")
    op.drop_table("alerts")
