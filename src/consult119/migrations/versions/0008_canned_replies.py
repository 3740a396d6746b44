"""Canned replies as data: the texts staff insert into a reply, in Korean and English, kept by
admins through ``/api/v1/replies`` instead of living in the console's code.

The table is seeded with the seven replies the console carried (consult119/replies/defaults.py),
so a new or upgraded database offers the same replies as before.

Revision ID: 0008_canned_replies
Revises: 0007_case_record
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from consult119.db import UTCDateTime, utcnow
from consult119.replies.defaults import default_rows

revision: str = "0008_canned_replies"
down_revision: str | None = "0007_case_record"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "language", name="uq_canned_reply_key_language"),
    )
    now = utcnow()
    op.bulk_insert(
        table,
        [
            {**row, "active": True, "created_at": now, "updated_at": now, "version": 1}
            for row in default_rows()
        ],
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
