"""The phone channel's request and response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from consult119.intake.schemas import (
    Id,
    ShortText,
    Text,
)
from consult119.tickets.codes import LocationType
from consult119.tickets.schemas import TicketPublic


class PhoneCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["phone"]
    caller_number: str = Field(min_length=3, max_length=40)
    notes: Text
    country: str | None = Field(default=None, max_length=2)
    caller_name: ShortText | None = None
    email: str | None = Field(default=None, max_length=320)
    locale: str | None = Field(default=None, max_length=20)
    timezone: str | None = Field(default=None, max_length=64)
    location_type: LocationType | None = None
    vessel_or_flight: ShortText | None = None
    call_id: Id | None = Field(default=None, description="Telephony call id: a repeat is no-op")


class CallEventIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    call_id: Id
    event: Literal["ringing", "answered", "ended", "missed", "voicemail"]
    caller_number: str = Field(min_length=3, max_length=40)
    country: str | None = Field(default=None, max_length=2)
    transcript: Text | None = None


class PhoneCallOut(TicketPublic):
    """The case the call was logged on, and whether it was new."""

    created: bool
    duplicate: bool
    message_id: int
    caller_number: str


class CallEventOut(BaseModel):
    """A telephony event's answer: ``taken`` with the case for a missed call or a voicemail;
    other events only ``taken: false`` and the event."""

    taken: bool
    event: str
    ticket_id: int | None = None
    case_number: str | None = None
    created: bool | None = None
    duplicate: bool | None = None
