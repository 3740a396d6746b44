"""Putting replies in the outbox, in the same transaction as the message itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from consult119.outbound.models import OutboxItem
from consult119.tickets.codes import Delivery
from consult119.tickets.models import Message, Ticket


def enqueue(session: Session, ticket: Ticket, message: Message, *, now: datetime) -> OutboxItem:
    """Queue ``message`` to go out on the ticket's channel; a sender picks it up after commit."""
    assert message.id is not None and ticket.id is not None
    item = OutboxItem(
        message_id=message.id,
        ticket_id=ticket.id,
        channel=ticket.channel,
        source=ticket.source,
        status=Delivery.QUEUED.value,
        next_attempt_at=now,
        created_at=now,
    )
    message.delivery = Delivery.QUEUED.value
    session.add(item)
    return item
