"""Alerts as the API and the event log show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from consult119.alerts.models import FallbackAction


class AlertPublic(BaseModel):
    """An alert: codes, ids and times only (``data`` holds codes such as the red flags and the
    case number, never a traveller's words)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    ticket_id: int | None
    level: int | None
    role: str | None
    staff_id: int | None
    state: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    escalated_at: datetime | None
    resolved_at: datetime | None
    data: dict[str, Any]


def alert_json(alert: Any) -> dict[str, Any]:
    return AlertPublic.model_validate(alert).model_dump(mode="json")


class FallbackRequest(BaseModel):
    """``POST /api/v1/alerts/{id}/fallback``: one of the alert's ``data.fallbacks``."""

    action: FallbackAction
    #: For ``channel``: the source to send the reply on (``smtp``, ``line``, ``kakao``).
    channel: str | None = Field(default=None, max_length=20)
