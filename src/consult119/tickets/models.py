"""Tables of the case domain: contacts and their channel identities, tickets, messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Contact(SQLModel, table=True):
    """The person who reaches out; identities on each channel point here."""

    __tablename__ = "contacts"

    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = Field(default=None, max_length=200)
    locale: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    timezone: str | None = Field(default=None, max_length=64)
    location_type: str | None = Field(default=None, max_length=8)
    vessel_or_flight: str | None = Field(default=None, max_length=100)
    phone_e164: str | None = Field(default=None, max_length=20, index=True)
    email: str | None = Field(default=None, max_length=320, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    purged_at: datetime | None = _ts()  # personal data erased by retention (docs/privacy.md)


class ContactIdentity(SQLModel, table=True):
    """One channel identity (Kakao user key, LINE id, email, E.164 phone, web-chat session)."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_identity_source_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    source: str = Field(max_length=20)
    external_id: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CaseCounter(SQLModel, table=True):
    """Last case sequence per reporting year; its row lock makes numbers gap-free."""

    __tablename__ = "case_counters"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_seq: int = Field(default=0)


class Ticket(SQLModel, table=True):
    """A consultation case."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("year", "seq", name="uq_ticket_year_seq"),
        # The queue: open cases by priority then waiting time.
        Index("ix_tickets_queue", "status", "priority", "created_at"),
        # Reports: a covering index for counts by period, channel and source.
        Index("ix_tickets_report", "created_at", "channel", "source", "status"),
        Index("ix_tickets_contact_status", "contact_id", "status"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(max_length=20, unique=True)
    year: int
    seq: int
    channel: str = Field(max_length=10)
    source: str = Field(max_length=20)
    contact_id: int = Field(foreign_key="contacts.id")
    status: str = Field(max_length=12)
    priority: int = Field(description="Queue rank: KTAS level, suspected level, or 2 untriaged")
    acuity: int | None = Field(default=None)
    suspected_acuity: int | None = Field(default=None)
    red_flags: list[str] | None = Field(default=None, sa_type=JSON)
    category: str | None = Field(default=None, max_length=24)
    disposition: str | None = Field(default=None, max_length=24)
    patient_age: int | None = None
    patient_sex: str | None = Field(default=None, max_length=1)
    symptoms_onset: str | None = Field(default=None, max_length=200)
    conditions: str | None = Field(default=None, max_length=2000)
    medication: str | None = Field(default=None, max_length=2000)
    allergies: str | None = Field(default=None, max_length=2000)
    # The clinical summary staff write (the record's own words, not the traveller's).
    chief_complaint: str | None = Field(default=None, max_length=500)
    assessment: str | None = Field(default=None, max_length=5000)
    plan: str | None = Field(default=None, max_length=5000)
    country: str | None = Field(default=None, max_length=2)
    timezone: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=20)
    location_type: str | None = Field(default=None, max_length=8)
    vessel_or_flight: str | None = Field(default=None, max_length=100)
    purpose_of_stay: str | None = Field(default=None, max_length=12)
    #: Record fields whose value is the traveller's own answer (web-chat form, Kakao quick
    #: reply), not yet confirmed by staff; a staff edit of a field removes its name.
    self_reported: list[str] | None = Field(default=None, sa_type=JSON)
    assignee_id: int | None = Field(default=None, foreign_key="staff.id")
    assignment_accepted: bool = Field(default=False)
    merged_into_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    reopen_count: int = Field(default=0)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_message_at: datetime | None = _ts()
    triaged_at: datetime | None = _ts()
    assigned_at: datetime | None = _ts()
    in_progress_at: datetime | None = _ts()
    waiting_at: datetime | None = _ts()
    first_response_at: datetime | None = _ts()
    resolved_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    merged_at: datetime | None = _ts()
    sla_due_at: datetime | None = _ts(index=True)
    sla_warned_at: datetime | None = _ts()
    sla_breached_at: datetime | None = _ts()
    #: The next-response clock: a traveller's message after a staff reply starts it (at
    #: ``next_response_since``), the next staff reply stops it (all four back to null).
    next_response_since: datetime | None = _ts()
    next_response_due_at: datetime | None = _ts(index=True)
    next_response_warned_at: datetime | None = _ts()
    next_response_breached_at: datetime | None = _ts()
    purged_at: datetime | None = _ts()  # de-identified by retention (docs/privacy.md)
    version: int = Field(default=1)


class Message(SQLModel, table=True):
    """An inbound or outbound message, or an internal note, on a ticket."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_message_source_ext"),
        Index("ix_messages_ticket", "ticket_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    direction: str = Field(max_length=10)
    channel: str = Field(max_length=10)
    source: str = Field(max_length=20)
    external_id: str | None = Field(default=None, max_length=200)
    text: str
    author_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = _ts()
    delivery: str | None = Field(default=None, max_length=10)
    meta: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class TicketLink(SQLModel, table=True):
    """A suggested link between two cases of what may be one traveller (never a silent merge)."""

    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("ticket_id", "other_ticket_id", name="uq_ticket_link"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    other_ticket_id: int = Field(foreign_key="tickets.id", index=True)
    reason: str = Field(max_length=20)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


# The attachments table moved to its own domain; the name stays importable from here.
from consult119.attachments.models import Attachment  # noqa: E402, F401
