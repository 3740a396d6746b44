"""A delivery alert's one-click fallback over HTTP on a live server: who may take it, what
each action answers, and the reply re-queued on the traveller's other channel (e-mail, to a
real SMTP sink) with the alert resolved."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from consult119.alerts.models import Alert
from consult119.followups.models import Followup
from consult119.realtime.models import Event
from consult119.tickets.models import Contact, Message, Ticket
from tests.alerts.sink import Sink, body_of, signature_ok
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
        # No SMS provider is configured here: SMS is not offered (test below: it is).
        assert alert.data["fallbacks"] == [
            {"action": "channel", "channel": "smtp"},
            {"action": "callback"},
        ]
        url = f"{server.url}/api/v1/alerts/{alert.id}/fallback"

        assert httpx.post(url, json={"action": "channel", "channel": "smtp"}).status_code == 401
        for role in ("manager", "admin"):
            r = httpx.post(url, json={"action": "channel", "channel": "smtp"}, headers=h[role])
            assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role"
        r = httpx.post(url, json={"action": "fax"}, headers=h["emt"])
        assert r.status_code == 422, r.text
        r = httpx.post(url, json={"action": "sms"}, headers=h["emt"])
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


SMS_SECRET = "sms-provider-secret"


def test_sms_and_callback_fallbacks_reach_the_traveller_by_phone(start_server, db):
    """Two LINE travellers whose replies fail (LINE push is off): one gets the reply by SMS
    through the provider (signed), the other a callback follow-up due now."""
    sink = Sink().start()
    try:
        server = start_server(
            CONSULT119_SMS_URL=sink.url, CONSULT119_SMS_SECRET=SMS_SECRET, **FAST_OUTBOX
        )
        doctor = make_staff(db, "doctor", on_duty=True, presence="available")
        emt = make_staff(db, "emt", on_duty=True, presence="available")
        cases = []
        for n, phone in enumerate(("+819012345678", "+819087654321")):
            case = make_ticket(db, CHEST_PAIN, source="line", sender_id=f"U-phone-{n}")
            with db.unit_of_work() as s:
                s.get(Contact, s.get(Ticket, case).contact_id).phone_e164 = phone
            r = httpx.post(
                f"{server.url}/api/v1/tickets/{case}/messages",
                json={"text": REPLY},
                headers=doctor.headers(server.url),
            )
            assert r.status_code == 201, r.text
            cases.append(case)

        def alert_of(case):
            with db.read_session() as s:
                return s.scalars(
                    select(Alert).where(Alert.kind == "delivery_failed", Alert.ticket_id == case)
                ).first()

        by_sms, by_call = (wait_for(lambda c=c: alert_of(c), what="delivery_failed") for c in cases)
        assert {"action": "sms"} in by_sms.data["fallbacks"]
        assert {"action": "callback"} in by_sms.data["fallbacks"]
        # A suspected KTAS 2 whose reply is not getting through: the local emergency number
        # went by SMS at once, to each traveller, once per case.
        assert by_sms.data["emergency_sms"] is True and by_call.data["emergency_sms"] is True
        urgent = wait_for(lambda: len(sink.delivered()) >= 2 and sink.delivered(), what="SMS")
        assert sorted(body_of(r)["to"] for r in urgent) == ["+819012345678", "+819087654321"]
        assert all("119" in body_of(r)["text"] and REPLY not in body_of(r)["text"] for r in urgent)

        r = httpx.post(
            f"{server.url}/api/v1/alerts/{by_sms.id}/fallback",
            json={"action": "sms"},
            headers=emt.headers(server.url),
        )
        assert r.status_code == 200 and r.json()["state"] == "resolved", r.text
        [sent] = wait_for(
            lambda: [r for r in sink.delivered() if REPLY in body_of(r)["text"]],
            what="the reply's SMS at the provider",
        )
        assert len(sink.delivered()) == 3  # the two emergency SMS, then the reply
        assert signature_ok(sent, SMS_SECRET)
        body = body_of(sent)
        assert body["to"] == "+819012345678" and REPLY in body["text"]
        assert body["ticket_id"] == cases[0] and body["case_number"] in body["text"]

        r = httpx.post(
            f"{server.url}/api/v1/alerts/{by_call.id}/fallback",
            json={"action": "callback"},
            headers=emt.headers(server.url),
        )
        assert r.status_code == 200 and r.json()["state"] == "resolved", r.text
        with db.read_session() as s:
            [task] = s.scalars(select(Followup).where(Followup.ticket_id == cases[1])).all()
            assert task.done_at is None and task.created_by == emt.id
            taken = s.scalars(select(Event).where(Event.name == "alert.fallback")).all()
        assert sorted(e.data["action"] for e in taken) == ["callback", "sms"]
        again = httpx.post(
            f"{server.url}/api/v1/alerts/{by_call.id}/fallback",
            json={"action": "sms"},
            headers=emt.headers(server.url),
        )
        assert again.status_code == 409 and again.json()["detail"]["code"] == "alert_resolved"
    finally:
        sink.stop()
