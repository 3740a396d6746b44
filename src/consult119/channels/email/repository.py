"""The e-mail channel's queries: the case a mail's thread or subject token names, and the
messages a reply's ``References`` cite."""

from __future__ import annotations

import re

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from consult119.tickets.models import Message, Ticket

#: Our Message-IDs: ``<c119.<message id>.<random>@domain>``; the random part makes them unguessable.
OWN_MESSAGE_ID_RE = re.compile(r"^<c119\.(\d+)\.[0-9a-f]{16}@[^>]+>$")


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


def thread_messages(session: Session, ticket_ids: set[int]) -> list[Message]:
    """The messages of ``ticket_ids`` that carry a Message-ID (``<…>``), in id order."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.ticket_id.in_(ticket_ids), Message.external_id.like("<%"))
            .order_by(Message.id)
        )
    )
