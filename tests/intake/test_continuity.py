"""Continuity rules with a controllable clock, at the service level."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from consult119.intake.service import InboundMessage, IntakeService
from consult119.tickets.codes import Status
from consult119.tickets.models import Ticket

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def service() -> IntakeService:
    return IntakeService(report_zone=ZoneInfo("Asia/Seoul"), reopen_window=timedelta(hours=72))


def send(db, now, mid, sender="s1"):
    with db.unit_of_work() as session:
        r = service().receive(
            session,
            InboundMessage(source="line", sender_id=sender, external_id=mid, text="hello"),
            now=now,
        )
        return r.ticket.id, r.created, r.reopened


def set_status(db, ticket_id, status, at):
    with db.unit_of_work() as session:
        t = session.get(Ticket, ticket_id)
        t.status = status
        t.resolved_at = at if status == Status.RESOLVED else t.resolved_at


def test_open_ticket_takes_the_message(db):
    tid, created, _ = send(db, T0, "1")
    assert created
    tid2, created2, _ = send(db, T0 + timedelta(days=30), "2")
    assert (tid2, created2) == (tid, False)


def test_resolved_within_72h_reopens_later_opens_new(db):
    tid, _, _ = send(db, T0, "1")
    set_status(db, tid, Status.RESOLVED.value, T0 + timedelta(hours=1))
    tid2, created, reopened = send(db, T0 + timedelta(hours=72), "2")
    assert (tid2, created, reopened) == (tid, False, True)
    with db.read_session() as s:
        t = s.get(Ticket, tid)
        assert t.status == Status.NEW and t.reopen_count == 1
    set_status(db, tid, Status.RESOLVED.value, T0 + timedelta(hours=73))
    tid3, created3, _ = send(db, T0 + timedelta(hours=73 + 72, seconds=1), "3")
    assert created3 and tid3 != tid


def test_closed_ticket_is_not_reopened(db):
    tid, _, _ = send(db, T0, "1")
    set_status(db, tid, Status.CLOSED.value, T0)
    tid2, created, _ = send(db, T0 + timedelta(minutes=5), "2")
    assert created and tid2 != tid


def test_case_year_follows_the_reporting_timezone(db):
    # 2023-12-31 15:30 UTC is 2024-01-01 00:30 in Seoul: a 2024 case.
    with db.unit_of_work() as session:
        r = service().receive(
            session,
            InboundMessage(source="kakao", sender_id="ny", external_id="1", text="hi"),
            now=datetime(2023, 12, 31, 15, 30, tzinfo=UTC),
        )
        number = r.case_number
    assert number == "C119-2024-000001"
    with db.read_session() as s:
        assert s.scalars(select(Ticket.year)).one() == 2024
