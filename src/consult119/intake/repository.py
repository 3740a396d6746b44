"""Queries the intake needs beyond the case core: same-person matches and the expected wait."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from consult119.db import Prepared, UTCDateTime, literal_in
from consult119.staff.models import Role, Staff
from consult119.staff.repository import on_duty_clause
from consult119.tickets.codes import Status
from consult119.tickets.models import Contact, Ticket

#: Cases in these states wait for a doctor to take them.
WAITING_STATUSES = (Status.NEW.value, Status.TRIAGED.value)
#: Most cases suggested as links for one new case.
MAX_LINKS = 5


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


def _wait_statement(with_ticket: bool) -> Any:
    """The two counts as one prepared statement (:class:`~consult119.db.Prepared`): building
    the comparison tree anew, or SQLAlchemy's per-execution work, cost more than the query."""
    conds = [literal_in(Ticket.status, WAITING_STATUSES)]
    if with_ticket:
        priority, created_at, ticket_id = (
            bindparam("priority"),
            bindparam("created_at", type_=UTCDateTime()),
            bindparam("id"),
        )
        conds += [
            Ticket.id != ticket_id,
            or_(
                Ticket.priority < priority,
                and_(
                    Ticket.priority == priority,
                    or_(
                        Ticket.created_at < created_at,
                        and_(Ticket.created_at == created_at, Ticket.id < ticket_id),
                    ),
                ),
            ),
        ]
    # Counting stops at AHEAD_CAP: past it the estimate is "hours" anyway, and the count must
    # not grow with the queue (an intake pays for it on every new case).
    capped = select(Ticket.id).where(*conds).limit(bindparam("cap")).subquery()
    ahead = select(func.count()).select_from(capped).scalar_subquery()
    doctors = (
        select(func.count())
        .select_from(Staff)
        .where(
            Staff.role == Role.DOCTOR.value,
            Staff.disabled.is_(False),
            on_duty_clause(bindparam("now", type_=UTCDateTime())),
        )
        .scalar_subquery()
    )
    return Prepared(select(ahead, doctors))


_WAIT_FOR_TICKET = _wait_statement(with_ticket=True)
_WAIT_FOR_ALL = _wait_statement(with_ticket=False)


def wait_counts(
    session: Session, *, now: datetime, cap: int, ticket: Ticket | None = None
) -> tuple[int, int]:
    """(open cases ahead of ``ticket`` in queue order, at most ``cap`` — all of them without a
    ticket —, doctors on duty): two counts in one round trip, both served by indexes."""
    params: dict[str, Any] = {"now": now, "cap": cap}
    if ticket is not None and ticket.id is not None:
        params |= {"priority": ticket.priority, "created_at": ticket.created_at, "id": ticket.id}
        stmt = _WAIT_FOR_TICKET
    else:
        stmt = _WAIT_FOR_ALL
    row = stmt.first(session, params)
    assert row is not None
    return int(row[0] or 0), int(row[1] or 0)
