"""What the traveller said themselves: ``self_reported`` and ``purpose_of_stay`` on tickets.

The web-chat form and the Kakao quick replies ask the traveller what the service asks (age,
country, purpose of stay, when symptoms began, land / sea / air). Their answers fill empty
record fields; ``self_reported`` lists the names of the fields whose value is still the
traveller's own word (a staff edit of a field removes its name). ``purpose_of_stay`` is one of
``travel``, ``residence``, ``business``, ``study``, ``crew``, ``other``. Existing cases get
neither: nothing they hold was marked when it was written.

Revision ID: 0009_self_reported
Revises: 0008_canned_replies
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_self_reported"
down_revision: str | None = "0008_canned_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose_of_stay", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True)
        )
        batch_op.add_column(sa.Column("self_reported", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("self_reported")
        batch_op.drop_column("purpose_of_stay")
