"""Phone calls logged by staff, suggested links across channels, and a person's merge."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.tickets.models import Contact, Message, Ticket, TicketLink
from tests.factories import make_reply, make_staff


def log_call(server, headers, **body):
    payload = {
        "channel": "phone",
        "caller_number": "+66 81 234 5678",
        "country": "TH",
        "notes": "방콕 호텔에서 전화. 어머니가 어지럽다고 하심.",
        **body,
    }
    return httpx.post(f"{server.url}/api/v1/tickets", json=payload, headers=headers, timeout=10)


def test_phone_call_logged_in_e164_by_staff_only(live_server, db):
    emt = make_staff(db, "emt").headers(live_server.url)
    r = log_call(live_server, emt, caller_number="081-234-5678", call_id="pbx-1")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["channel"], body["source"], body["status"]) == ("phone", "phone", "new")
    assert body["caller_number"] == "+66812345678" and body["country"] == "TH"
    # The same call id again: nothing new; a second call from the number joins the case.
    again = log_call(live_server, emt, caller_number="081-234-5678", call_id="pbx-1")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    second = log_call(live_server, emt, notes="다시 전화: 조금 나아짐")
    assert second.status_code == 200 and second.json()["id"] == body["id"]
    with db.read_session() as s:
        contact = s.scalars(select(Contact)).one()
        assert contact.phone_e164 == "+66812345678"
        assert len(s.scalars(select(Message)).all()) == 2

    for bad in [
        {"caller_number": "12345"},
        {"caller_number": "not a number"},
        {"country": "XX1"},
        {"notes": ""},
        {"channel": "email"},
    ]:
        r = log_call(live_server, emt, **bad)
        assert r.status_code == 422, (bad, r.text)
    r = log_call(live_server, emt, caller_number="02-123-4567", country=None)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "invalid_phone"
    assert log_call(live_server, {}).status_code == 401
    manager = make_staff(db, "manager").headers(live_server.url)
    assert log_call(live_server, manager).status_code == 403
    assert (
        log_call(live_server, make_staff(db, "doctor").headers(live_server.url)).status_code == 200
    )


def test_same_person_on_two_channels_is_suggested_then_merged(live_server, db):
    emt = make_staff(db, "emt")
    headers = emt.headers(live_server.url)
    mail = (
        b"From: Hong <hong@example.com>\r\nSubject: help\r\nMessage-ID: <h1@example.com>\r\n\r\n"
        b"My father fainted in Cebu."
    )
    r = httpx.post(
        f"{live_server.url}/api/v1/intake/email",
        content=mail,
        headers={"Content-Type": "message/rfc822"},
        timeout=10,
    )
    assert r.status_code == 201
    email_case = r.json()["ticket_id"]
    # The same traveller phones and gives the same e-mail address: a suggestion, not a merge.
    r = log_call(
        live_server,
        headers,
        caller_number="+63 917 123 4567",
        country="PH",
        email="Hong@Example.com",
        notes="Father fainted, now awake.",
    )
    assert r.status_code == 201
    phone_case = r.json()["id"]
    links = httpx.get(
        f"{live_server.url}/api/v1/tickets/{phone_case}/links", headers=headers, timeout=10
    ).json()
    assert links["total"] == 1
    assert links["items"][0]["reason"] == "same_email"
    assert links["items"][0]["ticket"]["id"] == email_case
    with db.read_session() as s:
        assert {t.status for t in s.scalars(select(Ticket))} == {"new"}
        assert len(s.scalars(select(TicketLink)).all()) == 2
    reply = make_reply(db, phone_case, "Keep him lying down.")

    manager = make_staff(db, "manager").headers(live_server.url)
    url = f"{live_server.url}/api/v1/tickets/{phone_case}/merge"
    assert httpx.post(url, json={"into_ticket_id": email_case}, headers=manager).status_code == 403
    r = httpx.post(url, json={"into_ticket_id": phone_case}, headers=headers, timeout=10)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "merge_into_self"
    assert httpx.post(url, json={"into_ticket_id": 999999}, headers=headers).status_code == 404

    r = httpx.post(url, json={"into_ticket_id": email_case}, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == email_case and r.json()["moved_messages"] == 2
    with db.read_session() as s:
        merged = s.get(Ticket, phone_case)
        assert (merged.status, merged.merged_into_id) == ("merged", email_case)
        assert merged.merged_at is not None
        assert {m.ticket_id for m in s.scalars(select(Message))} == {email_case}
        assert (
            s.scalars(select(OutboxItem).where(OutboxItem.message_id == reply)).one().ticket_id
            == email_case
        )
        names = [(e.name, e.ticket_id) for e in s.scalars(select(Event).order_by(Event.id))][-2:]
    assert names == [("ticket.status_changed", phone_case), ("ticket.merged", email_case)]
    # Merged once: a second merge is refused, and the links list hides the merged case.
    r = httpx.post(url, json={"into_ticket_id": email_case}, headers=headers, timeout=10)
    assert r.status_code == 409
    r = httpx.get(
        f"{live_server.url}/api/v1/tickets/{email_case}/links", headers=headers, timeout=10
    )
    assert r.json()["total"] == 0

    # Mail with the merged case's token lands in the case it was merged into...
    with db.read_session() as s:
        number = s.get(Ticket, phone_case).case_number

    def mail_with_token(sender: bytes, mid: bytes):
        raw = (
            b"From: " + sender + b"\r\nSubject: Re: [" + number.encode() + b"]\r\n"
            b"Message-ID: " + mid + b"\r\n\r\nHe is better now."
        )
        return httpx.post(
            f"{live_server.url}/api/v1/intake/email",
            content=raw,
            headers={"Content-Type": "message/rfc822"},
            timeout=10,
        )

    r = mail_with_token(b"Hong <hong@example.com>", b"<h2@example.com>")
    assert r.status_code == 200 and r.json()["ticket_id"] == email_case
    # ...but a guessed case number from a stranger threads nothing: it opens its own case.
    r = mail_with_token(b"Stranger <x@example.org>", b"<h3@example.org>")
    assert r.status_code == 201 and r.json()["ticket_id"] not in (email_case, phone_case)


def test_missed_call_from_the_telephony_webhook(start_server, db):
    import hashlib
    import hmac
    import json

    server = start_server(CONSULT119_INTAKE_SECRET="pbx-secret")

    def post(body, secret="pbx-secret"):
        raw = json.dumps(body).encode()
        sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        return httpx.post(
            f"{server.url}/api/v1/intake/phone/events",
            content=raw,
            timeout=10,
            headers={"Content-Type": "application/json", "X-Consult119-Signature": sig},
        )

    missed = {"call_id": "pbx-77", "event": "missed", "caller_number": "+81 90 1234 5678"}
    r = post(missed)
    assert r.status_code == 201 and r.json()["created"] is True
    assert post(missed).json()["duplicate"] is True
    assert post({**missed, "event": "answered"}).json()["taken"] is False
    assert post(missed, secret="wrong").status_code == 401
    assert post({**missed, "caller_number": "123"}).status_code == 422
    with db.read_session() as s:
        [message] = s.scalars(select(Message)).all()
        assert message.text == "[missed]" and message.meta["call_id"] == "pbx-77"
        assert s.scalars(select(Ticket.channel)).one() == "phone"
