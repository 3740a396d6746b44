"""Follow-ups and handoff notes as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from consult119.followups.models import MAX_NOTE_CHARS


class FollowupIn(BaseModel):
    """``due_at`` must carry a timezone; the service checks its range."""

    due_at: datetime
    note: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class FollowupPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    due_at: datetime
    note: str
    done_at: datetime | None
    created_by: int | None = None
    done_by: int | None = None


class HandoffIn(BaseModel):
    note: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class HandoffPublic(BaseModel):
    """The leaving holder's note for the next doctor: ``by`` is a staff id."""

    note: str
    by: int
    at: datetime


def followup_json(followup: Any) -> dict[str, Any]:
    return FollowupPublic.model_validate(followup).model_dump(mode="json")


def handoff_public(note: Any) -> HandoffPublic:
    return HandoffPublic(note=note.note, by=note.created_by, at=note.created_at)
