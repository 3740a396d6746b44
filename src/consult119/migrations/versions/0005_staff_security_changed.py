"""Staff: a security version that ends every earlier token.

``security_version`` goes up by one on every change that must end an account's sessions (a role
change, disabling or enabling the account, a new password); a token carries the version it was
issued under (``ver``) and is refused once they differ, so a token never comes back to life when
a role is changed back. ``security_changed_at`` says when the last such change was made. Accounts
start at version 0, which is also what tokens issued before this revision count as.

Revision ID: 0005_staff_security_changed
Revises: 0004_shift_started
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from consult119.db import UTCDateTime

revision: str = "0005_staff_security_changed"
down_revision: str | None = "0004_shift_started"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("security_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("security_changed_at", UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("security_changed_at")
        batch_op.drop_column("security_version")
