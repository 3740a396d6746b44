"""Staff accounts and shifts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime


class Role(StrEnum):
    DOCTOR = "doctor"
    EMT = "emt"
    MANAGER = "manager"
    ADMIN = "admin"


class Presence(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFFLINE = "offline"


class Staff(SQLModel, table=True):
    """A member of staff. ``password_hash`` is Argon2; it never leaves the auth module."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=10)
    password_hash: str = Field(max_length=200)
    disabled: bool = Field(default=False)
    locale: str = Field(default="ko", max_length=20)
    presence: str = Field(default=Presence.OFFLINE.value, max_length=10)
    presence_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    capacity: int = Field(default=8, description="Most open cases auto-assigned at once")
    last_assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    #: Goes up by one on every change that ends the account's sessions (role, disabled, password);
    #: a token carries the version it was issued under and is refused once they differ.
    security_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    #: When ``security_version`` last went up.
    security_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Shift(SQLModel, table=True):
    """A shift in UTC; a doctor inside one is on duty."""

    __tablename__ = "shifts"
    __table_args__ = (Index("ix_shifts_window", "starts_at", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    handed_over_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: When the scheduler announced the start (``duty.started``); see docs/realtime.md.
    started_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
