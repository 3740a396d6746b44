"""What each channel adapter calls for its files, so an adapter only translates its format.

- E-mail: :func:`store_mail_parts` turns the parts the parser kept into stored files (and notes
  for the refused ones), before the intake (blocking: call it from a worker thread).
- Web chat: :func:`frame_uploads` checks the ids a message frame names against the session.
- LINE: :func:`line_file` announces an image, video or file message's content for the job.
- Kakao: :func:`kakao_files` reads image URLs from a skill request (plugin or media params).
"""

from __future__ import annotations

import json
import re
from typing import Any

from consult119.attachments.service import (
    Refused,
    RemoteFile,
    StoredFile,
    Upload,
    accept_bytes,
    store_of,
    uploads_to_send,
)
from consult119.channels.webchat import repository as webchat_repo
from consult119.config import Settings
from consult119.db import Database
from consult119.tickets import repository as tickets_repo

#: LINE message types whose content LINE's content API serves.
LINE_CONTENT_TYPES = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "file": "application/octet-stream",
}
_LIST = re.compile(r"^List\((.*)\)$", re.DOTALL)


def store_mail_parts(
    settings: Settings, parts: list[Any]
) -> tuple[list[StoredFile], list[dict[str, str]]]:
    """Each part (``filename``, ``data``) checked and stored; the refused ones as notes."""
    store = store_of(settings)
    stored: list[StoredFile] = []
    notes: list[dict[str, str]] = []
    for part in parts:
        try:
            stored.append(
                accept_bytes(store, part.data, part.filename, limit=settings.max_attachment_bytes)
            )
        except Refused as refused:
            notes.append(refused.note())
    return stored, notes


def frame_uploads(
    db: Database, *, token_digest: str, ids: list[int], external_id: str, source: str
) -> tuple[Upload, ...]:
    """The uploads a web-chat frame sends, checked now for a clear error frame (the intake
    checks again in its transaction). A resent frame (already taken) passes: the intake answers
    it as a duplicate without touching its files."""
    if not ids:
        return ()
    with db.read_session() as session:
        row = webchat_repo.session_by_hash(session, token_digest)
        assert row is not None and row.id is not None
        if tickets_repo.find_message_ref(session, source, external_id) is None:
            uploads_to_send(session, row.id, ids)
        return tuple(Upload(attachment_id=i, webchat_session_id=row.id) for i in dict.fromkeys(ids))


def line_file(message_type: str, message_id: str, file_name: str | None) -> RemoteFile | None:
    """The content of a LINE image, video or file message, for the download job."""
    if message_type not in LINE_CONTENT_TYPES:
        return None
    name = file_name or f"line-{message_type}-{message_id}"
    return RemoteFile("line", message_id, name, LINE_CONTENT_TYPES[message_type])


def kakao_files(payload: dict[str, Any], *, limit: int = 10) -> list[RemoteFile]:
    """Image URLs of a Kakao skill request: the secure-image plugin's ``secureUrls``
    (``List(url, …)``) in ``action.params`` or ``action.detailParams``, or
    ``userRequest.params.media`` of type image. Which hosts may be fetched is the job's check."""
    urls: list[str] = []
    action = payload.get("action") if isinstance(payload.get("action"), dict) else {}
    for params in (action.get("params"), action.get("detailParams")):
        if not isinstance(params, dict):
            continue
        for value in params.values():
            value = value.get("value") if isinstance(value, dict) else value
            if isinstance(value, str):
                try_plugin = value.strip()
                if try_plugin.startswith("{"):
                    try:
                        value = json.loads(try_plugin).get("secureUrls", "")
                    except (ValueError, AttributeError):
                        continue
                match = _LIST.match(str(value).strip())
                if match:
                    urls += [u.strip() for u in match.group(1).split(",") if u.strip()]
    user = payload.get("userRequest") if isinstance(payload.get("userRequest"), dict) else {}
    media = (
        (user.get("params") or {}).get("media") if isinstance(user.get("params"), dict) else None
    )
    if (
        isinstance(media, dict)
        and media.get("type") == "image"
        and isinstance(media.get("url"), str)
    ):
        urls.append(media["url"])
    out = []
    for i, url in enumerate(
        dict.fromkeys(u for u in urls if u.startswith(("https://", "http://")))
    ):
        if i >= limit:
            break
        out.append(RemoteFile("kakao", url[:2000], f"kakao-photo-{i + 1}.jpg"))
    return out
