"""Queries of the outbound side: what a claimed reply needs to go out, and the outbox itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from consult119.outbound.models import OutboxItem
from consult119.tickets.models import Contact, ContactIdentity, Message, Ticket


def messages_with_case(session: Session, message_ids: list[int]) -> list[Any]:
    """``(Message, Ticket, Contact)`` of each message of ``message_ids`` that exists."""
    return list(
        session.execute(
            select(Message, Ticket, Contact)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .join(Contact, Contact.id == Ticket.contact_id)
            .where(Message.id.in_(message_ids))
        ).all()
    )


def identities_of(session: Session, contact_ids: set[int]) -> list[Any]:
    """``(contact_id, source, external_id)`` of the contacts' identities, oldest first."""
    return list(
        session.execute(
            select(ContactIdentity.contact_id, ContactIdentity.source, ContactIdentity.external_id)
            .where(ContactIdentity.contact_id.in_(contact_ids))
            .order_by(ContactIdentity.id)
        ).all()
    )


def payloads_of(session: Session, item_ids: list[int]) -> dict[int, dict[str, Any]]:
    """``{item id: payload}`` of the payload rows among ``item_ids``."""
    if not item_ids:
        return {}
    rows = session.execute(
        select(OutboxItem.id, OutboxItem.payload).where(
            OutboxItem.id.in_(item_ids),  # type: ignore[union-attr]
            OutboxItem.payload.is_not(None),  # type: ignore[union-attr]
        )
    ).all()
    return {item_id: payload for item_id, payload in rows}


def set_message_external_id(session: Session, message_id: int, external_id: str) -> None:
    """Fix a message's external id (one UPDATE, nothing else flushed)."""
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(external_id=external_id)
        .execution_options(synchronize_session=False)
    )


# The metrics' scrape-time gauges: one statement, two aggregates (each over an index of its
# table): outbox items queued, being sent or given up by channel and source, and open cases by
# channel and rank.
_WORK_COUNTS = text(
    "SELECT 'outbox' AS what, channel, source, status, count(*) AS n FROM outbox "
    "WHERE status IN ('queued', 'sending', 'failed') GROUP BY channel, source, status "
    "UNION ALL "
    "SELECT 'open', channel, NULL, CAST(priority AS VARCHAR(2)), count(*) FROM tickets "
    "WHERE status IN ('new', 'triaged', 'assigned', 'in_progress', 'waiting') "
    "GROUP BY channel, priority"
)


def work_counts(session: Session) -> list[Any]:
    """Rows ``(what, channel, source, status, n)``: ``what`` is ``outbox`` (``status`` queued,
    sending or failed) or ``open`` (``status`` holds the case's rank)."""
    return list(session.execute(_WORK_COUNTS).all())
