"""Attachments leave the database: a content-addressed store on disk, rows keep the hash.

Files used to be ``attachments.data`` blobs. Each row now names its file by SHA-256 in the
store (``CONSULT119_ATTACHMENT_DIR``, default ``attachments/`` beside the SQLite file) and keeps
the type decided from the bytes, the size and an image's dimensions; ``state`` says whether the
file is readable (``stored``), on its way (``pending``: a LINE photo), given up (``failed``) or
a migrated blob of a type not accepted (``refused``: kept for retention, never served).
``message_id`` may be null for a web-chat upload not yet sent; ``webchat_session_id`` names the
session that uploaded it.

The upgrade writes every blob into the store: images re-encoded as on intake (orientation
applied, EXIF/GPS dropped, HEIC as JPEG), PDFs as they are. The downgrade reads the files back
into blobs (the re-encoded images, not the originals) and leaves the store's files in place.

Revision ID: 0011_attachments
Revises: 0010_alerts
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consult119.db

revision: str = "0011_attachments"
down_revision: str | None = "0010_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_attachments = sa.table(
    "attachments",
    sa.column("attempts", sa.Integer),
    sa.column("id", sa.Integer),
    sa.column("message_id", sa.Integer),
    sa.column("filename", sa.String),
    sa.column("content_type", sa.String),
    sa.column("size", sa.Integer),
    sa.column("data", sa.LargeBinary),
    sa.column("sha256", sa.String),
    sa.column("width", sa.Integer),
    sa.column("height", sa.Integer),
    sa.column("state", sa.String),
    sa.column("created_at", consult119.db.UTCDateTime),
)
_messages = sa.table(
    "messages", sa.column("id", sa.Integer), sa.column("created_at", consult119.db.UTCDateTime)
)


def _store():  # noqa: ANN202 - the app's store, in the folder the caller or settings name
    from consult119.attachments.store import AttachmentStore
    from consult119.config import Settings

    folder = op.get_context().config.attributes.get("attachment_dir")
    if folder is None:
        url = op.get_bind().engine.url.render_as_string(hide_password=False)
        folder = Settings(database_url=url).attachments_path
    return AttachmentStore(Path(folder))


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("webchat_session_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("height", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
        batch_op.add_column(
            sa.Column("created_at", consult119.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("remote_source", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
        batch_op.add_column(
            sa.Column("remote_ref", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("next_attempt_at", consult119.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_attachments_sha256"), ["sha256"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachments_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_attachments_webchat_session_id", "webchat_sessions", ["webchat_session_id"], ["id"]
        )

    _blobs_into_store()

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column(
            "state", existing_type=sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False
        )
        batch_op.alter_column(
            "created_at", existing_type=consult119.db.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("attempts", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("data")


def _blobs_into_store() -> None:
    from consult119.attachments import images
    from consult119.attachments.service import safe_filename
    from consult119.attachments.sniff import Kind, kind_of
    from consult119.attachments.store import AttachmentStore

    bind = op.get_bind()
    ids = list(bind.scalars(sa.select(_attachments.c.id).order_by(_attachments.c.id)))
    if not ids:
        return
    store: AttachmentStore = _store()
    for attachment_id in ids:
        data, filename, created_at = bind.execute(
            sa.select(_attachments.c.data, _attachments.c.filename, _messages.c.created_at)
            .join(_messages, _messages.c.id == _attachments.c.message_id)
            .where(_attachments.c.id == attachment_id)
        ).one()
        values = {"state": "stored", "attempts": 0, "created_at": created_at or datetime.now(UTC)}
        kind = kind_of(bytes(data[:64]))
        if kind is not None and kind.is_image:
            with store.spool() as spool:
                spool.write(bytes(data))
                spool.finish()
                try:
                    encoded = images.reencode(spool.path, kind)
                except images.ImageRefused:
                    encoded = None
            if encoded is not None:
                sha, size = store.put([encoded.data])
                values.update(
                    sha256=sha,
                    size=size,
                    content_type=encoded.content_type,
                    width=encoded.width,
                    height=encoded.height,
                    filename=safe_filename(filename, encoded.content_type),
                )
            else:
                kind = None
        if kind is Kind.PDF:
            sha, size = store.put([bytes(data)])
            values.update(sha256=sha, size=size, content_type=kind.value)
        elif kind is None:
            sha, size = store.put([bytes(data)])
            values.update(sha256=sha, size=size, state="refused")
        bind.execute(
            sa.update(_attachments).where(_attachments.c.id == attachment_id).values(**values)
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    rows = list(bind.execute(sa.select(_attachments.c.id, _attachments.c.sha256)))
    # Uploads never sent and files never fetched have no message or no bytes: they go.
    bind.execute(
        sa.delete(_attachments).where(
            sa.or_(_attachments.c.message_id.is_(None), _attachments.c.sha256.is_(None))
        )
    )
    store = _store() if rows else None
    for attachment_id, sha in rows:
        if sha is None or store is None:
            continue
        path = store.path_of(sha)
        data = path.read_bytes() if path.exists() else b""
        bind.execute(
            sa.update(_attachments)
            .where(_attachments.c.id == attachment_id)
            .values(data=data, size=len(data))
        )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column("data", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_constraint("fk_attachments_webchat_session_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_attachments_sha256"))
        batch_op.drop_index(batch_op.f("ix_attachments_next_attempt_at"))
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("remote_ref")
        batch_op.drop_column("remote_source")
        batch_op.drop_column("created_at")
        batch_op.drop_column("state")
        batch_op.drop_column("height")
        batch_op.drop_column("width")
        batch_op.drop_column("sha256")
        batch_op.drop_column("webchat_session_id")
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=False)
