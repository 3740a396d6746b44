"""What each role may see of an event or a snapshot.

Doctors and EMTs handle cases and get full payloads. Admins coordinate: they see the queue as
``GET /api/v1/tickets`` shows it, but never a conversation (docs/security.md), so message text
is stripped for them. A manager's console shows the operation (what waits, who holds what, how
long) and nothing personal: no message text, no patient details, no contact data. Manager shaping is an allow-list: a key some future event
adds to its data stays hidden from managers until it is listed here as non-personal.
"""

from __future__ import annotations

from typing import Any

from consult119.staff.models import Role

FULL = "full"
#: Admins: tickets as the queue shows them, messages without their text.
COORDINATION = "coordination"
OPERATIONAL = "operational"

#: Ticket fields a manager sees (TicketPublic minus red flags, suspected level, disposition,
#: country and location, which describe the patient).
MANAGER_TICKET_FIELDS = frozenset(
    {
        "id",
        "case_number",
        "channel",
        "source",
        "status",
        "priority",
        "acuity",
        "category",
        "assignee_id",
        "created_at",
        "updated_at",
        "last_message_at",
        "first_response_at",
        "sla_due_at",
        "version",
    }
)

#: Message fields a manager sees: that a message came or went and its delivery, never its text.
MANAGER_MESSAGE_FIELDS = frozenset(
    {"id", "direction", "channel", "source", "created_at", "author_staff_id", "delivery"}
)

#: Other top-level keys of event data that carry codes, ids or times only.
MANAGER_DATA_FIELDS = frozenset(
    {
        "staff_id",
        "from",
        "to",
        "status",
        "previous_status",
        "assignee_id",
        "previous_assignee_id",
        "acuity",
        "category",
        "level",
        "due_at",
        "sla_due_at",
        "target_minutes",
        "message_id",
        "outbox_id",
        "delivery",
        "attempts",
        "code",
        "kind",
        "reopened",
        "created",
    }
)


def audience(role: str) -> str:
    """The shaping class of a role."""
    if role == Role.MANAGER.value:
        return OPERATIONAL
    if role == Role.ADMIN.value:
        return COORDINATION
    return FULL


def _pick(obj: Any, fields: frozenset[str]) -> Any:
    if not isinstance(obj, dict):
        return None
    return {k: v for k, v in obj.items() if k in fields}


def shape_ticket(ticket: dict[str, Any], aud: str) -> dict[str, Any]:
    if aud in (FULL, COORDINATION):
        return ticket
    return _manager_ticket(ticket)


def _manager_ticket(ticket: Any) -> Any:
    """A manager's ticket: the operational fields, and whether it is red-flagged (which flags
    stays hidden), so a manager's console sorts the queue as the server does."""
    out = _pick(ticket, MANAGER_TICKET_FIELDS)
    if out is not None:
        out["red_flagged"] = bool(ticket.get("red_flags"))
    return out


def shape_data(data: dict[str, Any], aud: str) -> dict[str, Any]:
    """Event data as ``aud`` may see it."""
    if aud == FULL:
        return data
    if aud == COORDINATION:
        # ``changes`` (ticket.updated) carries the record's values: patient details admins
        # never read (they see which fields changed, not what they say).
        if "changes" in data:
            data = {k: v for k, v in data.items() if k != "changes"}
        # A file's name and type (attachment.updated) are part of the conversation too.
        if "attachment" in data:
            data = {k: v for k, v in data.items() if k != "attachment"}
        message = data.get("message")
        if not isinstance(message, dict) or "text" not in message:
            return data
        return {**data, "message": _pick(message, MANAGER_MESSAGE_FIELDS)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "ticket":
            out[key] = _manager_ticket(value)
        elif key == "message":
            out[key] = _pick(value, MANAGER_MESSAGE_FIELDS)
        elif (key in MANAGER_DATA_FIELDS and not isinstance(value, dict | list)) or key == "staff":
            # "staff": a colleague's public card (duty.*), as the snapshot shows it.
            out[key] = value
    return out


def shape_event(frame: dict[str, Any], aud: str) -> dict[str, Any]:
    """An event frame as ``aud`` may see it (the frame itself is never modified)."""
    if aud == FULL:
        return frame
    return {**frame, "data": shape_data(frame.get("data") or {}, aud)}
