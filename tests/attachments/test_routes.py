# ruff: noqa: F811 (the module fixtures imported from tests.tickets.live are parameters)
"""Files over a real socket: the web-chat upload, and staff reading a case's files."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from consult119.attachments import service
from consult119.attachments.store import AttachmentStore
from consult119.audit.models import AuditEntry
from consult119.tickets.models import Message
from tests.attachments import images
from tests.tickets.conftest import open_case
from tests.tickets.live import mdb, people, server  # noqa: F401 - the module's server and staff

LIMIT = 5 * 1024 * 1024


def store_of(server) -> AttachmentStore:
    return AttachmentStore(Path(server.log_path).parent / "attachments")


def files_in(store: AttachmentStore) -> set[Path]:
    return {p for p in store.root.rglob("*") if p.is_file() and "thumbs" not in p.parts}


def attach(mdb, server, ticket_id, data, name):
    """A file on the case's first message, as an intake would store it."""
    stored = service.accept_bytes(store_of(server), data, name, limit=LIMIT)
    with mdb.unit_of_work() as session:
        message_id = session.scalars(
            select(Message.id).where(Message.ticket_id == ticket_id).order_by(Message.id)
        ).first()
        (row,) = service.add_to_message(session, message_id, [stored], now=_now())
        return row.id


def _now():
    from consult119.db import utcnow

    return utcnow()


def audit_count(mdb, action, ticket_id):
    with mdb.read_session() as s:
        return s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.ticket_id == ticket_id)
        )


@pytest.fixture
def photo_case(mdb, server):
    ticket_id = open_case(server, "발목 사진 보냅니다")
    photo = attach(mdb, server, ticket_id, images.photo("JPEG", size=(800, 400)), "ankle.jpg")
    letter = attach(mdb, server, ticket_id, images.pdf(), "퇴원 소견서.pdf")
    return ticket_id, photo, letter


def test_the_detail_lists_each_message_s_files(people, photo_case):
    ticket_id, photo, letter = photo_case
    detail = people["doctor"].get(f"/api/v1/tickets/{ticket_id}").json()
    first = detail["messages"][0]
    assert first["attachments"] == [
        {
            "id": photo,
            "filename": "ankle.jpg",
            "content_type": "image/jpeg",
            "size": first["attachments"][0]["size"],
            "width": 800,
            "height": 400,
            "state": "stored",
        },
        {
            "id": letter,
            "filename": "퇴원 소견서.pdf",
            "content_type": "application/pdf",
            "size": len(images.pdf()),
            "width": None,
            "height": None,
            "state": "stored",
        },
    ]
    assert first["attachment_notes"] == []


def test_doctors_and_emts_read_a_file_and_each_read_is_logged(mdb, server, people, photo_case):
    ticket_id, photo, letter = photo_case
    for who in ("doctor", "emt"):
        r = people[who].get(f"/api/v1/attachments/{photo}")
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
        assert r.headers["content-disposition"].startswith('inline; filename="ankle.jpg"')
        with Image.open(io.BytesIO(r.content)) as im:
            assert im.size == (800, 400)
    assert audit_count(mdb, "attachment.view", ticket_id) == 2

    r = people["doctor"].get(f"/api/v1/attachments/{letter}")
    assert r.status_code == 200 and r.content == images.pdf()
    assert r.headers["content-type"] == "application/pdf"
    assert "sandbox" not in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "filename*=UTF-8''%ED%87%B4%EC%9B%90" in r.headers["content-disposition"]
    assert audit_count(mdb, "attachment.view", ticket_id) == 3


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_managers_and_admins_read_no_file(mdb, people, photo_case, who):
    ticket_id, photo, _ = photo_case
    for path in (f"/api/v1/attachments/{photo}", f"/api/v1/attachments/{photo}/thumbnail"):
        r = people[who].get(path)
        assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role"
    assert audit_count(mdb, "attachment.view", ticket_id) == 0


def test_no_token_no_file(server, photo_case):
    r = httpx.get(f"{server.url}/api/v1/attachments/{photo_case[1]}")
    assert r.status_code == 401


def test_a_thumbnail_is_a_small_jpeg_and_a_pdf_has_none(mdb, people, photo_case):
    ticket_id, photo, letter = photo_case
    r = people["doctor"].get(f"/api/v1/attachments/{photo}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(r.content)) as im:
        assert im.format == "JPEG" and im.size == (320, 160)
    assert people["doctor"].get(f"/api/v1/attachments/{photo}/thumbnail").content == r.content
    assert audit_count(mdb, "attachment.thumbnail", ticket_id) == 2
    r = people["doctor"].get(f"/api/v1/attachments/{letter}/thumbnail")
    assert r.status_code == 404 and r.json()["detail"]["code"] == "no_thumbnail"


def test_an_unknown_file_is_404(people):
    r = people["doctor"].get("/api/v1/attachments/999999")
    assert r.status_code == 404 and r.json()["detail"]["code"] == "attachment_not_found"


# ---- the traveller's upload ----------------------------------------------------------------


def webchat_token(server) -> str:
    r = httpx.post(f"{server.url}/api/v1/webchat/sessions", json={"name": "김민수"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["token"]


def upload(server, token, data, name="photo.jpg", field="file", **kw):
    return httpx.post(
        f"{server.url}/api/v1/webchat/attachments",
        headers={"Authorization": f"Bearer {token}"} if token else {},
        files={field: (name, data, "image/jpeg")},
        timeout=20,
        **kw,
    )


def test_a_traveller_uploads_a_photo_and_an_iphone_heic(server):
    token = webchat_token(server)
    r = upload(server, token, images.photo("PNG"), "상처.png")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "content_type", "size"} and body["content_type"] == "image/png"
    r = upload(server, token, images.photo("HEIF"), "IMG_0042.HEIC")
    assert r.status_code == 201 and r.json()["content_type"] == "image/jpeg"


def test_an_upload_not_yet_sent_is_nobody_s_to_read(server, people):
    r = upload(server, webchat_token(server), images.photo("PNG"))
    assert people["doctor"].get(f"/api/v1/attachments/{r.json()['id']}").status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (images.WINDOWS_EXE, 415, "attachment_type_not_accepted"),
        (images.ELF, 415, "attachment_type_not_accepted"),
        (images.png_claiming(100_000, 100_000), 422, "attachment_unreadable"),
        (b"\xff\xd8\xff" + b"\x00" * 5000, 422, "attachment_unreadable"),
    ],
)
def test_a_refused_upload_leaves_no_file(server, data, status, code):
    store = store_of(server)
    before = files_in(store)
    r = upload(server, webchat_token(server), data, "photo.jpg")
    assert (r.status_code, r.json()["detail"]["code"]) == (status, code)
    assert files_in(store) == before


def test_an_upload_over_the_limit_is_413_and_leaves_no_file(server):
    store = store_of(server)
    before = files_in(store)
    r = upload(server, webchat_token(server), b"%PDF-1.4\n" + b"0" * (LIMIT + 1), "big.pdf")
    assert r.status_code == 413 and r.json()["detail"]["code"] == "attachment_too_large"
    assert files_in(store) == before


def test_upload_refusals(server):
    token = webchat_token(server)
    assert upload(server, None, images.pdf()).status_code == 401
    r = upload(server, "wct_not-a-session", images.pdf())
    assert (r.status_code, r.json()["detail"]["code"]) == (401, "invalid_token")
    r = upload(server, token, images.pdf(), field="photo")
    assert (r.status_code, r.json()["detail"]["code"]) == (422, "missing_file")
    r = httpx.post(
        f"{server.url}/api/v1/webchat/attachments",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"},
        content=images.photo("JPEG"),
        timeout=10,
    )
    assert (r.status_code, r.json()["detail"]["code"]) == (415, "unsupported_media_type")
    r = httpx.post(
        f"{server.url}/api/v1/webchat/attachments",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "multipart/form-data; boundary=xyz",
        },
        content=b"garbage without any boundary",
        timeout=10,
    )
    assert r.status_code == 422
