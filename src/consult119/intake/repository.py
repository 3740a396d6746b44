"""Queries the intake needs beyond the case core: e-mail threading and same-person matches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from consult119.outbound.jobs import OWN_MESSAGE_ID_RE
from consult119.tickets.codes import Status
from consult119.tickets.models import Contact, Message, Ticket

#: Most cases suggested as links for one new case.
MAX_LINKS = 5


def ticket_of_message_ids(session: Session, source: str, message_ids: list[str]) -> Ticket | None:
    """The case holding the newest of ``message_ids`` (inbound or sent by us) on ``source``."""
    refs = message_ids[:50]
    if not refs:
        return None
    # Ours carry the message's primary key, so they are found whatever source the reply has.
    own = [int(m.group(1)) for m in map(OWN_MESSAGE_ID_RE.match, refs) if m]
    match = and_(Message.source == source, Message.external_id.in_(refs))
    if own:
        match = or_(match, and_(Message.id.in_(own), Message.external_id.in_(refs)))
    return session.scalars(
        select(Ticket)
        .join(Message, Message.ticket_id == Ticket.id)
        .where(match)
        .order_by(Message.id.desc())
        .limit(1)
    ).first()


def ticket_by_case_number(session: Session, case_number: str) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.case_number == case_number)).first()


def recent_tickets_of_same_person(
    session: Session, contact: Contact, *, since: datetime, exclude_ticket_id: int | None
) -> list[tuple[int, str]]:
    """``(ticket id, reason)`` of recent cases whose contact shares this contact's phone or e-mail.

    One query; ``reason`` is ``same_phone`` or ``same_email``.
    """
    conds = []
    if contact.phone_e164:
        conds.append(Contact.phone_e164 == contact.phone_e164)
    if contact.email:
        conds.append(Contact.email == contact.email)
    if not conds:
        return []
    rows = session.execute(
        select(Ticket.id, Contact.phone_e164, Contact.email)
        .join(Contact, Contact.id == Ticket.contact_id)
        .where(
            or_(*conds),
            Contact.id != contact.id,
            Ticket.created_at >= since,
            Ticket.status != Status.MERGED.value,
            Ticket.id != exclude_ticket_id,
        )
        .order_by(Ticket.id.desc())
        .limit(MAX_LINKS)
    ).all()
    out = []
    for ticket_id, phone, _email in rows:
        same_phone = contact.phone_e164 is not None and phone == contact.phone_e164
        out.append((ticket_id, "same_phone" if same_phone else "same_email"))
    return out
