"""The outbox: what waits to go out, with retries: replies on the ticket's channel (a row per
message) and payload rows (``message_id`` null, ``payload`` the JSON a sender needs: the
operator's pager, SMS)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime


class OutboxItem(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The reply this row delivers; null for a payload row.
    message_id: int | None = Field(default=None, foreign_key="messages.id", unique=True)
    #: The case it is about; null for a payload row about no case.
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    channel: str = Field(max_length=10)
    source: str = Field(max_length=20)
    status: str = Field(default="queued", max_length=10)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_error: str | None = Field(default=None, max_length=500)
    external_ref: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: A payload row's content (what its sender posts); null for a reply.
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSON)
