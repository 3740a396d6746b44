"""Access log for personal data: who, when, from where, which case, what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    action: str = Field(max_length=40)
    ticket_id: int | None = Field(default=None, index=True)
    client_ip: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] | None = Field(default=None, sa_type=JSON)
