"""0011 moves the attachment blobs of the database into the store, and back on downgrade."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from PIL import Image

from consult119.config import Settings
from consult119.db import Database, build_engine
from consult119.migrate import upgrade
from tests.attachments import images
from tests.conftest import PG_ADMIN_URL, _pg_admin_engine, require_postgres
from tests.retention.helpers import receive

AT = datetime(2024, 3, 5, 2, 14, tzinfo=UTC)

blobs = sa.table(
    "attachments",
    sa.column("id", sa.Integer),
    sa.column("message_id", sa.Integer),
    sa.column("filename", sa.String),
    sa.column("content_type", sa.String),
    sa.column("size", sa.Integer),
    sa.column("data", sa.LargeBinary),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    require_postgres()
    name = f"c119_mig_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_blobs_move_into_the_store_and_back(fresh_url, tmp_path):
    settings = Settings(database_url=fresh_url, attachment_dir=str(tmp_path / "files"))
    engine = build_engine(settings)
    upgrade(engine, "0010_alerts")
    db = Database(settings, engine=engine)
    ticket_id = receive(db, "mail-traveller", "약 사진 보냅니다", AT)
    with engine.begin() as conn:
        message_id = conn.scalar(
            sa.text("SELECT id FROM messages WHERE ticket_id = :t"), {"t": ticket_id}
        )
        photo = images.photo("JPEG", exif=images.exif(orientation=6).tobytes())
        conn.execute(
            sa.insert(blobs),
            [
                {
                    "message_id": message_id,
                    "filename": "wound.jpg",
                    "content_type": "image/png",
                    "size": len(photo),
                    "data": photo,
                },
                {
                    "message_id": message_id,
                    "filename": "letter.pdf",
                    "content_type": "application/pdf",
                    "size": len(images.pdf()),
                    "data": images.pdf(),
                },
                {
                    "message_id": message_id,
                    "filename": "setup.exe",
                    "content_type": "application/octet-stream",
                    "size": len(images.WINDOWS_EXE),
                    "data": images.WINDOWS_EXE,
                },
            ],
        )

    upgrade(engine, "0011_attachments", attachment_dir=tmp_path / "files")

    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT filename, content_type, size, sha256, width, height, state, created_at "
                "FROM attachments ORDER BY id"
            )
        ).all()
    store = tmp_path / "files"
    assert [(r.filename, r.content_type, r.state) for r in rows] == [
        ("wound.jpg", "image/jpeg", "stored"),  # the declared type was wrong; the bytes say
        ("letter.pdf", "application/pdf", "stored"),
        ("setup.exe", "application/octet-stream", "refused"),  # kept, never served
    ]
    jpeg = (store / rows[0].sha256[:2] / rows[0].sha256).read_bytes()
    with Image.open(io.BytesIO(jpeg)) as im:
        assert im.size == (32, 64) == (rows[0].width, rows[0].height)  # turned upright
        assert not im.getexif().get_ifd(images.GPS_IFD)
    assert rows[0].size == len(jpeg)
    assert (store / rows[1].sha256[:2] / rows[1].sha256).read_bytes() == images.pdf()
    assert all(r.created_at is not None for r in rows)

    # And back: the blobs return from the files (the photo as re-encoded).
    upgrade_to = "0010_alerts"
    from alembic import command

    from consult119.migrate import alembic_config

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["attachment_dir"] = tmp_path / "files"
        command.downgrade(cfg, upgrade_to)
    with engine.connect() as conn:
        back = conn.execute(sa.select(blobs.c.filename, blobs.c.data).order_by(blobs.c.id)).all()
    assert [(b.filename, bytes(b.data)) for b in back] == [
        ("wound.jpg", jpeg),
        ("letter.pdf", images.pdf()),
        ("setup.exe", images.WINDOWS_EXE),
    ]
    db.dispose()
