"""Queries of the outbound side: what a claimed reply needs to go out, and the outbox itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, exists, literal, or_, select, text, update
from sqlalchemy.orm import Session

from consult119.alerts.models import Alert
from consult119.outbound.models import OutboxItem
from consult119.tickets.codes import Delivery, Direction
from consult119.tickets.models import Contact, ContactIdentity, Message, Ticket

#: Outbox states of a reply not yet delivered (``sending``: claimed, being tried).
UNDELIVERED = ("queued", "sending")


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


def payloads_of_ticket(session: Session, ticket_id: int, source: str) -> list[dict[str, Any]]:
    """The payloads of one case's payload rows of ``source`` (a handful at most)."""
    return [
        payload
        for payload in session.scalars(
            select(OutboxItem.payload).where(
                OutboxItem.ticket_id == ticket_id,
                OutboxItem.source == source,
                OutboxItem.payload.is_not(None),  # type: ignore[union-attr]
            )
        )
        if payload
    ]


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


def overdue_replies(
    session: Session,
    *,
    now: datetime,
    limits: Mapping[int, timedelta],
    cause_prefix: str,
    limit: int = 200,
) -> list[Any]:
    """``(message_id, ticket_id, source, created_at)`` of staff replies still undelivered
    (queued or being sent) past the limit of their case's rank, for which no alert of
    ``cause_prefix`` + message id was raised yet: one statement, on the outbox's
    ``(status, next_attempt_at)`` index (undelivered rows are few) and the alerts' unique
    cause index."""
    per_level = or_(
        *(
            and_(Ticket.priority == level, OutboxItem.created_at <= now - after)
            for level, after in limits.items()
        )
    )
    raised = exists().where(
        Alert.cause == literal(cause_prefix, String) + cast(OutboxItem.message_id, String)
    )
    return list(
        session.execute(
            select(
                OutboxItem.message_id,
                OutboxItem.ticket_id,
                OutboxItem.source,
                OutboxItem.created_at,
            )
            .join(Message, Message.id == OutboxItem.message_id)
            .join(Ticket, Ticket.id == OutboxItem.ticket_id)
            .where(
                OutboxItem.status.in_(UNDELIVERED),
                Message.author_staff_id.is_not(None),  # type: ignore[union-attr]
                per_level,
                ~raised,
            )
            .order_by(OutboxItem.created_at)
            .limit(limit)
        ).all()
    )


def outbox_of_message(session: Session, message_id: int) -> OutboxItem | None:
    return session.scalars(
        select(OutboxItem).where(OutboxItem.message_id == message_id)
    ).one_or_none()


def contact_identities(session: Session, contact_id: int) -> list[tuple[str, str]]:
    """``(source, external_id)`` of one contact's identities, newest first."""
    return [
        (source, external_id)
        for source, external_id in session.execute(
            select(ContactIdentity.source, ContactIdentity.external_id)
            .where(ContactIdentity.contact_id == contact_id)
            .order_by(ContactIdentity.id.desc())  # type: ignore[union-attr]
        ).all()
    ]


# ---- the outbox's claims (outbound.delivery holds the rules) --------------------------------

#: An item claimed by a sender, under its lease.
SENDING = "sending"
_CLAIMED_COLUMNS = (
    OutboxItem.id,
    OutboxItem.message_id,
    OutboxItem.ticket_id,
    OutboxItem.source,
    OutboxItem.attempts,
)


def _due(now: datetime, sources: Sequence[str] | None) -> list[Any]:
    conds = [
        OutboxItem.status.in_([Delivery.QUEUED.value, SENDING]),
        OutboxItem.next_attempt_at <= now,
    ]
    if sources is not None:
        conds.append(OutboxItem.source.in_(list(sources)))
    return conds


def anything_due(session: Session, *, now: datetime, sources: Sequence[str] | None) -> bool:
    """A cheap read before a claim, so an idle poll never takes the write lock."""
    return session.scalar(select(OutboxItem.id).where(*_due(now, sources)).limit(1)) is not None


def claim_due(
    session: Session, *, now: datetime, lease: timedelta, sources: Sequence[str] | None, limit: int
) -> list[Any]:
    """Claim up to ``limit`` due items, the earliest due first (rows picked with ``FOR UPDATE
    SKIP LOCKED`` on PostgreSQL); (id, message id, ticket id, source, attempts) of each won."""
    conds = _due(now, sources)
    pick = select(OutboxItem.id).where(*conds).order_by(OutboxItem.next_attempt_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list(session.scalars(pick))
    if not ids:
        return []
    return _claim(session, [OutboxItem.id.in_(ids), *conds], now=now, lease=lease)


def claim_for_contact(
    session: Session, *, contact_id: int, source: str, now: datetime, lease: timedelta
) -> list[Any]:
    """Claim every undelivered reply to ``contact_id`` on ``source``, as :func:`claim_due`."""
    conds = [
        OutboxItem.ticket_id.in_(select(Ticket.id).where(Ticket.contact_id == contact_id)),
        OutboxItem.source == source,
        OutboxItem.status.in_([Delivery.QUEUED.value, SENDING]),
        # A `sending` item still under its lease is another sender's: leave it to them.
        ~and_(OutboxItem.status == SENDING, OutboxItem.next_attempt_at > now),
    ]
    return _claim(session, conds, now=now, lease=lease)


def _claim(session: Session, conds: list[Any], *, now: datetime, lease: timedelta) -> list[Any]:
    return list(
        session.execute(
            update(OutboxItem)
            .where(*conds)
            .values(status=SENDING, attempts=OutboxItem.attempts + 1, next_attempt_at=now + lease)
            .returning(*_CLAIMED_COLUMNS)
            .execution_options(synchronize_session=False)
        ).all()
    )


def settle_claim(session: Session, item_id: int, claimed_on: int, /, **values: Any) -> bool:
    """Set ``values`` on item ``item_id`` if it is still this claim's (``sending``, on attempt
    ``claimed_on``); False when the claim was lost meanwhile (its lease ran out)."""
    done = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item_id,
            OutboxItem.status == SENDING,
            OutboxItem.attempts == claimed_on,
        )
        .values(**values)
    ).rowcount
    return done == 1


def set_message_delivery(
    session: Session, message_id: int, delivery: str, *, sent_at: datetime | None
) -> None:
    """The delivery state staff see on the message (and when it was sent)."""
    values: dict[str, Any] = {"delivery": delivery}
    if sent_at is not None:
        values["sent_at"] = sent_at
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def outbound_messages_after(
    session: Session, *, contact_id: int, source: str, after_id: int, limit: int = 100
) -> list[Message]:
    """Staff replies to ``contact_id`` on ``source`` with id > ``after_id``, oldest first."""
    return list(
        session.scalars(
            select(Message)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .join(OutboxItem, OutboxItem.message_id == Message.id)
            .where(
                Ticket.contact_id == contact_id,
                Message.direction == Direction.OUTBOUND.value,
                OutboxItem.source == source,
                Message.id > after_id,
            )
            .order_by(Message.id)
            .limit(limit)
        )
    )


def anything_for_contact(session: Session, *, contact_id: int, source: str, after_id: int) -> bool:
    """Whether a pull channel has work: a reply after ``after_id`` or one not yet delivered."""
    return (
        session.scalar(
            select(OutboxItem.id)
            .join(Ticket, Ticket.id == OutboxItem.ticket_id)
            .where(
                Ticket.contact_id == contact_id,
                OutboxItem.source == source,
                or_(
                    OutboxItem.message_id > after_id,
                    OutboxItem.status.in_([Delivery.QUEUED.value, SENDING]),
                ),
            )
            .limit(1)
        )
        is not None
    )


def bounce_candidates(session: Session, message_ids: list[int]) -> list[Any]:
    """(message id, ticket id, stored Message-ID, outbox id, attempts) of the named messages
    that went out by the outbox and are not failed already."""
    return list(
        session.execute(
            select(
                Message.id,
                Message.ticket_id,
                Message.external_id,
                OutboxItem.id,
                OutboxItem.attempts,
            )
            .join(OutboxItem, OutboxItem.message_id == Message.id)
            .where(Message.id.in_(message_ids), Message.delivery != Delivery.FAILED.value)
        ).all()
    )


def fail_item(session: Session, item_id: int, error: str) -> None:
    """Give outbox item ``item_id`` up (a bounce: the mail came back)."""
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item_id)
        .values(status=Delivery.FAILED.value, last_error=error)
    )
