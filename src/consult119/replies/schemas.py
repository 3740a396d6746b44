"""Canned replies as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from consult119.replies.models import MAX_KEY_CHARS

#: A key is a slug: lower-case letters, digits, ``_`` and ``-``, starting with a letter or digit.
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
#: Where a reply sits in its language's list (smaller first).
MAX_POSITION = 100_000
#: Bounds on text before the service's own checks (which give the specific codes).
MAX_INPUT_CHARS = 20_000

Key = Annotated[str, Field(min_length=1, max_length=MAX_KEY_CHARS, pattern=KEY_PATTERN)]
Language = Annotated[str, Field(max_length=8, description="ko or en")]
Text = Annotated[str, Field(max_length=MAX_INPUT_CHARS)]
Position = Annotated[int, Field(ge=0, le=MAX_POSITION)]


class ReplyPublic(BaseModel):
    """A canned reply; ``text`` is the body filled in for the case asked about (``ticket_id``),
    null otherwise."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    language: str
    title: str
    body: str
    position: int
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int
    text: str | None = None


class ReplyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key
    language: Language
    title: Text
    body: Text
    position: Position = 0
    active: bool = True


class ReplyUpdate(BaseModel):
    """``PATCH``: the version read and any fields to change; unknown keys are refused, and
    ``null`` is refused too (every field of a reply has a value). Only the fields sent count."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=2**31 - 1)
    key: Key = None  # type: ignore[assignment]
    language: Language = None  # type: ignore[assignment]
    title: Text = None  # type: ignore[assignment]
    body: Text = None  # type: ignore[assignment]
    position: Position = None  # type: ignore[assignment]
    active: bool = None  # type: ignore[assignment]
