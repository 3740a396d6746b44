"""The outbox's rules: replies queued in the same transaction as the message itself, payload
rows (the pager, SMS) queued in their cause's transaction, and which replies a channel's
synchronous answer carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from consult119.outbound import delivery
from consult119.outbound.models import OutboxItem
from consult119.tickets import repository as ticket_repo
from consult119.tickets.codes import SOURCE_CHANNEL, Delivery, Source
from consult119.tickets.models import Message, Ticket

T = TypeVar("T")


def enqueue(
    session: Session,
    ticket: Ticket,
    message: Message,
    *,
    now: datetime,
    source: str | None = None,
) -> OutboxItem:
    """Queue ``message`` to go out on the ticket's channel (or on ``source``, another channel
    the traveller is known on: a delivery fallback); a sender picks it up after commit."""
    assert message.id is not None and ticket.id is not None
    item = OutboxItem(
        message_id=message.id,
        ticket_id=ticket.id,
        channel=ticket.channel if source is None else SOURCE_CHANNEL[Source(source)].value,
        source=ticket.source if source is None else source,
        status=Delivery.QUEUED.value,
        next_attempt_at=now,
        created_at=now,
    )
    message.delivery = Delivery.QUEUED.value
    session.add(item)
    return item


def replies_for_answer(
    session: Session,
    *,
    contact_id: int,
    source: str,
    now: datetime,
    lease: timedelta,
    pack: Callable[[list[Message]], tuple[T, set[int]]],
) -> T | None:
    """Replies to deliver in this synchronous answer (a channel that answers the traveller's
    request itself, such as a Kakao skill response): the replies waiting for ``contact_id`` on
    ``source`` are claimed, ``pack`` says what the answer holds and which message ids it
    carries, those are settled as sent and the rest handed back at once for the next answer.
    ``None`` when nothing waits. In the caller's unit of work (one transaction per answer)."""
    claims = delivery.claim_for_contact(
        session, contact_id=contact_id, source=source, now=now, lease=lease
    )
    if not claims:
        return None
    by_id = {m.id: m for m in ticket_repo.messages_by_ids(session, [c.message_id for c in claims])}
    packed, included = pack([by_id[c.message_id] for c in claims if c.message_id in by_id])
    left: list[delivery.Claimed] = []
    for claim in claims:
        if claim.message_id in included:
            delivery.mark_sent(session, claim, now=now, external_ref="skill_response")
        else:
            left.append(claim)
    delivery.release(session, left, now=now)
    return packed
