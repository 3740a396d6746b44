"""The download job's rounds: an idle poll only reads, a claim is one UPDATE … RETURNING, and
it shares its lifecycle with the outbox dispatcher (one polling worker)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from consult119.aio import PollingWorker
from consult119.attachments.downloads import LEASE, Downloads
from consult119.attachments.models import Attachment
from consult119.attachments.service import RemoteFile, add_pending
from consult119.context import AppContext
from consult119.db import utcnow
from consult119.outbound.dispatcher import Dispatcher
from consult119.tickets.models import Message
from tests.factories import make_ticket

T0 = utcnow()


@contextmanager
def statements(db):
    """Every SQL statement the engine runs meanwhile (the driver's own text)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()[:2]).upper())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def pending_files(db, n):
    ticket_id = make_ticket(db, now=T0 - timedelta(minutes=5))
    with db.unit_of_work() as s:
        message_id = s.scalars(select(Message.id).where(Message.ticket_id == ticket_id)).first()
        for i in range(n):
            add_pending(
                s,
                message_id,
                RemoteFile("kakao", f"https://k.kakaocdn.net/{i}.jpg", f"{i}.jpg"),
                now=T0 - timedelta(minutes=1),
            )


def test_an_idle_poll_reads_and_a_claim_is_one_update(db):
    ctx = AppContext(settings=db.settings, db=db, signing_key="k" * 40, clock=lambda: T0)
    job = Downloads(ctx)
    with statements(db) as idle:
        assert job._claim() == []
    # A read only: no write statement, no write transaction (SQLite's BEGIN IMMEDIATE).
    assert [s for s in idle if s.split()[0] in ("UPDATE", "INSERT", "DELETE")] == []
    assert "BEGIN IMMEDIATE" not in idle

    pending_files(db, 3)
    with statements(db) as claiming:
        rows = job._claim()
    assert len(rows) == 3
    assert [s.split()[0] for s in claiming].count("UPDATE") == 1  # not one per file
    assert [r.attempts for r in rows] == [1, 1, 1]
    assert {r.next_attempt_at for r in rows} == {T0 + LEASE}
    # Claimed: another round (another process) takes none of them while the lease runs.
    assert job._claim() == []
    with db.read_session() as s:
        assert {a.attempts for a in s.scalars(select(Attachment))} == {1}


def test_the_download_job_and_the_dispatcher_share_one_polling_worker(db):
    ctx = AppContext(settings=db.settings, db=db, signing_key="k" * 40, clock=lambda: T0)
    downloads, dispatcher = Downloads(ctx), Dispatcher(ctx)
    assert isinstance(downloads, PollingWorker) and isinstance(dispatcher, PollingWorker)
    pending = {
        "name": "message.created",
        "data": {"message": {"attachments": [{"state": "pending"}]}},
    }
    reply = {"name": "message.created", "data": {"message": {"direction": "outbound"}}}
    assert downloads.wants(pending) and not downloads.wants(reply)
    assert dispatcher.wants(reply) and not dispatcher.wants(pending)
