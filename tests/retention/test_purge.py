"""Retention purge on both databases, at a moment the test chooses.

The cases are made through the real intake, case actions and merge; the purge then runs at
``NOW``, years later, with every retention at its documented meaning.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from consult119.attachments.service import store_of
from consult119.audit.models import AuditEntry
from consult119.config import Settings
from consult119.console.snapshot import plan_resume
from consult119.db import Database
from consult119.outbound.models import OutboxItem
from consult119.realtime import events
from consult119.realtime.models import Event
from consult119.reports import service as reports
from consult119.retention import service as retention
from consult119.staff.models import Staff
from consult119.tickets import service as cases
from consult119.tickets.merge import merge_tickets
from consult119.tickets.models import (
    Attachment,
    Contact,
    ContactIdentity,
    Message,
    Ticket,
    TicketLink,
)
from tests.factories import make_staff
from tests.retention.helpers import receive

NOW = datetime(2036, 3, 1, 3, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=11 * 365)  # past the 10-year case retention
RECENT = NOW - timedelta(days=200)  # inside it, past a 180-day attachment retention


def attach(db: Database, ticket_id: int, data: bytes | None = None) -> str:
    """A file in the store on the case's first message; its hash."""
    data = data if data is not None else f"jpg of case {ticket_id}".encode()
    sha, size = store_of(db.settings).put([data])
    with db.unit_of_work() as session:
        first = session.scalars(
            select(Message.id).where(Message.ticket_id == ticket_id).order_by(Message.id)
        ).first()
        session.add(
            Attachment(
                message_id=first,
                filename="wound.jpg",
                content_type="image/jpeg",
                size=size,
                sha256=sha,
                created_at=OLD,
            )
        )
    return sha


def answer_and_finish(db: Database, emt_id: int, ticket_id: int, at: datetime, *, close: bool):
    """An EMT replies (an outbox row), records patient details and resolves (then closes)."""
    with db.unit_of_work() as session:
        emt = session.get(Staff, emt_id)
        cases.add_message(session, ticket_id, staff=emt, text="Go to the nearest ED.", now=at)
        ticket = session.get(Ticket, ticket_id)
        ticket.patient_age, ticket.patient_sex = 34, "F"
        ticket.conditions, ticket.medication, ticket.allergies = (
            "asthma",
            "salbutamol",
            "penicillin",
        )
        ticket.symptoms_onset, ticket.vessel_or_flight = "02:00 today", "MV Hanbada"
        ticket.location_type, ticket.country = "sea", "JP"
        session.flush()  # the status change re-reads the row under its lock
        cases.change_status(session, ticket_id, to="resolved", by=emt, now=at + timedelta(hours=1))
        if close:
            cases.change_status(
                session, ticket_id, to="closed", by=emt, now=at + timedelta(hours=2)
            )


@pytest.fixture
def world(db: Database) -> dict[str, int]:
    """Old finished cases (one merged into another), an old open case, a recent finished case,
    old events and access-log entries on both sides of two years."""
    emt = make_staff(db, "emt")
    old_closed = receive(db, "old-traveller", "가슴이 아파요", OLD)
    old_dup = receive(db, "old-traveller-mail", "same person, other channel", OLD)
    with db.unit_of_work() as session:
        session.add(
            TicketLink(
                ticket_id=old_closed, other_ticket_id=old_dup, reason="phone", created_at=OLD
            )
        )
        merge_tickets(session, old_dup, old_closed, actor_id=emt.id, now=OLD + timedelta(minutes=5))
    attach(db, old_closed)
    answer_and_finish(db, emt.id, old_closed, OLD + timedelta(minutes=10), close=True)

    old_open = receive(db, "still-open", "배가 아파요", OLD)
    attach(db, old_open)
    recent = receive(db, "recent-traveller", "열이 나요", RECENT)
    attach(db, recent)
    answer_and_finish(db, emt.id, recent, RECENT + timedelta(minutes=10), close=False)

    with db.unit_of_work() as session:
        events.append(
            session, "presence.changed", data={"staff_id": emt.id}, at=NOW - timedelta(days=400)
        )
        for days in (731, 729):
            session.add(
                AuditEntry(
                    at=NOW - timedelta(days=days),
                    staff_id=emt.id,
                    action="ticket.view",
                    ticket_id=old_open,
                    detail={"days": days},
                )
            )
    return {"old_closed": old_closed, "old_dup": old_dup, "old_open": old_open, "recent": recent}


@pytest.fixture
def policy(settings: Settings) -> Settings:
    return settings.model_copy(update={"retention_attachment_days": 180, "retention_batch_size": 1})


def count(db: Database, stmt) -> int:
    with db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(stmt.subquery())))


def reports_of(db: Database) -> list[dict]:
    zone = db.settings.report_zone
    out = []
    with db.read_session() as session:
        for year in (OLD.year, RECENT.year):
            period = reports.make_period(date(year, 1, 1), date(year + 1, 1, 1), zone)
            out.append(
                reports.channel_share(session, period, by="source", compare="none").model_dump()
            )
            for dimension in ("age_band", "sex", "country", "location_type"):
                out.append(reports.breakdown(session, period, dimension=dimension).model_dump())
            out.append(reports.response_times(session, period).model_dump())
    return out


def test_purge_removes_what_is_due_and_keeps_reports_exact(db, policy, world):
    due = [world["old_closed"], world["old_dup"]]
    expected_messages = count(db, select(Message.id).where(Message.ticket_id.in_(due)))
    assert expected_messages == 3  # two inbound (one moved by the merge) and the reply
    reports_before = reports_of(db)
    open_messages = count(db, select(Message.id).where(Message.ticket_id == world["old_open"]))

    with db.read_session() as session:
        dry = retention.plan(session, policy, now=NOW)
    # A dry run writes nothing.
    assert count(db, select(Message.id)) > expected_messages
    result = retention.purge(db, policy, now=NOW, by="ops")

    assert result.counts == dry.counts
    assert result.counts == {
        "cases": 2,
        "messages": expected_messages,
        "attachments": 2,  # the old closed case's, and the recent case's (past 180 days)
        "outbox": 1,
        "links": 1,
        "events": result.counts["events"],
        "audit": 1,
        "contacts": 2,
    }
    assert result.counts["events"] > 2

    with db.read_session() as session:
        for ticket_id in due:
            ticket = session.get(Ticket, ticket_id)
            assert ticket.purged_at == NOW
            assert ticket.conditions is ticket.medication is ticket.allergies is None
            assert ticket.symptoms_onset is ticket.vessel_or_flight is None
            assert session.scalar(select(func.count()).where(Event.ticket_id == ticket_id)) == 0
        closed = session.get(Ticket, world["old_closed"])
        # What reports count is still there; the age is its band's lower bound.
        assert (closed.status, closed.channel, closed.source) == ("closed", "chat", "kakao")
        assert (closed.patient_age, closed.patient_sex, closed.country) == (30, "F", "JP")
        assert closed.location_type == "sea" and closed.closed_at is not None
        assert session.scalar(select(func.count()).select_from(TicketLink)) == 0
        assert (
            session.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.ticket_id.in_(due))
            )
            == 0
        )
        contact = session.get(Contact, closed.contact_id)
        assert contact.purged_at == NOW and contact.display_name is None
        assert contact.phone_e164 is None and contact.email is None
        assert (
            session.scalar(
                select(func.count())
                .select_from(ContactIdentity)
                .where(ContactIdentity.contact_id == contact.id)
            )
            == 0
        )

        # The open case is never touched, however old.
        still_open = session.get(Ticket, world["old_open"])
        assert still_open.purged_at is None and still_open.status == "new"
        assert (
            session.scalar(select(func.count()).where(Message.ticket_id == world["old_open"]))
            == open_messages
        )
        assert session.get(Contact, still_open.contact_id).purged_at is None
        assert (
            session.scalar(
                select(func.count())
                .select_from(Attachment)
                .join(Message, Message.id == Attachment.message_id)
                .where(Message.ticket_id == world["old_open"])
            )
            == 1
        )

        # The recent finished case keeps its conversation, not its file.
        recent = session.get(Ticket, world["recent"])
        assert recent.purged_at is None and recent.conditions == "asthma"
        assert session.scalar(select(func.count()).where(Message.ticket_id == world["recent"])) == 2

        # The access log keeps two years, and records the purge with its counts.
        kept = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.view")).all()
        assert [e.detail["days"] for e in kept] == [729]
        entry = session.get(AuditEntry, result.audit_id)
        assert entry.action == "purge" and entry.at == NOW
        assert entry.detail["by"] == "ops" and entry.detail["finished"] is True
        assert entry.detail["counts"] == result.counts
        assert entry.detail["older_than"]["case"] == (NOW - timedelta(days=3650)).isoformat()

        # Events older than a year are gone, newer ones kept.
        assert session.scalar(select(func.min(Event.at))) >= NOW - timedelta(days=365)

    assert reports_of(db) == reports_before

    # Nothing is due any more: a second purge removes nothing.
    again = retention.purge(db, policy, now=NOW, by="ops")
    assert again.counts == dict.fromkeys(retention.KINDS, 0)


def test_a_purged_contact_who_writes_again_starts_afresh(db, policy, world):
    with db.read_session() as session:
        old_contact = session.get(Ticket, world["old_closed"]).contact_id
    retention.purge(db, policy, now=NOW)
    new_case = receive(db, "old-traveller", "다시 아파요", NOW)
    with db.read_session() as session:
        ticket = session.get(Ticket, new_case)
        assert new_case != world["old_closed"] and ticket.contact_id != old_contact
        assert session.scalar(select(func.count()).where(Message.ticket_id == new_case)) == 1


def test_a_console_resuming_from_a_purged_event_resyncs(db, policy, world):
    with db.read_session() as session:
        oldest = session.scalar(select(func.min(Event.id)))
    assert plan_resume(db, oldest, max_replay=10_000).kind == "replay"
    retention.purge(db, policy, now=NOW)
    assert plan_resume(db, oldest, max_replay=10_000).kind == "too_old"


def test_nothing_is_due_inside_every_retention(db, settings, world):
    with db.read_session() as session:
        soon = retention.plan(session, settings, now=OLD + timedelta(days=30))
    assert soon.counts == dict.fromkeys(retention.KINDS, 0)
    result = retention.purge(db, settings, now=OLD + timedelta(days=30), by="ops")
    assert result.counts == dict.fromkeys(retention.KINDS, 0)
    with db.read_session() as session:
        # Even a purge that removes nothing is on record.
        assert session.get(AuditEntry, result.audit_id).detail["finished"] is True


def test_the_access_log_is_kept_at_least_two_years(database_url):
    with pytest.raises(ValidationError, match="at least 730 days"):
        Settings(database_url=database_url, retention_audit_days=729)
    assert Settings(database_url=database_url, retention_audit_days=730).retention_audit_days == 730


def test_purge_removes_the_files_with_their_rows(db, policy, world):
    """Each purged attachment's file leaves the store; a file another row still names stays."""
    store = store_of(policy)
    files = {p.name for p in store.root.rglob("*") if p.is_file()}
    assert len(files) == 3  # one per attached case: old closed, old open, recent
    shared = attach(db, world["old_open"], data=f"jpg of case {world['recent']}".encode())
    kept_open = {
        sha
        for sha in files
        if store.path_of(sha).read_bytes() == f"jpg of case {world['old_open']}".encode()
    }

    retention.purge(db, policy, now=NOW)

    left = {p.name for p in store.root.rglob("*") if p.is_file()}
    # The old closed case's file went with its case, the recent case's with the attachment
    # retention; the open case's stays, and so does the recent one's bytes, which it also holds.
    assert left == kept_open | {shared}
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 2
