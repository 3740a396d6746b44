"""A delivery alert's one-click fallback over HTTP on a live server: who may take it, what
each action answers, and the reply re-queued on the traveller's other channel (e-mail, to a
real SMTP sink) with the alert resolved."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from consult119.alerts.models import Alert
from consult119.realtime.models import Event
from consult119.tickets.models import Contact, Message, Ticket
from tests.channels.conftest import FAST_OUTBOX, SmtpSink, wait_for
from tests.factories import make_staff, make_ticket

CHEST_PAIN = "가슴이 아파요"
REPLY = "지금 바로 119에 전화하세요. 의사 드림"


def open_delivery_alert(db) -> Alert | None:
    with db.read_session() as s:
        return s.scalars(
            select(Alert).where(Alert.kind == "delivery_failed", Alert.state == "open")
        ).first()


def test_channel_fallback_requeues_the_reply_and_resolves_the_alert(start_server, db):
    sink = SmtpSink().start()
    try:
        server = start_server(CONSULT119_SMTP_RELAY=sink.relay, **FAST_OUTBOX)
        doctor, emt, admin, manager = (
            make_staff(db, role, on_duty=True, presence="available")
            for role in ("doctor", "emt", "admin", "manager")
        )
        # A LINE traveller (LINE push is not configured here) who also gave an e-mail address
        # and a phone number.
        case = make_ticket(db, CHEST_PAIN, source="line", sender_id="U-fallback")
        with db.unit_of_work() as s:
            contact = s.get(Contact, s.get(Ticket, case).contact_id)
            contact.email = "traveller@example.com"
            contact.phone_e164 = "+819012345678"
        h = {who.role: who.headers(server.url) for who in (doctor, emt, admin, manager)}
        r = httpx.post(
            f"{server.url}/api/v1/tickets/{case}/messages",
            json={"text": REPLY},
            headers=h["doctor"],
        )
        assert r.status_code == 201, r.text
        original = r.json()["id"]
        alert = wait_for(lambda: open_delivery_alert(db), what="delivery_failed")
        assert alert.data["message_id"] == original
        assert alert.data["error"] == "line_not_configured"
        assert alert.data["fallbacks"] == [
            {"action": "channel", "channel": "smtp"},
            {"action": "sms"},
            {"action": "callback"},
        ]
        url = f"{server.url}/api/v1/alerts/{alert.id}/fallback"

        assert httpx.post(url, json={"action": "channel", "channel": "smtp"}).status_code == 401
        for role in ("manager", "admin"):
            r = httpx.post(url, json={"action": "channel", "channel": "smtp"}, headers=h[role])
            assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role"
        r = httpx.post(url, json={"action": "fax"}, headers=h["emt"])
        assert r.status_code == 422, r.text
        for action in ("sms", "callback"):
            r = httpx.post(url, json={"action": action}, headers=h["emt"])
            assert r.status_code == 409 and r.json()["detail"]["code"] == "fallback_unavailable"
        r = httpx.post(url, json={"action": "channel"}, headers=h["emt"])
        assert r.status_code == 422 and r.json()["detail"]["code"] == "channel_required"
        r = httpx.post(url, json={"action": "channel", "channel": "kakao"}, headers=h["emt"])
        assert r.status_code == 409 and r.json()["detail"]["code"] == "fallback_unavailable"
        r = httpx.post(
            f"{server.url}/api/v1/alerts/999999/fallback",
            json={"action": "channel", "channel": "smtp"},
            headers=h["emt"],
        )
        assert r.status_code == 404 and r.json()["detail"]["code"] == "alert_not_found"
        assert open_delivery_alert(db) is not None  # nothing half-written by the refusals

        r = httpx.post(url, json={"action": "channel", "channel": "smtp"}, headers=h["emt"])
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "resolved" and r.json()["resolved_at"] is not None
        again = httpx.post(url, json={"action": "channel", "channel": "smtp"}, headers=h["doctor"])
        assert again.status_code == 409 and again.json()["detail"]["code"] == "alert_resolved"

        # The reply went out by e-mail, as a new outbound message of the case.
        wait_for(lambda: sink.received, what="the e-mail fallback")
        [(_, rcpt, mail)] = sink.received
        assert rcpt == ["traveller@example.com"]
        assert REPLY in mail.get_body(preferencelist=("plain",)).get_content()
        with db.read_session() as s:
            copies = s.scalars(
                select(Message).where(Message.ticket_id == case, Message.source == "smtp")
            ).all()
            [copy] = copies
            assert copy.meta["fallback_of"] == original and copy.author_staff_id == doctor.id
            assert s.get(Message, original).meta["fallback"]["channel"] == "smtp"
            [taken] = s.scalars(select(Event).where(Event.name == "alert.fallback")).all()
        assert taken.data["channel"] == "smtp" and taken.data["fallback_message_id"] == copy.id
        assert taken.actor_id == emt.id

        def delivered() -> bool:
            with db.read_session() as s:
                return s.get(Message, copy.id).delivery == "sent"

        wait_for(delivered, what="the fallback recorded as sent")
    finally:
        sink.stop()
