"""Shifts: when the scheduler announced that a shift began (``duty.started``).

``handed_over_at`` already marks a shift whose end was seen to; ``started_seen_at`` marks its
start, so each start is announced once however many processes run the scheduler. Shifts that
began before this revision count as announced: an upgrade does not replay the past.

Revision ID: 0004_shift_started
Revises: 0003_retention
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from consult119.db import UTCDateTime

revision: str = "0004_shift_started"
down_revision: str | None = "0003_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_seen_at", UTCDateTime(timezone=True), nullable=True))
    shifts = sa.table(
        "shifts",
        sa.column("starts_at", UTCDateTime(timezone=True)),
        sa.column("started_seen_at", UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.execute(
        shifts.update()
        .where(shifts.c.starts_at <= sa.bindparam("now", now, type_=UTCDateTime(timezone=True)))
        .values(started_seen_at=shifts.c.starts_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_column("started_seen_at")
