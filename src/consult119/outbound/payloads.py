"""Outbox rows that carry a payload and no message (the pager, SMS), queued in the caller's
transaction. Apart from :mod:`consult119.outbound.service` so that the delivery watchdog, which
the outbox's own delivery code calls, can queue an SMS without importing it back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consult119.outbound.models import OutboxItem
from consult119.tickets.codes import Delivery

#: Sources of payload rows, each with its sender in :mod:`consult119.channels.senders`.
PAYLOAD_SOURCES = frozenset({"pager", "sms"})


def enqueue_payload(
    session: Session,
    source: str,
    payload: dict[str, Any],
    *,
    ticket_id: int | None,
    now: datetime,
) -> OutboxItem:
    """Queue a row with no message: ``payload`` (JSON-serialisable) is what the ``source``'s
    sender posts, ``ticket_id`` the case it is about (or None). In the caller's transaction, so
    the row exists exactly when its cause does; the dispatcher sends it after commit with the
    usual retries and records ``sent``/``failed`` on the row alone (no message, no event)."""
    if source not in PAYLOAD_SOURCES:
        raise ValueError(f"not a payload source: {source!r}")
    item = OutboxItem(
        message_id=None,
        ticket_id=ticket_id,
        channel=source,
        source=source,
        status=Delivery.QUEUED.value,
        next_attempt_at=now,
        created_at=now,
        payload=payload,
    )
    session.add(item)
    return item


def enqueue_sms(
    session: Session,
    *,
    to: str,
    text: str,
    ticket_id: int | None,
    case_number: str | None,
    now: datetime,
) -> OutboxItem:
    """Queue an SMS to ``to`` (E.164) through the operator's provider (``CONSULT119_SMS_URL``):
    the provider gets ``{"to", "text", "ticket_id", "case_number"}``, signed."""
    payload = {"to": to, "text": text, "ticket_id": ticket_id, "case_number": case_number}
    return enqueue_payload(session, "sms", payload, ticket_id=ticket_id, now=now)
