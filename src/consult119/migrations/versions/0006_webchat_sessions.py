"""Web-chat sessions: opaque tokens, kept as their SHA-256, revocable by staff.

A web-chat token used to be a signed blob carrying the traveller's name, phone and e-mail
(readable by anyone holding it) that nothing could end before it expired. Tokens issued before
this revision are no longer accepted: the traveller's page starts a new session.

Revision ID: 0006_webchat_sessions
Revises: 0005_staff_security_changed
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consult119.db

revision: str = "0006_webchat_sessions"
down_revision: str | None = "0005_staff_security_changed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webchat_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sid", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("created_at", consult119.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", consult119.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", consult119.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["revoked_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("webchat_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webchat_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webchat_sessions_sid"), ["sid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webchat_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webchat_sessions_sid"))
        batch_op.drop_index(batch_op.f("ix_webchat_sessions_expires_at"))
    op.drop_table("webchat_sessions")
