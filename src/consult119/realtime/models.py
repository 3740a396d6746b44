"""The append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger
from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime


class Event(SQLModel, table=True):
    """One state change. Ids are handed out from :class:`EventCounter` at commit time, so they
    increase strictly in commit order even with concurrent writers on PostgreSQL."""

    __tablename__ = "events"

    id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str = Field(max_length=40)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ticket_id: int | None = Field(default=None, index=True)
    actor_id: int | None = Field(default=None)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class EventCounter(SQLModel, table=True):
    """A single row holding the last event id; updating it locks it until commit."""

    __tablename__ = "event_counter"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_id: int = Field(default=0, sa_type=BigInteger)
