"""Attachments: what is accepted, how it is kept, and how staff read it.

A file is received into the store before the database hears of it (:class:`Spool`), its type
decided from its bytes (:mod:`.sniff`), an image re-encoded without metadata (:mod:`.images`),
and only then is a row written in the message's unit of work. Anything refused leaves no file,
only a note on the message for staff (:data:`REFUSAL_NOTES`). Blocking work (disk, decoding)
runs outside the group-commit writer: adapters prepare files first, then hand the intake
:class:`StoredFile` values.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from consult119.attachments import images
from consult119.attachments import repository as repo
from consult119.attachments.models import Attachment, AttachmentState
from consult119.attachments.schemas import AttachmentPublic
from consult119.attachments.sniff import Kind, kind_of
from consult119.attachments.store import AttachmentStore, Spool, TooLarge
from consult119.channels.webchat.tokens import (
    MAX_TOKEN_CHARS,
    TOKEN_PREFIX,
    session_row,
    token_hash,
)
from consult119.config import Settings
from consult119.errors import Invalid, NotFound, Unauthorized
from consult119.i18n import lazy_gettext as _l
from consult119.i18n.catalog import LazyText

if TYPE_CHECKING:
    from consult119.channels.webchat.models import WebchatSession
    from consult119.tickets.models import Message
    from consult119.tickets.schemas import MessagePublic

#: Why a file was not stored (codes in message ``meta["attachments_refused"]``), as staff read it.
REFUSAL_NOTES: dict[str, LazyText] = {
    "unsupported_type": _l("A file of an unsupported type was not stored."),
    "too_large": _l("A file larger than the size limit was not stored."),
    "too_many_pixels": _l("An image too large to open safely was not stored."),
    "unreadable_image": _l("A damaged image that could not be opened was not stored."),
}

_EXTENSION = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
}
#: Images decoded and re-encoded at once per process: one, so a burst of photos takes one
#: core and text intake keeps the rest (docs/performance.md, "Attachments").
_DECODING = threading.BoundedSemaphore(1)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


class Refused(Exception):
    """A file not stored; ``code`` is a key of :data:`REFUSAL_NOTES`."""

    def __init__(self, code: str, filename: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.filename = filename

    def note(self) -> dict[str, str]:
        """What the message keeps of it (codes and the name the sender gave, never bytes)."""
        return {"code": self.code, "filename": self.filename}


@dataclass(frozen=True)
class StoredFile:
    """A file in the store, ready for its row."""

    filename: str
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None

    def row(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
        }


def store_of(settings: Settings) -> AttachmentStore:
    """The store in the configured folder (``CONSULT119_ATTACHMENT_DIR``)."""
    return AttachmentStore(settings.attachments_path)


def safe_filename(name: str | None, content_type: str) -> str:
    """The sender's file name, made safe to show and to send back in a header: no folders, no
    control characters, at most 200 characters, ending in the extension of the stored type
    (a HEIC photo is stored, and named, as JPEG)."""
    base = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    base = _UNSAFE.sub("_", base).strip(" .") or "attachment"
    stem, ext = os.path.splitext(base)
    wanted = _EXTENSION.get(content_type)
    if wanted and ext.lower() not in (wanted, ".jpeg" if wanted == ".jpg" else wanted):
        ext = wanted  # a HEIC photo kept as JPEG, a PDF called "scan": named for what it is
    return stem[: 200 - len(ext)] + ext


def accept(store: AttachmentStore, spool: Spool, filename: str | None) -> StoredFile:
    """Keep the file received in ``spool`` if it is a type we accept (blocking: decoding).

    Raises :class:`Refused`; the spool's file is gone either way when the ``with`` block of
    the spool ends.
    """
    spool.finish()
    kind = kind_of(spool.head)
    if kind is None:
        raise Refused("unsupported_type", _shown(filename))
    if kind is Kind.PDF:
        return StoredFile(
            safe_filename(filename, kind.value), kind.value, spool.size, spool.commit()
        )
    try:
        with _DECODING:
            encoded = images.reencode(spool.path, kind)
    except images.ImageRefused as exc:
        raise Refused(exc.code, _shown(filename)) from None
    sha, size = store.put([encoded.data])
    return StoredFile(
        safe_filename(filename, encoded.content_type),
        encoded.content_type,
        size,
        sha,
        encoded.width,
        encoded.height,
    )


def accept_bytes(
    store: AttachmentStore, data: bytes, filename: str | None, *, limit: int
) -> StoredFile:
    """:func:`accept` for a file already in memory (an e-mail part, a downloaded photo)."""
    with store.spool(limit=limit) as spool:
        try:
            spool.write(data)
        except TooLarge:
            raise Refused("too_large", _shown(filename)) from None
        return accept(store, spool, filename)


def _shown(filename: str | None) -> str:
    return safe_filename(filename, "")


def add_upload(
    session: Session, stored: StoredFile, *, webchat_session_id: int, now: datetime
) -> Attachment:
    """A web-chat upload, not yet on a message: only its session may send it."""
    return repo.add(session, webchat_session_id=webchat_session_id, created_at=now, **stored.row())


def add_staff_upload(
    session: Session, stored: StoredFile, *, staff_id: int, now: datetime
) -> Attachment:
    """A doctor's or EMT's upload for a reply, not yet on a message: only they may send it."""
    return repo.add(session, uploaded_by=staff_id, created_at=now, **stored.row())


#: The sources whose replies carry files (the web chat's frame, an e-mail's MIME parts).
SOURCES_WITH_FILES = frozenset({"webchat", "smtp"})


def attach_staff_uploads(
    session: Session, ids: list[int], *, staff_id: int, message_id: int, source: str | None
) -> list[Attachment]:
    """Put the uploader's own unsent uploads ``ids`` on their reply ``message_id``: 422
    ``attachments_not_supported`` on a channel that carries no files (``source`` None: an
    internal note, which may keep files), ``unknown_attachment`` for any other id."""
    if not ids:
        return []
    if source is not None and source not in SOURCES_WITH_FILES:
        raise Invalid(
            "attachments_not_supported",
            _l("This case's channel cannot carry files; send the reply as text."),
            field="attachments",
        )
    wanted = list(dict.fromkeys(ids))
    rows = repo.uploads_of_staff(session, staff_id, wanted)
    _require_all(
        wanted,
        rows,
        lambda ids: _l("File {ids} was not uploaded by you, or was sent already.", ids=ids),
    )
    attach_uploads(session, rows, message_id)
    return rows


def _require_all(
    wanted: list[int], rows: list[Attachment], message: Callable[[str], LazyText]
) -> None:
    """422 ``unknown_attachment``, ``message`` naming the ids in ``wanted`` that ``rows`` lacks
    (a callable, so each caller's text stays a literal the catalogue extracts)."""
    missing = sorted(set(wanted) - {r.id for r in rows})
    if missing:
        raise Invalid(
            "unknown_attachment", message(", ".join(map(str, missing))), field="attachments"
        )


def traveller_file(session: Session, attachment_id: int, contact_id: int | None) -> Attachment:
    """A readable file on a message the traveller sees (theirs, or a reply to them; never an
    internal note's) of a case of ``contact_id``; 404 ``attachment_not_found`` otherwise."""
    att = None if contact_id is None else repo.get_for_contact(session, attachment_id, contact_id)
    if att is None or not readable(att):
        raise NotFound("attachment_not_found", _l("There is no such file."))
    return att


@dataclass(frozen=True)
class RemoteFile:
    """A file a channel announced, fetched after the commit (:mod:`.downloads`): ``source``
    ``line`` (``ref``: the LINE message id) or ``kakao`` (``ref``: the image URL)."""

    source: str
    ref: str
    filename: str
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class Upload:
    """A web-chat upload a message frame sends: the row exists, the message takes it."""

    attachment_id: int
    webchat_session_id: int


def add_pending(
    session: Session, message_id: int, remote: RemoteFile, *, now: datetime
) -> Attachment:
    """A file a job will fetch: the console shows "photo arriving" until it is stored."""
    return repo.add(
        session,
        message_id=message_id,
        filename=safe_filename(remote.filename, ""),
        content_type=remote.content_type,
        size=0,
        state=AttachmentState.PENDING.value,
        remote_source=remote.source,
        remote_ref=remote.ref[:2000],
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def add_to_message(
    session: Session,
    message_id: int,
    files: tuple[Any, ...] | list[Any],
    now: datetime,
) -> list[Attachment]:
    """The rows of a message's files (in the caller's unit of work): stored ones, and
    announced ones a job fetches after the commit."""
    rows = []
    for f in files:
        if isinstance(f, RemoteFile):
            rows.append(add_pending(session, message_id, f, now=now))
        elif isinstance(f, StoredFile):
            rows.append(repo.add(session, message_id=message_id, created_at=now, **f.row()))
        elif isinstance(f, Upload):
            (row,) = uploads_to_send(session, f.webchat_session_id, [f.attachment_id])
            attach_uploads(session, [row], message_id)
            rows.append(row)
        else:  # raw bytes never reach the intake's transaction: store them first (accept_bytes)
            raise TypeError(f"not a stored file: {type(f).__name__}")
    return rows


def refusal_notes(meta: dict[str, Any] | None, locale: str | None) -> list[dict[str, str]]:
    """The notes on a message's refused files, each with its sentence in ``locale``."""
    out = []
    for note in (meta or {}).get("attachments_refused") or []:
        code = str(note.get("code", "unsupported_type"))
        text = REFUSAL_NOTES.get(code, REFUSAL_NOTES["unsupported_type"])
        out.append(
            {"code": code, "filename": str(note.get("filename", "")), "text": text.render(locale)}
        )
    return out


def files_of_messages(session: Session, message_ids: list[int]) -> dict[int, list[Attachment]]:
    """The files of each of the messages, in one query."""
    return repo.of_messages(session, message_ids)


def with_files(
    public: MessagePublic,
    message: Message,
    files: dict[int, list[Attachment]],
    *,
    locale: str | None,
) -> MessagePublic:
    """``public`` with its message's files and the notes on refused ones."""
    public.attachments = [
        AttachmentPublic.model_validate(a) for a in files.get(message.id or 0, [])
    ]
    public.attachment_notes = refusal_notes(message.meta, locale)
    return public


def readable(att: Attachment) -> bool:
    return att.state == AttachmentState.STORED.value and att.sha256 is not None


def file_of(store: AttachmentStore, att: Attachment) -> Path:
    assert att.sha256 is not None
    return store.path_of(att.sha256)


def thumbnail_of(store: AttachmentStore, att: Attachment) -> Path | None:
    """The cached thumbnail of an image (made now if missing); None for a PDF."""
    if not att.content_type.startswith("image/") or att.sha256 is None:
        return None
    path = store.thumbnail_path(att.sha256)
    if not path.exists():
        store.put_thumbnail(att.sha256, images.thumbnail(store.path_of(att.sha256)))
    return path


#: How long an upload waits for the message that sends it.
UNSENT_UPLOAD_TTL = timedelta(days=1)


def sweep_unsent(session: Session, *, now: datetime) -> set[str]:
    """Delete the uploads no message will take any more: their session ended, or they waited
    longer than :data:`UNSENT_UPLOAD_TTL`. The hashes of their files, for
    :func:`remove_unreferenced` once this transaction has committed."""
    return repo.delete_unsent(session, now=now, created_before=now - UNSENT_UPLOAD_TTL)


def remove_unreferenced(session: Session, store: AttachmentStore, hashes: set[str]) -> int:
    """Delete the files of ``hashes`` no row names any more (after the rows went); how many.

    Call it once the deleting transaction has committed: a rollback must not lose a file.
    """
    left = repo.hashes_in_use(session, hashes)
    gone = 0
    for sha in hashes - left:
        store.remove(sha)
        gone += 1
    return gone


def for_staff(session: Session, attachment_id: int) -> tuple[Attachment, int]:
    """A readable file on a message, with its ticket id; 404 for anything else (an upload not
    yet sent, a file still on its way or refused, a purged one)."""
    found = repo.get_with_ticket(session, attachment_id)
    if found is None or not readable(found[0]):
        raise NotFound("attachment_not_found", _l("There is no such file."))
    return found


def webchat_session_of(session: Session, token: str | None, *, now: datetime) -> WebchatSession:
    """The live web-chat session of a bearer token, or 401 ``invalid_token``."""
    row = None
    if token and token.startswith(TOKEN_PREFIX) and len(token) <= MAX_TOKEN_CHARS:
        row = session_row(session, token_hash(token), now)
    if row is None:
        raise Unauthorized("invalid_token", _l("The web-chat session is unknown or has ended."))
    return row


def uploads_to_send(session: Session, webchat_session_id: int, ids: list[int]) -> list[Attachment]:
    """The uploads a message frame names, all of them this session's and not sent yet;
    otherwise 422 ``unknown_attachment`` (another session's file is unknown to this one)."""
    wanted = list(dict.fromkeys(ids))
    rows = repo.uploads_of_session(session, webchat_session_id, wanted)
    _require_all(
        wanted,
        rows,
        lambda ids: _l("File {ids} was not uploaded in this chat, or was sent already.", ids=ids),
    )
    return rows


def attach_uploads(session: Session, rows: list[Attachment], message_id: int) -> None:
    repo.attach_to_message(session, [r.id for r in rows if r.id is not None], message_id)
    for row in rows:
        row.message_id = message_id
