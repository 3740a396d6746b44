"""The line channel's request and response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from consult119.intake.schemas import Id, Text

MAX_EVENTS = 100


class LineSource(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(max_length=20)
    userId: Id | None = None  # noqa: N815 - LINE's name


class LineMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Id
    type: str = Field(max_length=20)
    text: Text | None = None
    fileName: str | None = Field(default=None, max_length=255)  # noqa: N815
    title: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = None
    longitude: float | None = None


class LineEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(max_length=40)
    webhookEventId: Id  # noqa: N815
    timestamp: int = Field(ge=0)
    source: LineSource
    message: LineMessage | None = None


class LineWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    destination: str | None = Field(default=None, max_length=200)
    events: list[LineEvent] = Field(max_length=MAX_EVENTS)


class LineOut(BaseModel):
    taken: int
    cases: list[str]
    #: Messages over their sender's rate limit, not stored (LINE is still answered 200).
    skipped: int = 0
    status: Literal["ok"] = "ok"
