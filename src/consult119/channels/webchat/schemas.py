"""The webchat channel's request and response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from consult119.intake.schemas import (
    ShortText,
    no_nul,
)
from consult119.tickets.codes import LocationType, PurposeOfStay

VesselOrFlight = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(no_nul)
]


class AnswersIn(BaseModel):
    """The page's optional form: what the service asks before the first message. Every field
    may be left out; a bad value is refused with its ``field`` (``answers.<name>``)."""

    model_config = ConfigDict(extra="forbid")

    patient_age: int | None = Field(default=None, ge=0, le=130, strict=True)
    purpose_of_stay: PurposeOfStay | None = None
    symptoms_onset: ShortText | None = None
    location_type: LocationType | None = None
    vessel_or_flight: VesselOrFlight | None = None


class SessionIn(BaseModel):
    name: ShortText | None = None
    locale: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=100)
    timezone: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    #: The form's answers; absent when the traveller skipped it (nothing is marked then).
    answers: AnswersIn | None = None


class SessionOut(BaseModel):
    token: str
    expires_in: int


class RevokeOut(BaseModel):
    #: Sessions revoked now (already revoked or expired ones are not counted).
    revoked: int
    #: Sockets of them this process closed at once; others close at their next frame or reply.
    closed: int
