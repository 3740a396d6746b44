"""Retention's queries: what is due at a set of cutoffs, and removing it batch by batch.

The conditions are shared by counting (the dry run) and purging, so both see the same rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, exists, func, not_, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from consult119.attachments.models import Attachment
from consult119.audit.models import AuditEntry
from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.tickets.codes import Status
from consult119.tickets.models import (
    Contact,
    ContactIdentity,
    Message,
    Ticket,
    TicketLink,
)

if TYPE_CHECKING:
    from datetime import datetime

    from consult119.retention.service import Cutoffs

#: Statuses a case may be purged in; an open case never is.
FINISHED = (Status.RESOLVED.value, Status.CLOSED.value, Status.MERGED.value)
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
    "purpose_of_stay",
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


def due_counts(session: Session, cut: Cutoffs) -> tuple[dict[str, int], dict[str, int]]:
    """Rows due at ``cut``: per kind, and per phase (see ``service.plan``)."""
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
    return counts, phases


# ---- purging ----------------------------------------------------------------------------------


def _pick(phase: str, cut: Cutoffs) -> Select[Any]:
    """The ids due in ``phase``, in id order; rows another writer holds are skipped."""
    if phase == "cases":
        return _due_case_ids(cut).order_by(Ticket.id).with_for_update(of=Ticket, skip_locked=True)
    if phase == "attachments":
        return select(Attachment.id).where(_aged_attachment(cut)).order_by(Attachment.id)
    if phase == "events":
        return select(Event.id).where(_aged_event(cut)).order_by(Event.id)
    if phase == "audit":
        return select(AuditEntry.id).where(_aged_audit(cut)).order_by(AuditEntry.id)
    if phase == "contacts":
        return (
            select(Contact.id)
            .where(_contact_due(cut))
            .order_by(Contact.id)
            .with_for_update(of=Contact, skip_locked=True)
        )
    raise ValueError(phase)


def due_ids(session: Session, phase: str, cut: Cutoffs, *, limit: int) -> list[int]:
    """Up to ``limit`` ids due in ``phase``."""
    return list(session.scalars(_pick(phase, cut).limit(limit)))


def purge_batch(session: Session, phase: str, ids: list[int], now: datetime) -> dict[str, int]:
    """Remove (or de-identify) the rows ``ids`` of ``phase``; rows per kind."""
    if phase == "cases":
        return _purge_cases(session, ids, now)
    if phase == "attachments":
        return {"attachments": _delete(session, Attachment, Attachment.id.in_(ids))}
    if phase == "events":
        return {"events": _delete(session, Event, Event.id.in_(ids))}
    if phase == "audit":
        return {"audit": _delete(session, AuditEntry, AuditEntry.id.in_(ids))}
    if phase == "contacts":
        return _erase_contacts(session, ids, now)
    raise ValueError(phase)


def attachment_hashes(session: Session, phase: str, ids: list[int]) -> set[str]:
    """The file hashes the attachment rows a batch of ``phase`` deletes name (read first: the
    files go once the batch has committed and no other row names them)."""
    if phase == "cases":
        where = Attachment.message_id.in_(_messages_of(ids))
    elif phase == "attachments":
        where = Attachment.id.in_(ids)
    else:
        return set()
    return set(
        session.scalars(
            select(Attachment.sha256).where(where, Attachment.sha256.is_not(None)).distinct()
        )
    )


def set_audit_detail(session: Session, audit_id: int | None, detail: dict[str, Any]) -> None:
    """Rewrite the purge's access-log entry with the counts so far."""
    session.execute(sql_update(AuditEntry).where(AuditEntry.id == audit_id).values(detail=detail))


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
