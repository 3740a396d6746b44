"""The access log as ``GET /api/v1/audit`` shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from consult119.schemas import Page


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    staff_id: int | None
    action: str
    ticket_id: int | None
    client_ip: str | None
    detail: dict[str, Any] | None


class AuditPage(Page[AuditEntryPublic]):
    """A page of the access log, newest first."""
