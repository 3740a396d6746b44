"""Ticket events carry the ticket as lists show it, so a console applies them without a fetch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consult119.attachments.schemas import AttachmentPublic
from consult119.realtime import events
from consult119.tickets.models import Message, Ticket
from consult119.tickets.schemas import MessagePublic, TicketPublic


def ticket_public(ticket: Ticket) -> dict[str, Any]:
    """The ticket as JSON for lists and events (no patient details, no message text)."""
    return TicketPublic.model_validate(ticket).model_dump(mode="json")


def ticket_event(
    session: Session,
    name: str,
    ticket: Ticket,
    *,
    at: datetime,
    actor_id: int | None = None,
    **extra: Any,
) -> None:
    """Append ``name`` for ``ticket`` with ``data = {"ticket": <TicketPublic>, **extra}``.

    Call it after the change is applied (and flushed), so the payload shows the new state.
    """
    session.flush()
    events.append(
        session,
        name,
        ticket_id=ticket.id,
        actor_id=actor_id,
        at=at,
        data={"ticket": ticket_public(ticket), **extra},
    )


def message_event(
    session: Session,
    message: Message,
    ticket: Ticket,
    *,
    at: datetime,
    actor_id: int | None = None,
    attachments: list[Any] | None = None,
) -> None:
    """Append ``message.created`` with ``data = {"message": <MessagePublic>, "ticket": ...}``.

    The message text is in the payload; the console strips it for readers who may not see it.
    ``attachments`` (rows) go into the message's ``attachments`` list, so an open console
    shows a photo the moment it arrives; refused files are in ``attachment_notes`` as codes.
    """
    session.flush()
    public = MessagePublic.model_validate(message)
    public.attachments = [AttachmentPublic.model_validate(a) for a in attachments or []]
    public.attachment_notes = [
        {"code": str(n.get("code", "")), "filename": str(n.get("filename", ""))}
        for n in (message.meta or {}).get("attachments_refused") or []
    ]
    events.append(
        session,
        "message.created",
        ticket_id=ticket.id,
        actor_id=actor_id,
        at=at,
        data={
            "message": public.model_dump(mode="json"),
            "ticket": ticket_public(ticket),
        },
    )
