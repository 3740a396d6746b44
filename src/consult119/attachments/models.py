"""The attachments table: one row per file that came with (or waits for) a message.

The bytes live in the content-addressed store (:mod:`consult119.attachments.store`), named by
their SHA-256; the row keeps the hash, the type decided from the bytes, the size and an image's
dimensions. Two rows may share a file (the same photo sent twice): a purge removes the file
only with the last row that names it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from consult119.db import UTCDateTime


class AttachmentState(StrEnum):
    #: The file is in the store.
    STORED = "stored"
    #: Announced by the channel (a LINE image), being downloaded after the commit.
    PENDING = "pending"
    #: The download gave up, or the bytes were refused on arrival.
    FAILED = "failed"
    #: Migrated from a database blob whose bytes are not a type we accept: kept, never served.
    REFUSED = "refused"


class Attachment(SQLModel, table=True):
    """A file of a message (a wound photo, a medicine list, a discharge letter)."""

    __tablename__ = "attachments"

    id: int | None = Field(default=None, primary_key=True)
    #: Null while a web-chat upload waits for the message frame that sends it.
    message_id: int | None = Field(default=None, foreign_key="messages.id", index=True)
    #: The web-chat session that uploaded it: only that session may attach it to a message.
    #: A session deleted (a day after it expired) leaves its sent files: the key sets null.
    webchat_session_id: int | None = Field(
        default=None, foreign_key="webchat_sessions.id", ondelete="SET NULL"
    )
    #: The doctor or EMT who uploaded it for a reply: only they may send it.
    uploaded_by: int | None = Field(default=None, foreign_key="staff.id")
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int = Field(default=0)
    sha256: str | None = Field(default=None, max_length=64, index=True)
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    state: str = Field(default=AttachmentState.STORED.value, max_length=10)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    #: A file announced by a channel and fetched after the commit: where from (``line`` with the
    #: LINE message id, ``kakao`` with the image URL), tries so far, and when to try next
    #: (also the lease of the process trying it now).
    remote_source: str | None = Field(default=None, max_length=10)
    remote_ref: str | None = Field(default=None, max_length=2000)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, nullable=True, index=True
    )
