"""Every table, imported in one place so Alembic sees the whole metadata."""

from sqlmodel import SQLModel

from consult119.alerts.models import Alert
from consult119.attachments.models import Attachment
from consult119.audit.models import AuditEntry
from consult119.channels.webchat.models import WebchatSession
from consult119.followups.models import Followup, HandoffNote
from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event, EventCounter
from consult119.replies.models import CannedReply
from consult119.staff.models import Shift, Staff
from consult119.tickets.models import (
    CaseCounter,
    Contact,
    ContactIdentity,
    Message,
    Ticket,
    TicketLink,
)

metadata = SQLModel.metadata

__all__ = [
    "Alert",
    "Attachment",
    "AuditEntry",
    "CannedReply",
    "CaseCounter",
    "Contact",
    "ContactIdentity",
    "Event",
    "EventCounter",
    "Followup",
    "HandoffNote",
    "Message",
    "OutboxItem",
    "Shift",
    "Staff",
    "Ticket",
    "TicketLink",
    "WebchatSession",
    "metadata",
]
