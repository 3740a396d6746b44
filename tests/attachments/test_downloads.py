"""LINE and Kakao files fetched after the commit, against local stand-ins of their servers."""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from consult119.attachments import service
from consult119.attachments.fetch import FetchRefused, fetch_into
from consult119.attachments.models import Attachment
from consult119.attachments.store import AttachmentStore, TooLarge
from consult119.realtime.models import Event
from consult119.tickets.models import Message
from tests.attachments import images
from tests.attachments.standin import StandIn
from tests.channels.conftest import fixture_bytes, fixture_json, wait_for
from tests.channels.test_kakao_line import KAKAO_SECRET, LINE_SECRET, line_post, skill
from tests.conftest import LiveServer
from tests.tickets.conftest import open_case


@pytest.fixture(scope="module")
def module_standin():
    with StandIn() as server:
        yield server


@pytest.fixture
def standin(module_standin):
    """The module's stand-in, with no routes and no requests left from an earlier test."""
    module_standin.routes.clear()
    module_standin.requests.clear()
    return module_standin


def fetch(url, tmp_path, *, hosts=("localhost",), allow_plain_http=True, limit=1 << 20):
    store = AttachmentStore(tmp_path / "store")

    async def go():
        async with httpx.AsyncClient() as client:
            with store.spool(limit=limit) as spool:
                await fetch_into(
                    client,
                    url,
                    spool,
                    hosts=frozenset(hosts),
                    timeout=5,
                    allow_plain_http=allow_plain_http,
                )
                spool.finish()
                return spool.path.read_bytes()

    return asyncio.run(go())


def test_an_allowed_host_is_fetched(standin, tmp_path):
    standin.routes["/img/a.jpg"] = (200, {"Content-Type": "image/jpeg"}, images.photo("JPEG"))
    url = f"http://localhost:{standin.port}/img/a.jpg"
    assert fetch(url, tmp_path) == images.photo("JPEG")


def test_a_redirect_to_loopback_is_refused(standin, tmp_path):
    standin.routes["/img/a.jpg"] = (302, {"Location": f"http://127.0.0.1:{standin.port}/x"}, b"")
    with pytest.raises(FetchRefused) as refused:
        fetch(f"http://localhost:{standin.port}/img/a.jpg", tmp_path)
    assert refused.value.reason == "redirect_to_other_host"
    assert [path for path, _ in standin.requests] == ["/img/a.jpg"]  # never followed


def test_a_redirect_on_the_same_host_is_followed(standin, tmp_path):
    standin.routes["/a"] = (301, {"Location": "/b"}, b"")
    standin.routes["/b"] = (200, {}, images.pdf())
    assert fetch(f"http://localhost:{standin.port}/a", tmp_path) == images.pdf()


@pytest.mark.parametrize(
    ("url", "hosts", "allow", "reason"),
    [
        ("https://evil.example.net/a.jpg", ("talk.kakaocdn.net",), False, "host_not_allowed"),
        ("http://talk.kakaocdn.net/a.jpg", ("talk.kakaocdn.net",), False, "not_https"),
        # A loopback or private address is refused before any connection is made.
        ("https://127.0.0.1/a.jpg", ("127.0.0.1",), False, "private_address"),
        ("https://localhost/a.jpg", ("localhost",), False, "private_address"),
        ("https://10.0.0.8/a.jpg", ("10.0.0.8",), False, "private_address"),
        ("https://169.254.169.254/latest", ("169.254.169.254",), False, "private_address"),
        ("https://[::1]/a.jpg", ("::1",), False, "private_address"),
        (
            "https://u:p@talk.kakaocdn.net/a.jpg",
            ("talk.kakaocdn.net",),
            False,
            "credentials_in_url",
        ),
    ],
)
def test_urls_that_point_elsewhere_are_refused(tmp_path, url, hosts, allow, reason):
    with pytest.raises(FetchRefused) as refused:
        fetch(url, tmp_path, hosts=hosts, allow_plain_http=allow)
    assert refused.value.reason == reason


def test_a_file_over_the_cap_stops(standin, tmp_path):
    standin.routes["/big"] = (200, {}, b"x" * 5000)
    with pytest.raises(TooLarge):
        fetch(f"http://localhost:{standin.port}/big", tmp_path, limit=4000)


# ---- the job, in a live server ---------------------------------------------------------------


def pending(db, ticket_id, remote):
    with db.unit_of_work() as session:
        message_id = session.scalars(
            select(Message.id).where(Message.ticket_id == ticket_id).order_by(Message.id)
        ).first()
        (row,) = service.add_to_message(session, message_id, [remote], now=_now())
        return row.id


def _now():
    from consult119.db import utcnow

    return utcnow()


def row_of(db, attachment_id):
    with db.read_session() as session:
        return session.get(Attachment, attachment_id)


@pytest.fixture(scope="module")
def downloading_server(database_url, tmp_path_factory, module_standin):
    """One server for the module's download tests (each waits until its file is stored or
    failed, so no download is left running when the next test empties the tables)."""
    server = LiveServer(
        database_url,
        env_extra={
            "CONSULT119_LINE_API_BASE": f"http://localhost:{module_standin.port}",
            "CONSULT119_LINE_CHANNEL_TOKEN": "line-token-123",
            "CONSULT119_KAKAO_MEDIA_HOSTS": "localhost",
            "CONSULT119_MEDIA_ALLOW_PLAIN_HTTP": "true",
            "CONSULT119_OUTBOUND_POLL_SECONDS": "0.2",
            "CONSULT119_OUTBOUND_RETRY_BASE_SECONDS": "0.2",
            "CONSULT119_MEDIA_FETCH_ATTEMPTS": "2",
        },
    )
    server.start(tmp_path_factory.mktemp("downloads") / "server.log")
    yield server
    server.stop()


def test_a_line_photo_arrives_after_the_commit(db, standin, downloading_server):
    heic = images.photo("HEIF")
    standin.routes["/v2/bot/message/5551234/content"] = (200, {"Content-Type": "image/heic"}, heic)
    ticket_id = open_case(downloading_server, "사진 보냅니다")
    attachment_id = pending(db, ticket_id, service.RemoteFile("line", "5551234", "line-image"))
    assert row_of(db, attachment_id).state == "pending"  # "photo arriving" until then

    row = wait_for(
        lambda: (r := row_of(db, attachment_id)).state != "pending" and r, what="the download"
    )
    assert (row.state, row.content_type, row.width, row.height) == ("stored", "image/jpeg", 64, 32)
    path, headers = standin.requests[0]
    assert path == "/v2/bot/message/5551234/content"
    assert headers["Authorization"] == "Bearer line-token-123"
    store = AttachmentStore(downloading_server.log_path.parent / "attachments")
    with Image.open(io.BytesIO(store.path_of(row.sha256).read_bytes())) as im:
        assert im.format == "JPEG"
    with db.read_session() as session:
        event = session.scalars(select(Event).where(Event.name == "attachment.updated")).one()
    assert event.ticket_id == ticket_id
    assert event.data["attachment"]["id"] == attachment_id
    assert event.data["attachment"]["state"] == "stored"


def test_a_line_file_that_is_gone_fails_and_says_so(db, standin, downloading_server):
    ticket_id = open_case(downloading_server, "파일")
    attachment_id = pending(db, ticket_id, service.RemoteFile("line", "404404", "report.pdf"))
    row = wait_for(
        lambda: (r := row_of(db, attachment_id)).state != "pending" and r, what="the failure"
    )
    assert row.state == "failed" and row.sha256 is None


def test_a_server_error_is_retried(db, standin, downloading_server):
    standin.routes["/v2/bot/message/777/content"] = (503, {}, b"busy")
    ticket_id = open_case(downloading_server, "사진")
    attachment_id = pending(db, ticket_id, service.RemoteFile("line", "777", "p"))
    row = wait_for(
        lambda: (r := row_of(db, attachment_id)).state != "pending" and r, what="the retries"
    )
    assert row.state == "failed" and row.attempts == 2
    assert [p for p, _ in standin.requests].count("/v2/bot/message/777/content") == 2


def test_a_kakao_url_redirecting_to_loopback_is_refused(db, standin, downloading_server):
    standin.routes["/dn/a.jpg"] = (302, {"Location": f"http://127.0.0.1:{standin.port}/x"}, b"")
    standin.routes["/x"] = (200, {}, images.photo("JPEG"))
    ticket_id = open_case(downloading_server, "카카오 사진")
    attachment_id = pending(
        db,
        ticket_id,
        service.RemoteFile("kakao", f"http://localhost:{standin.port}/dn/a.jpg", "kakao.jpg"),
    )
    row = wait_for(
        lambda: (r := row_of(db, attachment_id)).state != "pending" and r, what="the refusal"
    )
    assert row.state == "failed" and row.attempts == 1  # refused at once, not retried
    assert "/x" not in [p for p, _ in standin.requests]


def test_a_kakao_photo_from_an_allowed_host_is_stored(db, standin, downloading_server):
    standin.routes["/dn/b.png"] = (200, {"Content-Type": "image/png"}, images.photo("PNG"))
    ticket_id = open_case(downloading_server, "카카오 사진 2")
    attachment_id = pending(
        db,
        ticket_id,
        service.RemoteFile("kakao", f"http://localhost:{standin.port}/dn/b.png", "b.png"),
    )
    row = wait_for(
        lambda: (r := row_of(db, attachment_id)).state != "pending" and r, what="the download"
    )
    assert (row.state, row.content_type) == ("stored", "image/png")


# ---- from the channel's own request to the stored photo ---------------------------------------


def test_a_line_image_webhook_shows_the_photo_after_it_arrives(db, standin, start_server):
    standin.routes["/v2/bot/message/468789577898262531/content"] = (200, {}, images.photo("JPEG"))
    server = start_server(
        CONSULT119_LINE_CHANNEL_SECRET=LINE_SECRET,
        CONSULT119_LINE_CHANNEL_TOKEN="line-token",
        CONSULT119_LINE_API_BASE=f"http://localhost:{standin.port}",
        CONSULT119_MEDIA_ALLOW_PLAIN_HTTP="true",
        CONSULT119_OUTBOUND_POLL_SECONDS="0.2",
    )
    assert line_post(server, fixture_bytes("line_webhook.json")).status_code == 200
    row = wait_for(
        lambda: (r := _only_row(db)) is not None and r.state == "stored" and r,
        what="the LINE photo",
    )
    assert (row.remote_source, row.remote_ref, row.content_type) == (
        "line",
        "468789577898262531",
        "image/jpeg",
    )
    with db.read_session() as session:
        message = session.get(Message, row.message_id)
    assert message.text == "[image]"


def test_a_kakao_photo_from_the_skill_request(db, standin, start_server):
    standin.routes["/dn/c.jpg"] = (200, {}, images.photo("PNG"))
    server = start_server(
        CONSULT119_KAKAO_SKILL_SECRET=KAKAO_SECRET,
        CONSULT119_KAKAO_MEDIA_HOSTS="localhost",
        CONSULT119_MEDIA_ALLOW_PLAIN_HTTP="true",
        CONSULT119_OUTBOUND_POLL_SECONDS="0.2",
    )
    payload = fixture_json("kakao_skill.json")
    payload["userRequest"]["params"] = {
        "media": {"type": "image", "url": f"http://localhost:{standin.port}/dn/c.jpg"}
    }
    r = skill(server, payload)
    assert r.status_code == 200
    row = wait_for(
        lambda: (r := _only_row(db)) is not None and r.state == "stored" and r,
        what="the Kakao photo",
    )
    assert (row.remote_source, row.content_type) == ("kakao", "image/png")


def _only_row(db):
    with db.read_session() as session:
        return session.scalars(select(Attachment)).first()
