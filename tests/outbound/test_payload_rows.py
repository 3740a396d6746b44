"""Payload rows of the outbox (no message): queued in the caller's transaction, sent by the
dispatcher through their source's sender, recorded on the row alone. The SMS sender posts
``{"to", "text", "ticket_id", "case_number"}`` signed like chat intake."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from consult119.context import AppContext
from consult119.outbound import delivery
from consult119.outbound import payloads as outbound
from consult119.outbound.dispatcher import Dispatcher
from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.tickets.models import Message, Ticket
from tests.alerts.sink import Sink, body_of, signature_ok
from tests.factories import make_reply
from tests.outbound.test_outbox import a_case

T0 = datetime(2024, 6, 1, 3, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
SMS_SECRET = "sms-secret-91c2"


def rows(db) -> list[OutboxItem]:
    with db.read_session() as s:
        return list(s.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def delivery_events(db) -> list[Event]:
    with db.read_session() as s:
        return list(s.scalars(select(Event).where(Event.name == "message.delivery_changed")))


def test_payload_rows_are_recorded_on_the_row_and_leave_messages_alone(db):
    ticket = a_case(db)
    reply = make_reply(db, ticket, "reply", now=T0)
    with db.unit_of_work() as s:
        case_number = s.get(Ticket, ticket).case_number
        outbound.enqueue_sms(
            s, to="+819012345678", text="119", ticket_id=ticket, case_number=case_number, now=T0
        )
        outbound.enqueue_payload(s, "pager", {"kind": "roster_gap"}, ticket_id=None, now=T0)
    with db.unit_of_work() as s:
        claims = delivery.claim_due(s, now=T0, lease=LEASE, sources=["smtp", "sms", "pager"])
    # Replies first (in message order), then the payload rows.
    assert [c.source for c in claims] == ["smtp", "sms", "pager"]
    _, sms, pager = claims
    assert sms.message_id is None and sms.ticket_id == ticket
    assert pager.message_id is None and pager.ticket_id is None
    with db.unit_of_work() as s:
        assert delivery.mark_sent(s, sms, now=T0, external_ref="sms-1") is True
        status = delivery.mark_attempt_failed(
            s, pager, "pager_http_400", now=T0, permanent=True, max_attempts=5, base=1, cap=2
        )
    assert status == "failed"
    by_source = {r.source: r for r in rows(db)}
    assert by_source["sms"].status == "sent" and by_source["sms"].external_ref == "sms-1"
    assert by_source["pager"].status == "failed"
    assert by_source["pager"].last_error == "pager_http_400"
    assert by_source["smtp"].status == "sending"  # the reply is still its own
    with db.read_session() as s:
        assert s.get(Message, reply).delivery == "queued"
    assert delivery_events(db) == []


def test_a_payload_row_is_queued_in_the_callers_transaction(db):
    ticket = a_case(db)
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        outbound.enqueue_sms(
            s, to="+819012345678", text="x", ticket_id=ticket, case_number=None, now=T0
        )
        raise RuntimeError("the cause failed")
    assert [r.source for r in rows(db)] == []
    with pytest.raises(ValueError), db.unit_of_work() as s:
        outbound.enqueue_payload(s, "smtp", {}, ticket_id=None, now=T0)


def run_dispatcher_until(ctx: AppContext, done, timeout: float = 20.0) -> None:
    async def main() -> None:
        dispatcher = Dispatcher(ctx)
        dispatcher.start()
        try:
            deadline = time.monotonic() + timeout
            while not done():
                assert time.monotonic() < deadline, "the dispatcher did not get there"
                dispatcher.wake()
                await asyncio.sleep(0.05)
        finally:
            await dispatcher.stop()

    asyncio.run(main())


def test_the_sms_sender_posts_a_signed_body_and_retries_a_503(db):
    sink = Sink(statuses=[503]).start()
    try:
        settings = db.settings.model_copy(
            update={
                "sms_url": sink.url,
                "sms_secret": SecretStr(SMS_SECRET),
                "outbound_retry_base_seconds": 0.05,
                "outbound_retry_max_seconds": 0.1,
                "outbound_poll_seconds": 0.05,
            }
        )
        ctx = AppContext(settings=settings, db=db, signing_key="k" * 40)
        ticket = a_case(db)
        with db.unit_of_work() as s:
            case_number = s.get(Ticket, ticket).case_number
            outbound.enqueue_sms(
                s,
                to="+819012345678",
                text="응급 시 119에 전화하세요",
                ticket_id=ticket,
                case_number=case_number,
                now=ctx.now(),
            )
        # Until the outcome is recorded, not merely received (the sink answers first).
        run_dispatcher_until(ctx, lambda: rows(db)[0].status == "sent")
        assert [r["status"] for r in sink.requests] == [503, 200]
        [sent] = sink.delivered()
        assert signature_ok(sent, SMS_SECRET)
        assert body_of(sent) == {
            "to": "+819012345678",
            "text": "응급 시 119에 전화하세요",
            "ticket_id": ticket,
            "case_number": case_number,
        }
        [row] = rows(db)
        assert row.status == "sent" and row.attempts == 2 and row.message_id is None
        assert delivery_events(db) == []
    finally:
        sink.stop()


def test_a_4xx_from_the_sms_provider_is_final(db):
    sink = Sink(statuses=[400]).start()
    try:
        settings = db.settings.model_copy(
            update={"sms_url": sink.url, "sms_secret": SecretStr(SMS_SECRET)}
        )
        ctx = AppContext(settings=settings, db=db, signing_key="k" * 40)
        with db.unit_of_work() as s:
            outbound.enqueue_sms(
                s, to="+819012345678", text="x", ticket_id=None, case_number=None, now=ctx.now()
            )
        run_dispatcher_until(ctx, lambda: rows(db)[0].status == "failed")
        [row] = rows(db)
        assert row.last_error == "sms_http_400" and row.attempts == 1
        assert len(sink.requests) == 1
    finally:
        sink.stop()
