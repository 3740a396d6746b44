"""Intake on push channels (e-mail, LINE): the acknowledgement goes out through the outbox.

The acknowledgement is stored as an outbound message and queued in the same unit of work as
the intake, so it exists exactly when the case does, and a redelivery never sends it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consult119.context import AppContext
from consult119.intake.ack import acknowledgement
from consult119.intake.service import InboundMessage, IntakeResult
from consult119.outbound.service import enqueue
from consult119.tickets.codes import Direction
from consult119.tickets.events import message_event
from consult119.tickets.models import Message

T = TypeVar("T")


def receive_then(
    ctx: AppContext,
    inbound: InboundMessage,
    then: Callable[[Session, IntakeResult, datetime], T],
) -> tuple[IntakeResult, T]:
    """``ctx.receive`` with ``then(session, result, now)`` in the same unit of work."""
    for attempt in range(3):
        try:
            with ctx.db.unit_of_work() as session:
                now = ctx.now()
                result = ctx.intake.receive(session, inbound, now=now)
                return result, then(session, result, now)
        except IntegrityError:
            # A concurrent delivery of the same message won: run again to find it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def receive_with_ack(ctx: AppContext, inbound: InboundMessage, *, ack: bool) -> IntakeResult:
    """``ctx.receive`` plus, when ``ack`` and a case was opened, a queued acknowledgement."""

    def acknowledge(session: Session, result: IntakeResult, now: datetime) -> None:
        if not (ack and result.created):
            return
        message = Message(
            ticket_id=result.ticket_id,
            direction=Direction.OUTBOUND.value,
            channel=result.ticket.channel,
            source=result.ticket.source,
            text=acknowledgement(result, inbound.locale or result.contact.locale),
            created_at=now,
            meta={"auto_reply": True, "kind": "acknowledgement"},
        )
        session.add(message)
        session.flush()
        enqueue(session, result.ticket, message, now=now)
        message_event(session, message, result.ticket, at=now)

    return receive_then(ctx, inbound, acknowledge)[0]
