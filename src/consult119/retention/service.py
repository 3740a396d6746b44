"""Retention: how long each kind of record is kept, and the purge that enforces it.

A purge runs in phases, each in short batches (one unit of work per batch, so the live service
keeps writing between them on SQLite's single writer), each batch a handful of set-based SQL
statements over at most ``retention_batch_size`` ids:

1. **cases** resolved, closed or merged whose last change is older than the case retention:
   their messages, attachments, outbox rows, suggested links and events are deleted, and the
   case row is de-identified — free text, red flags, vessel or flight, timezone and locale
   cleared, the age coarsened to the lower bound of its ten-year band, ``purged_at`` set. The
   row keeps its codes (date, channel, source, status, KTAS level, category, disposition,
   country, land/sea/air, age band, sex, response times), so every report stays exactly as it
   was: statistics come from pseudonymised data, and a purge never changes a published figure.
   Open cases are never touched.
2. **attachments** of finished cases whose message is older than the attachment retention.
3. **events** older than the event retention (the console resyncs a client that asks to resume
   from a purged id).
4. **access log** entries older than the audit retention (never less than two years).
5. **contacts** with no case left (none, or only purged ones) unchanged for the contact
   retention: their channel identities are deleted and their name, phone, e-mail and the rest
   cleared, so a later message from the same person starts afresh.

The conditions are built once and used both to count (``plan``, the dry run) and to purge, so
a dry run announces exactly what a purge at the same moment removes. Each purge writes one
``audit_log`` entry (action ``purge``) in its first transaction and updates its counts in the
same transaction as every batch, so the entry always says what was really removed, even if the
purge is interrupted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, exists, func, not_, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from consult119.audit import service as audit
from consult119.audit.models import AuditEntry
from consult119.config import Settings
from consult119.db import Database
from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.tickets.codes import Status
from consult119.tickets.models import (
    Attachment,
    Contact,
    ContactIdentity,
    Message,
    Ticket,
    TicketLink,
)

#: Statuses a case may be purged in; an open case never is.
FINISHED = (Status.RESOLVED.value, Status.CLOSED.value, Status.MERGED.value)
#: The audit action of a purge.
PURGE_ACTION = "purge"
#: What a purge counts, in the order it reports them.
KINDS = ("cases", "messages", "attachments", "outbox", "links", "events", "audit", "contacts")
#: The phases, in the order they run.
PHASES = ("cases", "attachments", "events", "audit", "contacts")

#: Case columns that describe a person rather than count a consultation: cleared on purge.
CASE_PERSONAL_COLUMNS = (
    "symptoms_onset",
    "conditions",
    "medication",
    "allergies",
    "chief_complaint",
    "assessment",
    "plan",
    "vessel_or_flight",
    "red_flags",
    "timezone",
    "locale",
)
#: Contact columns cleared on erasure (everything but the id and the timestamps).
CONTACT_PERSONAL_COLUMNS = (
    "display_name",
    "locale",
    "country",
    "timezone",
    "location_type",
    "vessel_or_flight",
    "phone_e164",
    "email",
)

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Cutoffs:
    """Records older than these instants (UTC) are due."""

    now: datetime
    case: datetime
    attachment: datetime
    event: datetime
    audit: datetime
    contact: datetime

    @classmethod
    def at(cls, settings: Settings, now: datetime) -> Cutoffs:
        def days(n: int) -> datetime:
            return now - timedelta(days=n)

        return cls(
            now=now,
            case=days(settings.retention_case_days),
            attachment=days(settings.retention_attachment_days),
            event=days(settings.retention_event_days),
            audit=days(settings.retention_audit_days),
            contact=days(settings.retention_contact_days),
        )

    def as_json(self) -> dict[str, str]:
        return {
            k: getattr(self, k).isoformat()
            for k in ("case", "attachment", "event", "audit", "contact")
        }


@dataclass
class Plan:
    """What is due: rows per kind, and rows per phase (for a progress bar)."""

    cutoffs: Cutoffs
    counts: dict[str, int]
    phases: dict[str, int]


@dataclass
class PurgeResult:
    cutoffs: Cutoffs
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    audit_id: int | None = None


# ---- the conditions, shared by counting and purging -------------------------------------------


def _case_due(cut: Cutoffs) -> ColumnElement[bool]:
    return and_(
        Ticket.status.in_(FINISHED), Ticket.purged_at.is_(None), Ticket.updated_at < cut.case
    )


def _due_case_ids(cut: Cutoffs) -> Select[Any]:
    return select(Ticket.id).where(_case_due(cut))


def _messages_of(ticket_ids: Any) -> Select[Any]:
    return select(Message.id).where(Message.ticket_id.in_(ticket_ids))


def _aged_attachment(cut: Cutoffs) -> ColumnElement[bool]:
    """An attachment of a finished case (not itself due: phase 1 takes those) past its time."""
    old_messages = (
        select(Message.id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Message.created_at < cut.attachment,
            Ticket.status.in_(FINISHED),
            not_(_case_due(cut)),
        )
    )
    return Attachment.message_id.in_(old_messages)


def _aged_event(cut: Cutoffs) -> ColumnElement[bool]:
    return and_(
        Event.at < cut.event,
        or_(Event.ticket_id.is_(None), Event.ticket_id.not_in(_due_case_ids(cut))),
    )


def _aged_audit(cut: Cutoffs) -> ColumnElement[bool]:
    return AuditEntry.at < cut.audit


def _contact_due(cut: Cutoffs) -> ColumnElement[bool]:
    """No case left: every case of the contact is purged, or is about to be."""
    live_case = (
        select(Ticket.id)
        .where(Ticket.contact_id == Contact.id, Ticket.purged_at.is_(None), not_(_case_due(cut)))
        .correlate(Contact)
    )
    return and_(
        Contact.purged_at.is_(None), Contact.updated_at < cut.contact, not_(exists(live_case))
    )


def _count(session: Session, stmt: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def plan(session: Session, settings: Settings, *, now: datetime) -> Plan:
    """Count what a purge at ``now`` would remove (the dry run), without writing anything."""
    cut = Cutoffs.at(settings, now)
    due = _due_case_ids(cut)
    messages = _messages_of(due)
    case_attachments = _count(
        session, select(Attachment.id).where(Attachment.message_id.in_(messages))
    )
    aged_attachments = _count(session, select(Attachment.id).where(_aged_attachment(cut)))
    case_events = _count(session, select(Event.id).where(Event.ticket_id.in_(due)))
    aged_events = _count(session, select(Event.id).where(_aged_event(cut)))
    phases = {
        "cases": _count(session, due),
        "attachments": aged_attachments,
        "events": aged_events,
        "audit": _count(session, select(AuditEntry.id).where(_aged_audit(cut))),
        "contacts": _count(session, select(Contact.id).where(_contact_due(cut))),
    }
    counts = {
        "cases": phases["cases"],
        "messages": _count(session, messages),
        "attachments": case_attachments + aged_attachments,
        "outbox": _count(
            session,
            select(OutboxItem.id).where(
                or_(OutboxItem.ticket_id.in_(due), OutboxItem.message_id.in_(messages))
            ),
        ),
        "links": _count(
            session,
            select(TicketLink.id).where(
                or_(TicketLink.ticket_id.in_(due), TicketLink.other_ticket_id.in_(due))
            ),
        ),
        "events": case_events + aged_events,
        "audit": phases["audit"],
        "contacts": phases["contacts"],
    }
    return Plan(cutoffs=cut, counts=counts, phases=phases)


# ---- purging ----------------------------------------------------------------------------------


def purge(
    db: Database,
    settings: Settings,
    *,
    now: datetime,
    by: str | None = None,
    progress: Progress | None = None,
) -> PurgeResult:
    """Remove everything due at ``now`` (see the module docstring), batch by batch.

    ``by`` names who ran it (the operating-system user for the command line); it goes into the
    audit entry with the counts. ``progress(phase, rows)`` is called after each batch.
    """
    cut = Cutoffs.at(settings, now)
    result = PurgeResult(cutoffs=cut)
    batch = settings.retention_batch_size
    with db.unit_of_work() as session:
        entry = audit.record(
            session, staff_id=None, action=PURGE_ACTION, detail=_detail(result, by), at=now
        )
        session.flush()
        result.audit_id = entry.id

    def run(
        phase: str, pick: Select[Any], apply: Callable[[Session, list[int]], dict[str, int]]
    ) -> None:
        """Batch after batch until nothing is due: pick ids, apply, record; one transaction each.
        (On PostgreSQL, rows the service holds locked are skipped until the next run.)"""
        while True:
            with db.unit_of_work() as session:
                ids = list(session.scalars(pick.limit(batch)))
                if not ids:
                    return
                for kind, n in apply(session, ids).items():
                    result.counts[kind] += n
                session.execute(
                    sql_update(AuditEntry)
                    .where(AuditEntry.id == result.audit_id)
                    .values(detail=_detail(result, by))
                )
            if progress is not None:
                progress(phase, len(ids))

    run(
        "cases",
        _due_case_ids(cut).order_by(Ticket.id).with_for_update(of=Ticket, skip_locked=True),
        lambda s, ids: _purge_cases(s, ids, now),
    )
    run(
        "attachments",
        select(Attachment.id).where(_aged_attachment(cut)).order_by(Attachment.id),
        lambda s, ids: {"attachments": _delete(s, Attachment, Attachment.id.in_(ids))},
    )
    run(
        "events",
        select(Event.id).where(_aged_event(cut)).order_by(Event.id),
        lambda s, ids: {"events": _delete(s, Event, Event.id.in_(ids))},
    )
    run(
        "audit",
        select(AuditEntry.id).where(_aged_audit(cut)).order_by(AuditEntry.id),
        lambda s, ids: {"audit": _delete(s, AuditEntry, AuditEntry.id.in_(ids))},
    )
    run(
        "contacts",
        select(Contact.id)
        .where(_contact_due(cut))
        .order_by(Contact.id)
        .with_for_update(of=Contact, skip_locked=True),
        lambda s, ids: _erase_contacts(s, ids, now),
    )
    with db.unit_of_work() as session:
        session.execute(
            sql_update(AuditEntry)
            .where(AuditEntry.id == result.audit_id)
            .values(detail=_detail(result, by, finished=True))
        )
    return result


def _detail(result: PurgeResult, by: str | None, *, finished: bool = False) -> dict[str, Any]:
    return {
        "by": by,
        "finished": finished,
        "counts": dict(result.counts),
        "older_than": result.cutoffs.as_json(),
    }


def _delete(session: Session, table: Any, where: ColumnElement[bool]) -> int:
    return int(session.execute(delete(table).where(where)).rowcount or 0)  # type: ignore[attr-defined]


def _purge_cases(session: Session, ids: list[int], now: datetime) -> dict[str, int]:
    """Delete what the cases hold about a person, then de-identify the case rows."""
    messages = _messages_of(ids)
    counts = {
        "attachments": _delete(session, Attachment, Attachment.message_id.in_(messages)),
        "outbox": _delete(
            session,
            OutboxItem,
            or_(OutboxItem.ticket_id.in_(ids), OutboxItem.message_id.in_(messages)),
        ),
        "messages": _delete(session, Message, Message.ticket_id.in_(ids)),
        "links": _delete(
            session,
            TicketLink,
            or_(TicketLink.ticket_id.in_(ids), TicketLink.other_ticket_id.in_(ids)),
        ),
        "events": _delete(session, Event, Event.ticket_id.in_(ids)),
    }
    age = Ticket.patient_age
    updated = session.execute(
        sql_update(Ticket)
        .where(Ticket.id.in_(ids))
        .values(
            {
                **dict.fromkeys(CASE_PERSONAL_COLUMNS),
                # The lower bound of the report's band (0-9, …, 60-69, 70+): bands stay exact.
                "patient_age": case((age >= 70, 70), else_=age - age % 10),
                "purged_at": now,
            }
        )
        .execution_options(synchronize_session=False)
    )
    counts["cases"] = int(updated.rowcount or 0)  # type: ignore[attr-defined]
    return counts


def _erase_contacts(session: Session, ids: list[int], now: datetime) -> dict[str, int]:
    _delete(session, ContactIdentity, ContactIdentity.contact_id.in_(ids))
    erased = session.execute(
        sql_update(Contact)
        .where(Contact.id.in_(ids))
        .values({**dict.fromkeys(CONTACT_PERSONAL_COLUMNS), "purged_at": now})
        .execution_options(synchronize_session=False)
    )
    return {"contacts": int(erased.rowcount or 0)}  # type: ignore[attr-defined]
