"""Factories shared by the tests: they write through the real services and commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from consult119.db import Database, utcnow
from consult119.staff.models import Shift
from consult119.staff.service import create_staff

PASSWORD = "correct-horse-battery"


@dataclass
class StaffLogin:
    id: int
    email: str
    role: str
    password: str = PASSWORD

    def token(self, base_url: str) -> str:
        r = httpx.post(
            f"{base_url}/api/v1/auth/token",
            data={"username": self.email, "password": self.password},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["access_token"]

    def headers(self, base_url: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(base_url)}"}


_counter = 0


def make_staff(
    db: Database,
    role: str,
    *,
    name: str | None = None,
    on_duty: bool = False,
    now: datetime | None = None,
    presence: str | None = None,
) -> StaffLogin:
    """A staff account (and a shift covering ``now`` when ``on_duty``)."""
    global _counter
    _counter += 1
    now = now or utcnow()
    email = f"{role}{_counter}@example.org"
    with db.unit_of_work() as session:
        staff = create_staff(
            session,
            email=email,
            name=name or f"{role.title()} {_counter}",
            role=role,
            password=PASSWORD,
            now=now,
        )
        if presence is not None:
            staff.presence = presence
        if on_duty:
            session.add(
                Shift(
                    staff_id=staff.id,
                    starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(hours=11),
                    started_seen_at=now,  # on duty before the test began: nothing to announce
                )
            )
        staff_id = staff.id
    assert staff_id is not None
    return StaffLogin(id=staff_id, email=email, role=role)


_ticket_counter = 0


def make_ticket(
    db: Database,
    text: str = "여행 중 배가 아파요",
    *,
    now: datetime | None = None,
    source: str = "kakao",
    sender_id: str | None = None,
) -> int:
    """A case opened through the real intake service at ``now``; returns its id."""
    from consult119.intake.service import InboundMessage, IntakeService

    global _ticket_counter
    _ticket_counter += 1
    now = now or utcnow()
    intake = IntakeService(
        report_zone=db.settings.report_zone,
        reopen_window=timedelta(hours=db.settings.reopen_window_hours),
    )
    with db.unit_of_work() as session:
        result = intake.receive(
            session,
            InboundMessage(
                source=source,
                sender_id=sender_id or f"traveller-{_ticket_counter}",
                external_id=f"msg-{_ticket_counter}-{now.timestamp()}",
                text=text,
            ),
            now=now,
        )
        return result.ticket_id


def add_shift(db: Database, staff_id: int, start: datetime, end: datetime) -> None:
    with db.unit_of_work() as session:
        session.add(Shift(staff_id=staff_id, starts_at=start, ends_at=end))


def make_reply(
    db: Database,
    ticket_id: int,
    text: str,
    *,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """A staff reply as the reply action writes it: an outbound message queued in the outbox,
    with its ``message.created`` event, in one unit of work. Returns the message id."""
    from consult119.outbound.service import enqueue
    from consult119.tickets.events import message_event
    from consult119.tickets.models import Message, Ticket

    now = now or utcnow()
    with db.unit_of_work() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        message = Message(
            ticket_id=ticket_id,
            direction="outbound",
            channel=ticket.channel,
            source=ticket.source,
            text=text,
            author_staff_id=staff_id,
            created_at=now,
        )
        session.add(message)
        session.flush()
        enqueue(session, ticket, message, now=now)
        message_event(session, message, ticket, at=now, actor_id=staff_id)
        message_id = message.id
    assert message_id is not None
    return message_id
