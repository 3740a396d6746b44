"""0012 lets outbox rows carry a payload and no message; the downgrade drops those rows."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from consult119.config import Settings
from consult119.db import Database, build_engine
from consult119.migrate import alembic_config, upgrade
from tests.attachments.test_migration import fresh_url  # noqa: F401 - the fixture
from tests.factories import make_reply
from tests.retention.helpers import receive

AT = datetime(2024, 3, 5, 2, 14, tzinfo=UTC)


def outbox_columns(engine) -> dict[str, bool]:
    return {c["name"]: c["nullable"] for c in sa.inspect(engine).get_columns("outbox")}


def test_payload_rows_up_and_down(fresh_url, tmp_path):  # noqa: F811
    settings = Settings(database_url=fresh_url, attachment_dir=str(tmp_path / "files"))
    engine = build_engine(settings)
    upgrade(engine, "0011_attachments")
    cols = outbox_columns(engine)
    assert "payload" not in cols and cols["message_id"] is False and cols["ticket_id"] is False

    upgrade(engine, "0012_outbox_payload")
    cols = outbox_columns(engine)
    assert cols["payload"] is True and cols["message_id"] is True and cols["ticket_id"] is True
    db = Database(settings, engine=engine)
    ticket_id = receive(db, "mail-traveller", "도와주세요", AT)
    make_reply(db, ticket_id, "reply", now=AT)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO outbox (channel, source, status, attempts, next_attempt_at, "
                "created_at, payload) VALUES ('pager', 'pager', 'queued', 0, :at, :at, :p)"
            ),
            {"at": AT, "p": '{"kind": "red_flag"}'},
        )
        assert conn.scalar(sa.text("SELECT count(*) FROM outbox")) == 2

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011_attachments")
    cols = outbox_columns(engine)
    assert "payload" not in cols and cols["message_id"] is False and cols["ticket_id"] is False
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT source FROM outbox")).scalars().all() == ["kakao"]
    upgrade(engine)  # and up again to the head
    assert outbox_columns(engine)["payload"] is True
    db.dispose()
