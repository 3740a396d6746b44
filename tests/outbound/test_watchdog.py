"""The delivery watchdog on both databases: a staff reply that does not reach the traveller is
an alert (``delivery_overdue`` past its rank's limit, ``delivery_failed`` when given up), once
per reply, resolved by its delivery; and the urgent case's automatic emergency reminder."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from consult119.alerts.models import Alert
from consult119.context import AppContext
from consult119.db import Database
from consult119.outbound.dispatcher import Dispatcher
from consult119.realtime.models import Event
from consult119.staff.models import Staff
from consult119.tickets import service as tickets
from consult119.tickets.models import Contact, Message, Ticket
from consult119.triage import scheduler
from tests.channels.conftest import Recorder
from tests.factories import make_staff, make_ticket
from tests.triage.conftest import T0

NOT_BREATHING = "아이가 숨을 안 쉬어요"  # cardiac_arrest, suspected KTAS 1
CHEST_PAIN = "가슴이 아파요"  # chest_pain, suspected KTAS 2
NO_FLAG = "배가 조금 아파요"


def alerts(db, kind: str | None = None) -> list[Alert]:
    with db.read_session() as s:
        stmt = select(Alert).order_by(Alert.id)
        if kind is not None:
            stmt = stmt.where(Alert.kind == kind)
        return list(s.scalars(stmt))


def events(db, name: str) -> list[Event]:
    with db.read_session() as s:
        return list(s.scalars(select(Event).where(Event.name == name).order_by(Event.id)))


def reply(db, ticket_id: int, doctor: int, *, now, text="지금 119에 전화하세요") -> int:
    with db.unit_of_work() as s:
        return tickets.add_message(s, ticket_id, staff=s.get(Staff, doctor), text=text, now=now).id  # type: ignore[return-value]


def dispatch(db: Database, settings, *, at) -> int:
    """One round of the real dispatcher at ``at`` against ``settings`` (its stand-ins)."""

    async def run() -> int:
        ctx = AppContext(settings=settings, db=db, signing_key="k" * 40, clock=lambda: at)
        dispatcher = Dispatcher(ctx)
        dispatcher._client = httpx.AsyncClient()
        try:
            return await dispatcher.run_once()
        finally:
            await dispatcher._client.aclose()

    return asyncio.run(run())


def line_settings(db, recorder: Recorder, **more):
    return db.settings.model_copy(
        update={
            "line_channel_token": SecretStr("line-token"),
            "line_push_url": recorder.url,
            "smtp_relay": "127.0.0.1:9",
            **more,
        }
    )


def set_email(db, ticket_id: int, email: str) -> None:
    with db.unit_of_work() as s:
        ticket = s.get(Ticket, ticket_id)
        s.get(Contact, ticket.contact_id).email = email


def test_a_line_outage_on_a_ktas1_reply_raises_delivery_overdue_within_its_limit(db):
    recorder = Recorder(statuses=[503] * 50).start()
    try:
        settings = line_settings(db, recorder)
        watched = Database(settings)
        doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
        case = make_ticket(db, NOT_BREATHING, now=T0, source="line", sender_id="U-outage")
        set_email(db, case, "traveller@example.com")
        sent_at = T0 + timedelta(seconds=5)
        message = reply(db, case, doctor, now=sent_at)
        assert dispatch(db, settings, at=sent_at) == 1  # the LINE stand-in refuses: retried
        with db.read_session() as s:
            assert s.get(Message, message).delivery == "queued"

        # KTAS 1: 60 s. Not a second before; at the limit, once, across ticks.
        scheduler.tick(watched, now=sent_at + timedelta(seconds=59))
        assert alerts(db, "delivery_overdue") == []
        for later in (60, 61, 120):
            scheduler.tick(watched, now=sent_at + timedelta(seconds=later))
        [alert] = alerts(db, "delivery_overdue")
        assert alert.ticket_id == case and alert.level == 1 and alert.state == "open"
        assert alert.staff_id == doctor and alert.role == "doctor"
        assert alert.raised_at == sent_at + timedelta(seconds=60)
        assert alert.data["message_id"] == message and alert.data["source"] == "line"
        assert alert.data["after_seconds"] == 60
        assert alert.data["fallbacks"] == [{"action": "channel", "channel": "smtp"}]
        raised = [e for e in events(db, "alert.raised") if e.data["alert"]["id"] == alert.id]
        assert len(raised) == 1

        # The relay is back: the delivery resolves the alert in its own transaction.
        recorder.statuses = []
        dispatch(db, settings, at=sent_at + timedelta(minutes=10))
        [alert] = alerts(db, "delivery_overdue")
        assert alert.state == "resolved"
        [resolved] = [e for e in events(db, "alert.resolved") if e.data["alert"]["id"] == alert.id]
        assert resolved.data["reason"] == "delivered"
        watched.dispose()
    finally:
        recorder.stop()


def test_a_permanent_failure_raises_delivery_failed_once_superseding_overdue(db):
    recorder = Recorder(statuses=[503, 400]).start()
    try:
        settings = line_settings(db, recorder)
        doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
        case = make_ticket(db, CHEST_PAIN, now=T0, source="line", sender_id="U-gone")
        message = reply(db, case, doctor, now=T0)
        dispatch(db, settings, at=T0)  # 503: retried later
        scheduler.tick(db, now=T0 + timedelta(seconds=60))  # KTAS 2: 60 s
        [overdue] = alerts(db, "delivery_overdue")
        dispatch(db, settings, at=T0 + timedelta(minutes=5))  # 400: given up
        with db.read_session() as s:
            assert s.get(Message, message).delivery == "failed"
        [failed] = alerts(db, "delivery_failed")
        assert failed.state == "open" and failed.data["error"] == "line_http_400"
        assert failed.data["message_id"] == message and failed.level == 2
        assert alerts(db, "delivery_overdue")[0].state == "resolved"  # one open alert per reply
        dispatch(db, settings, at=T0 + timedelta(minutes=6))
        scheduler.tick(db, now=T0 + timedelta(minutes=7))
        assert len(alerts(db, "delivery_failed")) == 1 and len(alerts(db, "delivery_overdue")) == 1
        assert overdue.id != failed.id
    finally:
        recorder.stop()


def test_a_channel_that_cannot_deliver_raises_at_the_first_attempt(db):
    doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
    case = make_ticket(db, NO_FLAG, now=T0, source="telegram", sender_id="tg-1")
    message = reply(db, case, doctor, now=T0)
    dispatch(db, db.settings, at=T0)
    [alert] = alerts(db, "delivery_failed")
    assert alert.data["message_id"] == message and alert.data["error"] == "no_sender_for_telegram"
    assert alert.data["fallbacks"] == []


def test_an_automatic_message_raises_no_delivery_alert(db):
    case = make_ticket(db, NO_FLAG, now=T0, source="telegram", sender_id="tg-2")
    from tests.factories import make_reply

    make_reply(db, case, "auto", now=T0)  # no author: not a staff reply
    dispatch(db, db.settings, at=T0)
    scheduler.tick(db, now=T0 + timedelta(hours=1))
    assert alerts(db, "delivery_failed") == [] and alerts(db, "delivery_overdue") == []


def reminders(db, ticket_id: int) -> list[Message]:
    with db.read_session() as s:
        rows = s.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id))
        return [m for m in rows if (m.meta or {}).get("kind") == "emergency_reminder"]


def test_an_urgent_case_without_a_doctor_reply_gets_the_emergency_reminder_once(db):
    case = make_ticket(db, CHEST_PAIN, now=T0, source="line", sender_id="U-remind")
    with db.unit_of_work() as s:
        ticket = s.get(Ticket, case)
        ticket.country = "JP"
        ticket.locale = "en"
    scheduler.tick(db, now=T0 + timedelta(minutes=9))  # KTAS 2 target: 10 min
    assert reminders(db, case) == []
    report = scheduler.tick(db, now=T0 + timedelta(minutes=10))
    assert report.reminded == [case]
    for minutes in (11, 30):
        scheduler.tick(db, now=T0 + timedelta(minutes=minutes))
    [sent] = reminders(db, case)
    assert sent.direction == "outbound" and sent.author_staff_id is None
    assert sent.source == "line" and sent.delivery == "queued"  # through the outbox
    assert "team has been alerted" in sent.text and "119" in sent.text
    with db.read_session() as s:
        assert s.get(Ticket, case).first_response_at is None  # the clock runs on
    created = [e for e in events(db, "message.created") if e.data["message"]["id"] == sent.id]
    assert created and created[0].data["message"]["kind"] == "emergency_reminder"
    assert created[0].ticket_id == case  # on the case's timeline


def test_the_reminder_is_korean_by_default_and_not_for_ktas3_without_flags(db):
    urgent = make_ticket(db, NOT_BREATHING, now=T0, source="kakao", sender_id="k-remind")
    calm = make_ticket(db, NO_FLAG, now=T0, source="kakao", sender_id="k-calm")
    emt = make_staff(db, "emt", on_duty=True, now=T0).id
    with db.unit_of_work() as s:
        tickets.triage(s, calm, staff=s.get(Staff, emt), acuity=3, category="other", now=T0)
    for minutes in (1, 31, 60):
        scheduler.tick(db, now=T0 + timedelta(minutes=minutes))
    [sent] = reminders(db, urgent)
    assert "알렸습니다" in sent.text
    assert reminders(db, calm) == []
    with db.read_session() as s:
        assert s.get(Ticket, calm).sla_breached_at is not None  # breached, yet no reminder


def test_a_bounce_after_delivery_raises_delivery_failed(db):
    from consult119.outbound import delivery

    doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
    case = make_ticket(db, NO_FLAG, now=T0, source="smtp", sender_id="bounce@example.com")
    message = reply(db, case, doctor, now=T0)
    with db.unit_of_work() as s:
        [claim] = delivery.claim_due(s, now=T0, lease=timedelta(minutes=2), sources=["smtp"])
        delivery.mark_sent(s, claim, now=T0)
        s.get(Message, message).external_id = "<c119.1.abc@x>"
    assert alerts(db) == []
    with db.unit_of_work() as s:
        assert delivery.mark_bounced(s, {message: "<c119.1.abc@x>"}, now=T0 + timedelta(minutes=1))
    [alert] = alerts(db, "delivery_failed")
    assert alert.data["error"] == "bounced" and alert.data["source"] == "smtp"
