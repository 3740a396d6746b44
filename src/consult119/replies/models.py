"""The canned-replies table: the texts staff insert into a reply and then adapt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime

#: Longest body (before its placeholders are filled): a canned reply is a starting point, so
#: the rendered text still fits the reply box (5,000 characters) beside what staff add.
MAX_BODY_CHARS = 2000
MAX_TITLE_CHARS = 100
MAX_KEY_CHARS = 40


class CannedReply(SQLModel, table=True):
    """One canned reply in one language; ``key`` names the same reply across languages."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("key", "language", name="uq_canned_reply_key_language"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=MAX_KEY_CHARS)
    language: str = Field(max_length=2)
    title: str = Field(max_length=MAX_TITLE_CHARS)
    body: str = Field(max_length=MAX_BODY_CHARS)
    position: int = Field(default=0)
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    version: int = Field(default=1)
