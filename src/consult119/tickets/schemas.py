"""Tickets and messages as the API shows them (SPEC.md shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasPath, BaseModel, ConfigDict, Field, field_validator

from consult119.attachments.schemas import AttachmentPublic
from consult119.followups.schemas import FollowupPublic, HandoffPublic
from consult119.schemas import Page
from consult119.tickets.codes import SEX_OF_STORED, LocationType, PurposeOfStay, Sex
from consult119.types import Id


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    direction: str
    channel: str
    source: str
    text: str
    created_at: datetime
    author_staff_id: int | None = None
    delivery: str | None = None
    #: On an inbound message that opened a case without its acknowledgement: why
    #: (``invalid_sender``: the From was not one plain address; ``rate_limited``).
    ack_withheld: str | None = Field(
        default=None, validation_alias=AliasPath("meta", "ack_withheld")
    )
    #: An automatic or re-sent message: ``acknowledgement``, ``emergency_reminder`` (no doctor
    #: reply at the case's target), ``fallback`` (a reply queued again on another channel).
    kind: str | None = Field(default=None, validation_alias=AliasPath("meta", "kind"))
    #: Of a ``fallback``: the reply it re-sends.
    fallback_of: int | None = Field(default=None, validation_alias=AliasPath("meta", "fallback_of"))
    #: The files of the message (filled by the detail in one query, and by the event).
    attachments: list[AttachmentPublic] = []
    #: Files that came with it and were not stored: ``{"code", "filename", "text"}``, the text
    #: in the reader's language (codes: ``attachments.service.REFUSAL_NOTES``).
    attachment_notes: list[dict[str, str]] = []


class TicketPublic(BaseModel):
    """A case in lists and events: no message text, no patient details."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    case_number: str
    channel: str
    source: str
    status: str
    priority: int
    acuity: int | None
    suspected_acuity: int | None = None
    red_flags: list[str] | None = None
    category: str | None
    disposition: str | None = None
    assignee_id: int | None
    country: str | None = None
    location_type: str | None = None
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None = None
    first_response_at: datetime | None = None
    sla_due_at: datetime | None = None
    version: int


class QueueRow(TicketPublic):
    """A row of ``GET /api/v1/tickets``: the case plus who and what waits, on one line. Not in
    events or the console snapshot (which carry TicketPublic); admins get it without
    ``preview`` (message text)."""

    traveller_name: str | None = None
    patient_age: int | None = None
    patient_sex: str | None = None
    preview: str | None = None
    unread: int = 0

    @field_validator("patient_sex", mode="before")
    @classmethod
    def _sex_word(cls, value: object) -> object:
        return SEX_OF_STORED.get(value, value) if isinstance(value, str) else value


class PatientDetails(BaseModel):
    """The patient and the clinical summary: what ``PATCH /api/v1/tickets/{id}`` edits."""

    model_config = ConfigDict(from_attributes=True)

    patient_age: int | None = None
    patient_sex: str | None = None
    symptoms_onset: str | None = None
    conditions: str | None = None
    medication: str | None = None
    allergies: str | None = None
    purpose_of_stay: str | None = None
    chief_complaint: str | None = None
    assessment: str | None = None
    plan: str | None = None

    @field_validator("patient_sex", mode="before")
    @classmethod
    def _sex_word(cls, value: object) -> object:
        # Stored as the one-letter code reports use; the API speaks the word both ways.
        return SEX_OF_STORED.get(value, value) if isinstance(value, str) else value


class CaseSummary(BaseModel):
    """Another case of the same traveller, as the detail's ``contact_history`` lists it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    case_number: str
    created_at: datetime
    status: str
    acuity: int | None = None
    category: str | None = None


class Actor(BaseModel):
    id: int
    name: str
    role: str


class TimelineItem(BaseModel):
    """One event of the case's history: what happened, when, by whom (None: the system or the
    traveller), and the event's data as the console received it."""

    id: int
    name: str
    at: datetime
    actor: Actor | None = None
    data: dict[str, Any]


class TicketDetail(TicketPublic, PatientDetails):
    """One case with its conversation: personal data, so every read is audited."""

    contact_id: int
    timezone: str | None = None
    locale: str | None = None
    vessel_or_flight: str | None = None
    triaged_at: datetime | None = None
    assigned_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    #: Record fields whose value is the traveller's own answer, not yet confirmed by staff.
    self_reported: list[str] = []
    messages: list[MessagePublic] = []
    contact_history: list[CaseSummary] = []
    #: The latest handoff note of the case (a leaving holder's words for the next doctor).
    handoff: HandoffPublic | None = None
    #: The case's follow-ups by due time, done ones included.
    followups: list[FollowupPublic] = []

    @field_validator("self_reported", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value


class QueuePage(Page[QueueRow]):
    """The queue's page: with ``q``, ``total`` counts at most ``search.COUNT_CAP`` cases, and
    ``total_capped`` says when there are more (never true without ``q``)."""

    total_capped: bool = False


class TriageIn(BaseModel):
    acuity: int
    category: str = Field(max_length=40)
    disposition: str | None = Field(default=None, max_length=40)


class StaffRef(BaseModel):
    staff_id: Id


class MessageIn(BaseModel):
    #: May be empty when ``attachments`` names a file.
    text: str = ""
    internal: bool = False
    #: The sender's own uploads (``POST /api/v1/attachments``) this message carries.
    attachments: list[Id] = Field(default_factory=list, max_length=10)


class StatusIn(BaseModel):
    status: str = Field(max_length=20)
    #: Why a case no reply reached is resolved (``ResolveReason``); recorded in the event.
    reason: str | None = Field(default=None, max_length=40)


class RecordIn(BaseModel):
    """``PATCH /api/v1/tickets/{id}``: the version read, and any record fields to change
    (``null`` or blank text clears one). Lengths are the columns'; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=2**31 - 1)
    patient_age: int | None = Field(default=None, ge=0, le=130)
    patient_sex: Sex | None = None
    symptoms_onset: str | None = Field(default=None, max_length=200)
    conditions: str | None = Field(default=None, max_length=2000)
    medication: str | None = Field(default=None, max_length=2000)
    allergies: str | None = Field(default=None, max_length=2000)
    country: str | None = Field(default=None, max_length=8)
    timezone: str | None = Field(default=None, max_length=64)
    location_type: LocationType | None = None
    vessel_or_flight: str | None = Field(default=None, max_length=100)
    purpose_of_stay: PurposeOfStay | None = None
    chief_complaint: str | None = Field(default=None, max_length=500)
    assessment: str | None = Field(default=None, max_length=5000)
    plan: str | None = Field(default=None, max_length=5000)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into_ticket_id: Id


class MergeOut(TicketPublic):
    """The case merged into, and what moved there."""

    merged_ticket_id: int
    moved_messages: int


class LinkOut(BaseModel):
    """A case suggested as the same traveller's: why, since when, and the case."""

    reason: str
    created_at: datetime
    ticket: TicketPublic
