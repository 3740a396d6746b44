"""Staff send files with a reply: uploaded, named by the reply, delivered on the channels that
carry files (the web chat's frame; e-mail: tests/channels/test_email_files.py), refused on the others; over real sockets."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets
from sqlalchemy import select

from consult119.attachments.models import Attachment
from consult119.realtime.models import Event
from tests.attachments import images
from tests.channels.test_webchat import ack_ticket, new_session, recv
from tests.factories import make_staff, make_ticket


def staff_upload(server, headers, data, name, *, status=201):
    r = httpx.post(
        f"{server.url}/api/v1/attachments",
        headers=headers,
        files={"file": (name, data, "application/octet-stream")},
        timeout=20,
    )
    assert r.status_code == status, r.text
    return r.json()


def reply(server, headers, ticket_id, **body):
    return httpx.post(
        f"{server.url}/api/v1/tickets/{ticket_id}/messages", headers=headers, json=body, timeout=10
    )


def test_a_doctor_sends_a_pdf_to_the_web_chat_and_only_that_traveller_reads_it(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    emt = make_staff(db, "emt")
    manager = make_staff(db, "manager")
    headers = doctor.headers(live_server.url)
    token = new_session(live_server, locale="ko", country="JP")
    stranger = new_session(live_server, locale="en")

    async def visit():
        async with websockets.connect(f"{live_server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await recv(ws, "ready")
            await ws.send(
                json.dumps({"type": "message", "text": "약 목록 주세요", "client_id": "a"})
            )
            await recv(ws, "ack")
            ticket_id = ack_ticket(db)
            letter = await asyncio.to_thread(
                staff_upload, live_server, headers, images.pdf(), "복용 안내.pdf"
            )
            answer = await asyncio.to_thread(
                reply, live_server, headers, ticket_id, text="", attachments=[letter["id"]]
            )
            frame = await recv(ws, "message")
            return ticket_id, letter, answer, frame

    ticket_id, letter, answer, frame = asyncio.run(visit())
    assert letter["content_type"] == "application/pdf" and letter["size"] == len(images.pdf())
    assert answer.status_code == 201, answer.text
    assert [a["id"] for a in answer.json()["attachments"]] == [letter["id"]]
    assert frame["from"] == "staff" and frame["text"] == ""
    (sent,) = frame["attachments"]
    assert (sent["id"], sent["content_type"], sent["filename"]) == (
        letter["id"],
        "application/pdf",
        "복용 안내.pdf",
    )
    # The traveller reads it with their token; another traveller, or no token, cannot.
    got = httpx.get(live_server.url + sent["url"], headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200 and got.content == images.pdf()
    assert got.headers["x-content-type-options"] == "nosniff"
    other = httpx.get(
        live_server.url + sent["url"], headers={"Authorization": f"Bearer {stranger}"}
    )
    assert (other.status_code, other.json()["detail"]["code"]) == (404, "attachment_not_found")
    assert httpx.get(live_server.url + sent["url"]).status_code == 401
    # The console's live event carries the file.
    with db.read_session() as s:
        created = [
            e.data["message"]
            for e in s.scalars(select(Event).where(Event.name == "message.created"))
        ]
    assert [a["id"] for a in created[-1]["attachments"]] == [letter["id"]]

    # A file on an internal note stays with staff.
    note_file = staff_upload(live_server, headers, images.photo("PNG"), "note.png")
    note = reply(
        live_server,
        headers,
        ticket_id,
        text="내부 메모",
        internal=True,
        attachments=[note_file["id"]],
    )
    assert note.status_code == 201, note.text
    hidden = httpx.get(
        f"{live_server.url}/api/v1/webchat/attachments/{note_file['id']}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert hidden.status_code == 404

    # Only the uploader sends an upload, once; empty text needs a file; managers upload nothing.
    emt_headers = emt.headers(live_server.url)
    emt_file = staff_upload(live_server, emt_headers, images.photo("PNG"), "x.png")
    stolen = reply(live_server, headers, ticket_id, text="남의 파일", attachments=[emt_file["id"]])
    assert (stolen.status_code, stolen.json()["detail"]["code"]) == (422, "unknown_attachment")
    again = reply(live_server, headers, ticket_id, text="다시", attachments=[letter["id"]])
    assert (again.status_code, again.json()["detail"]["code"]) == (422, "unknown_attachment")
    empty = reply(live_server, headers, ticket_id, text="")
    assert (empty.status_code, empty.json()["detail"]["code"]) == (422, "empty_text")
    refused = staff_upload(
        live_server, manager.headers(live_server.url), images.pdf(), "m.pdf", status=403
    )
    assert refused["detail"]["code"] == "forbidden_role"
    renamed = staff_upload(
        live_server, headers, b"MZ\x90\x00" + b"\x00" * 200, "photo.jpg", status=415
    )
    assert renamed["detail"]["code"] == "attachment_type_not_accepted"
    with db.read_session() as s:
        assert s.get(Attachment, emt_file["id"]).message_id is None  # untouched


def test_files_on_a_channel_that_carries_none_are_refused(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    headers = doctor.headers(live_server.url)
    ticket_id = make_ticket(db, source="kakao")
    photo = staff_upload(live_server, headers, images.photo("PNG"), "a.png")
    r = reply(live_server, headers, ticket_id, text="사진 보내요", attachments=[photo["id"]])
    assert (r.status_code, r.json()["detail"]["code"], r.json()["detail"]["field"]) == (
        422,
        "attachments_not_supported",
        "attachments",
    )
    with db.read_session() as s:  # nothing written: the upload is still the doctor's, unsent
        assert s.get(Attachment, photo["id"]).message_id is None
        assert not s.scalars(select(Event).where(Event.name == "message.created")).all()[1:]
