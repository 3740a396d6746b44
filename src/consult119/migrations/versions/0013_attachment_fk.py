"""Staff uploads, and an upload that outlives the web-chat session that sent it: its foreign key sets null on delete.

``attachments.webchat_session_id`` named its session without ``ON DELETE``, so deleting a
session that had uploaded a file (the web chat deletes sessions a day after they expire) failed
on the foreign key. The key is now ``ON DELETE SET NULL``; uploads never sent are swept with
their sessions (:func:`consult119.attachments.service.sweep_unsent`). SQLite changes a foreign
key only by rebuilding the table: batch mode does it.

``attachments.uploaded_by`` names the doctor or EMT who uploaded a file for a reply (only they
may send it); null for the traveller's files.

Revision ID: 0013_attachment_fk
Revises: 0012_outbox_payload
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_attachment_fk"
down_revision: str | None = "0012_outbox_payload"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_attachments_webchat_session_id"
_STAFF_FK = "fk_attachments_uploaded_by"


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(_FK, type_="foreignkey")
        batch_op.create_foreign_key(
            _FK, "webchat_sessions", ["webchat_session_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.add_column(sa.Column("uploaded_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(_STAFF_FK, "staff", ["uploaded_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(_STAFF_FK, type_="foreignkey")
        batch_op.drop_column("uploaded_by")
        batch_op.drop_constraint(_FK, type_="foreignkey")
        batch_op.create_foreign_key(_FK, "webchat_sessions", ["webchat_session_id"], ["id"])
