"""The case record: the clinical summary staff write on a case.

``chief_complaint``, ``assessment`` and ``plan`` join the patient details already on the ticket
(``PATCH /api/v1/tickets/{ticket_id}`` edits them all). They describe a person, so retention
clears them with the other personal columns of a finished case.

Revision ID: 0007_case_record
Revises: 0004_shift_started
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_case_record"
down_revision: str | None = "0004_shift_started"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "chief_complaint", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("assessment", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=True)
        )
        batch_op.add_column(
            sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("plan")
        batch_op.drop_column("assessment")
        batch_op.drop_column("chief_complaint")
