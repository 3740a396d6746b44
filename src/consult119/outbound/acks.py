"""Intake on push channels (e-mail, LINE): the acknowledgement goes out through the outbox.

The acknowledgement is stored as an outbound message and queued in the same unit of work as
the intake, so it exists exactly when the case does, and a redelivery never sends it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from consult119.context import AppContext
from consult119.groupcommit import Work
from consult119.intake.ack import acknowledgement, wait_for
from consult119.intake.service import InboundMessage, IntakeResult
from consult119.outbound.service import enqueue
from consult119.tickets import repository as ticket_repo
from consult119.tickets.codes import Direction
from consult119.tickets.events import message_event
from consult119.tickets.models import Message

T = TypeVar("T")


def intake_then(
    ctx: AppContext,
    inbound: InboundMessage,
    then: Callable[[Session, IntakeResult, datetime], T],
) -> Work[tuple[IntakeResult, T]]:
    """The unit of work of one intake followed by ``then(session, result, now)``, for the
    writer (:mod:`consult119.groupcommit`: ``then`` may run twice, and must only write)."""

    def work(session: Session) -> tuple[IntakeResult, T]:
        now = ctx.now()
        result = ctx.intake.receive(session, inbound, now=now)
        return result, then(session, result, now)

    return work


#: Decides, once a case is opened, whether its acknowledgement may go out: None to send it,
#: else the code of why not (stored on the inbound message as ``meta["ack_withheld"]``).
AckGate = Callable[[IntakeResult], str | None]


def intake_with_ack(
    ctx: AppContext, inbound: InboundMessage, *, ack: bool, gate: AckGate | None = None
) -> Work[IntakeResult]:
    """The unit of work of one intake plus, when ``ack`` and a case was opened, its queued
    acknowledgement (with the expected wait, read in the same transaction), unless ``gate``
    withholds it."""

    def acknowledge(session: Session, result: IntakeResult, now: datetime) -> None:
        if not (ack and result.created):
            return
        withheld = gate(result) if gate is not None else None
        if withheld is not None:
            _record_withheld(session, result.message, withheld)
            return
        wait = wait_for(session, result, now=now)
        message = Message(
            ticket_id=result.ticket_id,
            direction=Direction.OUTBOUND.value,
            channel=result.ticket.channel,
            source=result.ticket.source,
            text=acknowledgement(result, inbound.locale or result.contact.locale, wait=wait),
            created_at=now,
            meta={"auto_reply": True, "kind": "acknowledgement"},
        )
        session.add(message)
        session.flush()
        enqueue(session, result.ticket, message, now=now)
        message_event(session, message, result.ticket, at=now)

    work = intake_then(ctx, inbound, acknowledge)
    return lambda session: work(session)[0]


def _record_withheld(session: Session, message: Message, reason: str) -> None:
    """Mark the inbound message so staff see that no acknowledgement went out, and why."""
    meta = dict(message.meta or {})
    if meta.get("ack_withheld") == reason:
        return  # known before the intake (an unusable From): already stored with the message
    meta["ack_withheld"] = reason
    ticket_repo.set_message_meta(session, message, meta)


def receive_with_ack(
    ctx: AppContext, inbound: InboundMessage, *, ack: bool, gate: AckGate | None = None
) -> IntakeResult:
    """:func:`intake_with_ack`, committed; blocking, so call it from a thread."""
    return ctx.db.writer.run(intake_with_ack(ctx, inbound, ack=ack, gate=gate), locks=inbound.locks)
