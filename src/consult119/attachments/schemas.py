"""Attachments as the API shows them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AttachmentPublic(BaseModel):
    """A file on a message, in the ticket detail and in ``message.created`` events."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    #: ``stored`` (readable), ``pending`` (a LINE photo on its way) or ``failed``.
    state: str = "stored"


class UploadPublic(BaseModel):
    """``POST /api/v1/webchat/attachments`` answers this (201)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    content_type: str
    size: int
