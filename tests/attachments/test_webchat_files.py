"""Web chat: a file uploaded, then sent by the next message frame; over real sockets."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets
from sqlalchemy import select

from consult119.attachments.models import Attachment
from consult119.realtime.models import Event
from consult119.tickets.models import Message
from tests.attachments import images
from tests.channels.test_webchat import new_session, recv
from tests.factories import make_staff


def upload(server, token, data, name):
    r = httpx.post(
        f"{server.url}/api/v1/webchat/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": (name, data, "application/octet-stream")},
        timeout=20,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def chat(server, token, *frames):
    """Send ``frames`` after auth; the answer (ack or error) to each, in order."""
    answers = []
    async with websockets.connect(f"{server.ws_url}/ws/chat") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await recv(ws, "ready")
        for frame in frames:
            await ws.send(json.dumps(frame))
            while True:
                got = json.loads(await asyncio.wait_for(ws.recv(), 15))
                if got["type"] in ("ack", "error"):
                    answers.append(got)
                    break
    return answers


def test_a_photo_goes_with_the_next_message_and_reaches_staff(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    token = new_session(live_server, locale="ko", country="JP")
    photo = upload(live_server, token, images.photo("HEIF"), "IMG_0042.HEIC")
    letter = upload(live_server, token, images.pdf(), "소견서.pdf")
    other = upload(live_server, new_session(live_server), images.photo("PNG"), "x.png")

    first, only_files, stolen, resent, empty = asyncio.run(
        chat(
            live_server,
            token,
            {
                "type": "message",
                "client_id": "c1",
                "text": "발목 사진입니다",
                "attachments": [photo],
            },
            {"type": "message", "client_id": "c2", "attachments": [letter]},
            {"type": "message", "client_id": "c3", "text": "남의 파일", "attachments": [other]},
            {
                "type": "message",
                "client_id": "c1",
                "text": "발목 사진입니다",
                "attachments": [photo],
            },
            {"type": "message", "client_id": "c4", "text": ""},
        )
    )
    assert first["type"] == "ack" and first["created"] is True
    assert "20분" in first["text"] or "분" in first["text"]  # the expected wait, not "as soon as"
    assert only_files["type"] == "ack" and only_files["created"] is False
    assert (stolen["type"], stolen["code"], stolen["client_id"]) == (
        "error",
        "unknown_attachment",
        "c3",
    )
    assert resent["type"] == "ack" and resent["duplicate"] is True
    assert resent["message_id"] == first["message_id"]
    assert (empty["type"], empty["code"]) == ("error", "invalid_field")

    with db.read_session() as s:
        rows = {a.id: a for a in s.scalars(select(Attachment))}
        texts = {m.id: m.text for m in s.scalars(select(Message))}
        created = [
            e.data["message"]
            for e in s.scalars(select(Event).where(Event.name == "message.created"))
        ]
    assert rows[photo].message_id == first["message_id"]
    assert rows[letter].message_id == only_files["message_id"]
    assert texts[only_files["message_id"]] == ""
    assert rows[other].message_id is None  # still its own session's, unsent
    # The console's live event carries the files.
    event = next(m for m in created if m["id"] == first["message_id"])
    assert [(a["id"], a["content_type"], a["filename"]) for a in event["attachments"]] == [
        (photo, "image/jpeg", "IMG_0042.jpg")
    ]

    # And the doctor reads them from the case.
    headers = doctor.headers(live_server.url)
    ticket_id = httpx.get(f"{live_server.url}/api/v1/tickets", headers=headers, timeout=10).json()[
        "items"
    ][0]["id"]
    detail = httpx.get(f"{live_server.url}/api/v1/tickets/{ticket_id}", headers=headers).json()
    files = [a["id"] for m in detail["messages"] for a in m["attachments"]]
    assert files == [photo, letter]
    r = httpx.get(f"{live_server.url}/api/v1/attachments/{letter}", headers=headers)
    assert r.status_code == 200 and r.content == images.pdf()


def test_an_expired_session_with_files_is_swept_and_a_new_session_still_starts(
    live_server, db, tmp_path
):
    """Deleting a session that uploaded files must not fail on the foreign key (it did: a 500
    on POST /api/v1/webchat/sessions); its unsent upload goes, file and all; its sent file
    stays on its message."""
    from datetime import timedelta

    from sqlalchemy import update

    from consult119.attachments.store import AttachmentStore
    from consult119.channels.webchat.models import WebchatSession
    from consult119.db import utcnow

    token = new_session(live_server, locale="ko", country="JP")
    sent = upload(live_server, token, images.photo("PNG"), "wound.png")
    unsent = upload(live_server, token, images.pdf(), "letter.pdf")
    (ack,) = asyncio.run(
        chat(live_server, token, {"type": "message", "client_id": "s1", "attachments": [sent]})
    )
    assert ack["type"] == "ack"
    store = AttachmentStore(tmp_path / "attachments")
    with db.read_session() as s:
        hashes = {a.id: a.sha256 for a in s.scalars(select(Attachment))}
    assert store.path_of(hashes[unsent]).exists()
    with db.unit_of_work() as s:  # the session ended two days ago
        s.execute(update(WebchatSession).values(expires_at=utcnow() - timedelta(days=2)))

    r = httpx.post(f"{live_server.url}/api/v1/webchat/sessions", json={}, timeout=10)
    assert r.status_code == 201, r.text

    with db.read_session() as s:
        rows = {a.id: a for a in s.scalars(select(Attachment))}
        sessions = s.scalars(select(WebchatSession)).all()
    assert len(sessions) == 1  # the new one; the expired one is deleted
    assert unsent not in rows
    assert not store.path_of(hashes[unsent]).exists()
    assert rows[sent].message_id == ack["message_id"]
    assert rows[sent].webchat_session_id is None
    assert store.path_of(hashes[sent]).exists()
