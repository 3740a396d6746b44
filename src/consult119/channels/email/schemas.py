"""The email channel's request and response models."""

from __future__ import annotations

from pydantic import BaseModel


class EmailIntakeOut(BaseModel):
    ticket_id: int | None
    case_number: str | None
    message_id: int | None
    created: bool
    duplicate: bool
    ignored: str | None = None
