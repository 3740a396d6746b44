"""Bad input against a live server: deep JSON, overflowing dates and ids, huge bodies — each a
clear 4xx (or a clean WebSocket close), never a 500 and never a hang (docs/security.md,
"Input limits")."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import time

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from consult119.jsonsafe import MAX_JSON_DEPTH
from tests import forkserver
from tests.conftest import TEST_SECRET, LiveServer
from tests.console.helpers import close_code, open_console, open_socket, recv
from tests.factories import make_staff, make_ticket

INTAKE_SECRET = "intake-secret-for-tests"
LINE_SECRET = "line-secret-for-tests"
KAKAO_SECRET = "kakao-secret-for-tests"
KAKAO_HEADER = "X-Consult119-Skill-Secret"

#: Deep documents that fit every intake route's size limit (the web-chat session's 8 KiB is
#: the smallest) and still pass Python's recursion limit: without the depth limit, a 500.
DEEP = {
    "arrays": b"[" * 5000,
    "objects": b'{"a":' * 1500,
}
OVERFLOWING = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"]
BEYOND_64_BITS = str(2**63)


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    """One live server for the module, every channel configured with a secret."""
    live = LiveServer(
        database_url,
        env_extra={
            "CONSULT119_INTAKE_SECRET": INTAKE_SECRET,
            "CONSULT119_LINE_CHANNEL_SECRET": LINE_SECRET,
            "CONSULT119_KAKAO_SKILL_SECRET": KAKAO_SECRET,
        },
    )
    live.start(tmp_path_factory.mktemp("input-limits") / "server.log")
    yield live
    live.stop()


def signed_headers(path: str, body: bytes) -> dict[str, str]:
    """The headers each intake route wants for ``body``: its content type and signature."""
    headers = {"Content-Type": "application/json"}
    if path in ("/api/v1/intake/chat", "/api/v1/intake/phone/events"):
        mac = hmac.new(INTAKE_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Consult119-Signature"] = f"sha256={mac}"
    elif path == "/api/v1/intake/line":
        mac = hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()
        headers["X-Line-Signature"] = base64.b64encode(mac).decode()
    elif path == "/api/v1/intake/kakao":
        headers[KAKAO_HEADER] = KAKAO_SECRET
    return headers


def detail_code(response: httpx.Response) -> str:
    return response.json()["detail"]["code"]


INTAKE_PATHS = [
    "/api/v1/intake/chat",
    "/api/v1/intake/kakao",
    "/api/v1/intake/line",
    "/api/v1/intake/phone/events",
    "/api/v1/webchat/sessions",
]


@pytest.mark.parametrize("path", INTAKE_PATHS)
@pytest.mark.parametrize("shape", sorted(DEEP))
def test_deep_json_on_intake_routes_is_invalid_json(server, db, path, shape):
    body = DEEP[shape]
    r = httpx.post(server.url + path, content=body, headers=signed_headers(path, body), timeout=10)
    assert r.status_code == 422, r.text
    assert detail_code(r) == "invalid_json"
    # Just inside the limit is not refused for its depth (the route judges the content).
    inside = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    r = httpx.post(
        server.url + path, content=inside, headers=signed_headers(path, inside), timeout=10
    )
    assert r.status_code == 422 and detail_code(r) == "not_an_object", r.text


def test_deep_json_on_model_routes_is_invalid_json(server, db):
    """FastAPI parses these bodies itself: the shared body limit refuses them first."""
    admin = make_staff(db, "admin")
    emt = make_staff(db, "emt", on_duty=True)
    ticket_id = make_ticket(db)
    cases = [
        (admin, "/api/v1/staff"),
        (admin, "/api/v1/roster"),
        (emt, "/api/v1/tickets"),
        (emt, f"/api/v1/tickets/{ticket_id}/triage"),
        (emt, f"/api/v1/tickets/{ticket_id}/merge"),
    ]
    for who, path in cases:
        headers = {**who.headers(server.url), "Content-Type": "application/json"}
        for shape in (b"[" * 20000, b'{"a":' * 1500, b'{"text": ' + b"[" * 900 + b"]" * 900):
            r = httpx.post(server.url + path, content=shape, headers=headers, timeout=10)
            assert r.status_code == 422, (path, shape[:20], r.text)
            assert detail_code(r) == "invalid_json", (path, r.text)


def test_deep_json_frames_close_cleanly_or_answer_an_error(server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    token = doctor.token(server.url)
    session = httpx.post(f"{server.url}/api/v1/webchat/sessions", json={}, timeout=10)
    chat_token = session.json()["token"]
    deep = "[" * 5000

    async def scenario():
        # /ws/console: a deep first frame closes with 4400 invalid_json ...
        ws = await open_socket(server)
        await ws.send(deep)
        assert await close_code(ws) == (4400, "invalid_json")
        # ... and a deep later frame is answered with an error; the console stays open.
        console = await open_console(server, token)
        await console.ws.send(deep)
        error = await console.until(lambda f: f["type"] == "error")
        assert error["code"] == "invalid_json"
        await console.send({"type": "ping"})
        await console.until(lambda f: f["type"] == "pong")
        await console.ws.close()

        # /ws/chat: a deep first frame closes (4401, no session) ...
        async with websockets.connect(f"{server.ws_url}/ws/chat") as ws:
            await ws.send(deep)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        # ... and a deep later frame is answered with an error; the chat stays open.
        async with websockets.connect(f"{server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": chat_token}))
            while (await recv(ws))["type"] != "ready":
                pass
            await ws.send(deep)
            frame = await recv(ws)
            while frame["type"] != "error":
                frame = await recv(ws)
            assert frame["code"] == "invalid_json"
            await ws.send(json.dumps({"type": "ping"}))
            while (await recv(ws))["type"] != "pong":
                pass

    asyncio.run(scenario())


@pytest.mark.parametrize("moment", OVERFLOWING)
def test_overflowing_dates_are_422(server, db, moment):
    admin = make_staff(db, "admin")
    headers = admin.headers(server.url)
    body = json.dumps(
        {
            "source": "telegram",
            "sender_id": "u1",
            "message_id": "m1",
            "text": "hi",
            "sent_at": moment,
        }
    ).encode()
    path = "/api/v1/intake/chat"
    r = httpx.post(server.url + path, content=body, headers=signed_headers(path, body), timeout=10)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "sent_at", r.text

    for field in ("start", "end"):
        shift = {"staff_id": admin.id, "start": "2030-01-01T00:00:00Z"}
        shift["end"] = "2030-01-01T08:00:00Z"
        shift[field] = moment
        r = httpx.post(f"{server.url}/api/v1/roster", json=shift, headers=headers, timeout=10)
        assert r.status_code == 422 and r.json()["detail"]["field"] == field, r.text

    filters = [
        ("/api/v1/audit", "since"),
        ("/api/v1/audit", "until"),
        ("/api/v1/roster", "at"),
        ("/api/v1/roster", "start"),
        ("/api/v1/roster", "end"),
        ("/api/v1/reports/channel-share", "start"),
        ("/api/v1/reports/channel-share", "end"),
    ]
    for path, name in filters:
        params = {"start": "2024-01-01", "end": "2025-01-01"} if "reports" in path else {}
        params[name] = moment
        r = httpx.get(server.url + path, params=params, headers=headers, timeout=10)
        assert r.status_code == 422, (path, name, r.text)
        assert r.json()["detail"]["field"] == name, r.text


@pytest.mark.parametrize("moment", OVERFLOWING)
def test_cli_roster_add_refuses_overflowing_times(server, db, moment, tmp_path):
    doctor = make_staff(db, "doctor")
    env = {"CONSULT119_DATABASE_URL": server.database_url, "CONSULT119_SECRET_KEY": TEST_SECRET}
    proc = forkserver.run(
        [sys.executable, "-m", "consult119.cli", "roster", "add", doctor.email]
        + ["--start", moment, "--end", "2030-01-01T08:00:00Z"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "--start" in proc.stderr


def test_ids_and_numbers_past_64_bits_are_422(server, db):
    admin = make_staff(db, "admin")
    emt = make_staff(db, "emt", on_duty=True)
    manager = make_staff(db, "manager")
    ticket_id = make_ticket(db)
    big = BEYOND_64_BITS
    cases = [
        (admin, "POST", f"/api/v1/staff/{big}/disable", None, None),
        (admin, "POST", f"/api/v1/staff/{big}/role", {"role": "emt"}, None),
        (admin, "POST", "/api/v1/roster", None, None),
        (admin, "GET", "/api/v1/tickets", None, {"offset": big}),
        (admin, "GET", "/api/v1/audit", None, {"offset": big}),
        (admin, "GET", "/api/v1/audit", None, {"staff_id": big}),
        (admin, "GET", "/api/v1/audit", None, {"ticket_id": big}),
        (admin, "GET", "/api/v1/roster", None, {"staff_id": big}),
        (emt, "GET", f"/api/v1/tickets/{big}", None, None),
        (emt, "GET", f"/api/v1/tickets/{big}/links", None, None),
        (emt, "POST", f"/api/v1/tickets/{big}/merge", {"into_ticket_id": ticket_id}, None),
        (emt, "POST", f"/api/v1/tickets/{ticket_id}/merge", {"into_ticket_id": 2**63}, None),
        (emt, "POST", f"/api/v1/tickets/{ticket_id}/assign", {"staff_id": 2**63}, None),
        (manager, "GET", "/api/v1/reports/monthly", None, {"year": "9" * 5000}),
    ]
    for who, method, path, body, params in cases:
        if path == "/api/v1/roster" and method == "POST":
            body = {"staff_id": 2**63, "start": "2030-01-01T00:00Z", "end": "2030-01-01T08:00Z"}
        r = httpx.request(
            method,
            server.url + path,
            json=body,
            params=params,
            headers=who.headers(server.url),
            timeout=10,
        )
        assert r.status_code == 422, (method, path, params, r.text)
        assert detail_code(r) == "invalid_field", (path, r.text)


def _read_response(sock: socket.socket) -> str:
    """One whole HTTP response: the head and the body its Content-Length names (the server may
    send them in separate writes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data.decode()
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode()


def test_a_30_mb_body_to_a_staff_route_is_413_at_once(server, db):
    admin = make_staff(db, "admin")
    headers = {**admin.headers(server.url), "Content-Type": "application/json"}
    started = time.monotonic()
    # Declared: refused on the headers, before a byte of the body is read.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = (
            "POST /api/v1/staff HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: {headers['Authorization']}\r\nContent-Length: {30 * 2**20}\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"email": "')
        answer = _read_response(sock)
    assert answer.startswith("HTTP/1.1 413"), answer
    assert '"body_too_large"' in answer

    # Streamed without a length: refused once the bytes counted pass the limit.
    def chunks():
        yield b'{"email": "'
        for _ in range(30):
            yield b"a" * 2**20

    try:
        r = httpx.post(f"{server.url}/api/v1/staff", content=chunks(), headers=headers, timeout=30)
        assert r.status_code == 413 and detail_code(r) == "body_too_large", r.text
    except httpx.WriteError:
        pass  # the server answered and closed before the client finished sending: refused
    assert time.monotonic() - started < 10
    # A normal body still goes through.
    r = httpx.post(
        f"{server.url}/api/v1/staff",
        json={"email": "new@example.org", "name": "N", "role": "emt", "password": "long-enough"},
        headers=headers,
        timeout=10,
    )
    assert r.status_code == 201, r.text
