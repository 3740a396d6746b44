"""Follow-ups (something to do on a case at a time: call back, check on the traveller) and
handoff notes (what the doctor leaving a case tells the next one).

A follow-up's ``cause`` is set for the ones the system makes (``call:<call_id>`` for a callback)
and unique, so a call makes one callback however many events it sends, in any process.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime

MAX_NOTE_CHARS = 2000
MAX_CAUSE_CHARS = 200


class Followup(SQLModel, table=True):
    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("cause", name="uq_followup_cause"),
        # The scheduler's scan: the open ones (done_at null) by due time.
        Index("ix_followups_alerted_due", "alerted_at", "due_at"),
        Index("ix_followups_ticket", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    note: str = Field(max_length=MAX_NOTE_CHARS)
    #: Null for a callback the system made.
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: int | None = Field(default=None, foreign_key="staff.id")
    #: When the scheduler raised its ``followup_due`` (the scan skips those).
    alerted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cause: str | None = Field(default=None, max_length=MAX_CAUSE_CHARS)


class HandoffNote(SQLModel, table=True):
    __tablename__ = "handoff_notes"
    __table_args__ = (Index("ix_handoff_notes_ticket", "ticket_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    note: str = Field(max_length=MAX_NOTE_CHARS)
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
