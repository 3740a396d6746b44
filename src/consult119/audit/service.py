"""Recording and listing access to personal data (who, when, from where, which case, what).

A view is recorded in the same unit of work as the read it audits, so no read of a case's
personal data can happen without its entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consult119.audit import repository
from consult119.audit.models import AuditEntry
from consult119.db import utcnow

#: Actions recorded (codes, not text).
VIEW_CASE = "ticket.view"
UPDATE_CASE = "ticket.update"
VIEW_TIMELINE = "ticket.timeline"
SEARCH = "ticket.search"
EXPORT = "export"
CONSOLE_REPLAY = "console.replay"
#: A file of a case read (the file itself, or its thumbnail).
VIEW_ATTACHMENT = "attachment.view"
VIEW_THUMBNAIL = "attachment.thumbnail"
#: Canned replies filled in for a case (its number, its country), and the admins' writes.
RENDER_REPLIES = "replies.render"
CREATE_REPLY = "reply.create"
UPDATE_REPLY = "reply.update"
DELETE_REPLY = "reply.delete"


def record(
    session: Session,
    *,
    staff_id: int | None,
    action: str,
    ticket_id: int | None = None,
    client_ip: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry; committed with the caller's unit of work. Pass ``at`` from the
    app clock (``ctx.now()``); it defaults to the current UTC time."""
    entry = AuditEntry(
        at=at or utcnow(),
        staff_id=staff_id,
        action=action[:40],
        ticket_id=ticket_id,
        client_ip=(client_ip or None) and client_ip[:64],
        detail=detail,
    )
    session.add(entry)
    return entry


#: Newest first, with the total matching: the repository's read, which routes reach through
#: the service like every other.
list_entries = repository.list_entries
