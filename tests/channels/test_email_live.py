"""E-mail end to end over real sockets: smtplib into the listener, replies out through a real
SMTP sink as the relay, threading by header and by subject token, machines and bad mail refused."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from email.utils import make_msgid

import httpx
import pytest
from sqlalchemy import func, select

from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.tickets.models import Attachment, Message, Ticket
from tests.channels.conftest import FAST_OUTBOX, fixture_bytes, wait_for
from tests.factories import make_reply


def new_mail(sender: str, subject: str, text: str, **headers: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "central119ems@korea.kr"
    m["Subject"] = subject
    m["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="traveller.example")
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    m.set_content(text)
    return m


def smtp_send(server, mail: EmailMessage | bytes, sender: str = "t@example.com") -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        if isinstance(mail, bytes):
            smtp.sendmail(sender, ["central119ems@korea.kr"], mail)
        else:
            smtp.send_message(mail)


def count(db, model, *where) -> int:
    with db.read_session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_mail_opens_a_case_is_acknowledged_and_replies_thread(start_server, db, smtp_sink):
    smtp_sink.start()
    server = start_server(
        CONSULT119_SMTP_RELAY=smtp_sink.relay,
        CONSULT119_MAIL_FROM="central119ems@korea.kr",
        **FAST_OUTBOX,
    )
    smtp_send(server, fixture_bytes("outlook_euckr.eml"), sender="minsu.kim@example.kr")
    with db.read_session() as s:
        ticket = s.scalars(select(Ticket)).one()
        inbound = s.scalars(select(Message).where(Message.direction == "inbound")).one()
        files = s.scalars(select(Attachment)).all()
    assert (ticket.channel, ticket.source) == ("email", "smtp")
    assert "열이 39도" in inbound.text and inbound.meta["subject"] == "방콕 여행 중 고열과 설사"
    assert [f.filename for f in files] == ["약봉투.png"]

    # The acknowledgement goes out through the relay, threaded and tagged.
    wait_for(lambda: smtp_sink.received, what="the acknowledgement mail")
    _, rcpts, ack = smtp_sink.received[0]
    assert rcpts == ["minsu.kim@example.kr"]
    assert ack["Subject"] == f"[{ticket.case_number}] Re: 방콕 여행 중 고열과 설사"
    assert ack["In-Reply-To"] == "<20240305021409.4f2a@mail.example.kr>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ticket.case_number in ack.get_content()
    ack_id = ack["Message-ID"]

    # A reply citing our Message-ID joins the case, even from another address.
    smtp_send(
        server,
        new_mail(
            "Sister <sister@example.net>",
            "Re: 방콕",
            "동생이 계속 토해요",
            In_Reply_To=ack_id,
            References=ack_id,
        ),
    )
    # A reply that lost its headers but kept the subject token joins too.
    smtp_send(
        server, new_mail("minsu.kim@example.kr", f"Re: [{ticket.case_number}] 방콕", "약 먹었어요")
    )
    assert count(db, Ticket) == 1
    assert count(db, Message, Message.direction == "inbound") == 3

    # A staff reply goes out on the same thread with the system's Message-ID stored.
    reply_id = make_reply(db, ticket.id, "경구 수액을 조금씩 자주 드세요.")
    wait_for(lambda: len(smtp_sink.received) == 2, what="the staff reply mail")
    _, rcpts, reply = smtp_sink.received[1]

    def reply_recorded() -> bool:  # the sink has the mail before the sender records the outcome
        with db.read_session() as s:
            status = select(OutboxItem.status).where(OutboxItem.message_id == reply_id)
            return s.scalars(status).one() != "sending"

    wait_for(reply_recorded, what="the reply's delivery recorded")
    with db.read_session() as s:
        stored = s.get(Message, reply_id)
        item = s.scalars(select(OutboxItem).where(OutboxItem.message_id == reply_id)).one()
        delivered = s.scalars(
            select(Event).where(Event.name == "message.delivery_changed").order_by(Event.id)
        ).all()
    assert rcpts == ["minsu.kim@example.kr"]
    assert reply["Message-ID"] == stored.external_id == item.external_ref
    assert f"[{ticket.case_number}]" in reply["Subject"]
    assert ack_id in reply["References"]
    assert (stored.delivery, item.status, item.attempts) == ("sent", "sent", 1)
    assert delivered[-1].data == {
        "message_id": reply_id,
        "ticket_id": ticket.id,
        "delivery": "sent",
        "attempts": 1,
    }

    # The recipient's server bounces the reply: staff see it failed; no case, no answer.
    bounce = fixture_bytes("bounce.eml").replace(
        b"Status: 5.1.1",
        b"Status: 5.1.1\r\n\r\n--b5\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: " + reply["Message-ID"].encode(),
    )
    smtp_send(server, bounce, sender="")
    with db.read_session() as s:
        assert s.get(Message, reply_id).delivery == "failed"
        assert (
            s.scalars(select(OutboxItem.last_error).where(OutboxItem.message_id == reply_id)).one()
            == "bounced"
        )
    assert count(db, Ticket) == 1 and len(smtp_sink.received) == 2


def test_duplicates_machines_and_bad_mail(live_server, db):
    first = new_mail("a@example.com", "도와주세요", "배가 아파요", message_id="<same@example.com>")
    smtp_send(live_server, first)
    smtp_send(live_server, first)  # a redelivery
    r = httpx.post(
        f"{live_server.url}/api/v1/intake/email",
        content=first.as_bytes(),
        headers={"Content-Type": "message/rfc822"},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["duplicate"] is True
    assert (count(db, Ticket), count(db, Message, Message.direction == "inbound")) == (1, 1)

    # Machines: taken (250 / 202) but never a case, never answered.
    smtp_send(live_server, fixture_bytes("auto_reply.eml"))
    smtp_send(live_server, fixture_bytes("bounce.eml"))
    r = httpx.post(
        f"{live_server.url}/api/v1/intake/email",
        content=fixture_bytes("bounce.eml"),
        headers={"Content-Type": "message/rfc822"},
        timeout=10,
    )
    assert r.status_code == 202 and r.json()["ignored"] == "delivery_report"
    with smtplib.SMTP("127.0.0.1", live_server.smtp_port, timeout=10) as smtp:
        smtp.sendmail("", ["x@korea.kr"], new_mail("b@example.com", "x", "y").as_bytes())
    assert count(db, Ticket) == 1
    assert count(db, Message) == 2  # the mail and its one acknowledgement

    # Too large: 552 on SMTP, 413 over HTTP; empty and broken: 5xx / 422. Nothing stored.
    big = new_mail("c@example.com", "big", "x" * (12 * 1024 * 1024)).as_bytes()
    with pytest.raises(smtplib.SMTPException) as exc:
        smtp_send(live_server, big)
    assert "552" in str(exc.value)
    r = httpx.post(
        f"{live_server.url}/api/v1/intake/email",
        content=big,
        headers={"Content-Type": "message/rfc822"},
        timeout=30,
    )
    assert r.status_code == 413
    with pytest.raises(smtplib.SMTPDataError) as exc:
        smtp_send(live_server, b"")
    assert exc.value.smtp_code == 550
    for body, status in [
        (b"", 422),
        (b"\x00\x01 not mail", 422),
    ]:
        r = httpx.post(
            f"{live_server.url}/api/v1/intake/email",
            content=body,
            headers={"Content-Type": "message/rfc822"},
            timeout=10,
        )
        assert r.status_code == status, r.text
    r = httpx.post(
        f"{live_server.url}/api/v1/intake/email",
        content=b"{}",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 415
    assert count(db, Ticket) == 1

    # Garbage on the SMTP port: refused, and the listener still takes mail afterwards.
    with socket.create_connection(("127.0.0.1", live_server.smtp_port), timeout=10) as raw:
        raw.recv(1024)
        raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n")
        raw.sendall(b"HELO\r\nDATA\r\n" + b"A" * 5000 + b"\r\nQUIT\r\n")
        assert raw.recv(1024).startswith(b"5")
    smtp_send(live_server, new_mail("d@example.com", "after garbage", "still works"))
    assert count(db, Ticket) == 2
    assert httpx.get(f"{live_server.url}/healthz", timeout=5).status_code == 200


def test_relay_down_then_up_delivers_once(start_server, db, smtp_sink):
    server = start_server(CONSULT119_SMTP_RELAY=smtp_sink.relay, **FAST_OUTBOX)  # sink not started
    smtp_send(server, new_mail("e@example.com", "help", "chest pain"))
    with db.read_session() as s:
        ticket_id = s.scalars(select(Ticket.id)).one()
    reply_id = make_reply(db, ticket_id, "Call the local emergency number now.")

    def retried():
        with db.read_session() as s:
            items = s.scalars(select(OutboxItem)).all()
        return len(items) == 2 and all(i.attempts >= 2 and i.status == "queued" for i in items)

    wait_for(retried, what="failed attempts while the relay is down")
    with db.read_session() as s:
        assert s.get(Message, reply_id).delivery == "queued"
        assert "relay_unreachable" in s.scalars(select(OutboxItem.last_error)).first()
    smtp_sink.start()
    wait_for(lambda: len(smtp_sink.received) == 2, what="both mails after the relay came back")

    def all_sent():
        with db.read_session() as s:
            return {i.status for i in s.scalars(select(OutboxItem))} == {"sent"}

    wait_for(all_sent, what="delivery recorded")
    subjects = sorted(m["Subject"] for _, _, m in smtp_sink.received)
    assert len(set(m["Message-ID"] for _, _, m in smtp_sink.received)) == 2
    assert all(s.startswith("[C119-") for s in subjects)
    with db.read_session() as s:
        assert s.get(Message, reply_id).delivery == "sent"
