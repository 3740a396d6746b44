"""Tables of the web-chat channel: its sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime


class WebchatSession(SQLModel, table=True):
    """One web-chat token: only its SHA-256 is kept, with what the traveller told us.

    The token itself is random and opaque: it carries nothing, so a leaked or logged one reveals
    nothing, and a session is ended by staff (``revoked_at``) or by time (``expires_at``).
    """

    __tablename__ = "webchat_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    #: The traveller's web-chat identity (``ContactIdentity.external_id`` with source webchat).
    sid: str = Field(max_length=40, index=True)
    claims: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    revoked_by: int | None = Field(default=None, foreign_key="staff.id")
