"""Web-chat tokens: opaque (they reveal nothing), ended by staff or by time, in every process."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import websockets
from sqlalchemy import select, update

from consult119.audit.models import AuditEntry
from consult119.channels.webchat.models import WebchatSession
from consult119.db import utcnow
from consult119.tickets.models import Message, Ticket
from tests.channels.test_webchat import new_session, recv
from tests.conftest import LiveServer
from tests.factories import make_staff

TRAVELLER = {"name": "Kim Minji", "phone": "+81 90-1234-5678", "email": "minji@example.org"}


@pytest.fixture(scope="module")
def servers(database_url, tmp_path_factory) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two processes on one database: a revocation through one must hold on the other."""
    started = []
    try:
        for name in ("a", "b"):
            server = LiveServer(database_url)
            started.append(server.start(tmp_path_factory.mktemp(f"webchat-{name}") / "server.log"))
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


async def closed_code(ws) -> int:
    with pytest.raises(websockets.ConnectionClosed) as exc:
        while True:
            await asyncio.wait_for(ws.recv(), 15)
    assert exc.value.rcvd is not None
    return exc.value.rcvd.code


async def connect(server: LiveServer, token: str):
    ws = await websockets.connect(f"{server.ws_url}/ws/chat")
    await ws.send(json.dumps({"type": "auth", "token": token}))
    return ws


def decodings(token: str) -> list[bytes]:
    """Every piece of the token read as base64 (url-safe and standard), as far as it goes."""
    out = []
    for piece in [token, *re.split(r"[._\-~]", token)]:
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            for pad in range(4):
                with contextlib.suppress(binascii.Error, ValueError):
                    out.append(decode(piece + "=" * pad))
    return out


def test_token_reveals_nothing(servers, db):
    server, _ = servers
    token = new_session(server, **TRAVELLER)
    readable = [token.lower(), *(d.decode("utf-8", "replace").lower() for d in decodings(token))]
    for text in readable:
        # Words of five characters or more: random bytes never spell them by chance.
        for secret in ("minji", "9012345678", "example.org", "minji@"):
            assert secret not in text, (secret, text)
    with db.read_session() as s:
        row = s.scalars(select(WebchatSession)).one()
    # Only its hash is kept; what the traveller said is on the server, not in the token.
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(row.claims)
    assert row.claims["phone"] == "+819012345678" and row.claims["name"] == "Kim Minji"


def test_revoked_token_is_refused_on_every_process(servers, db):
    server, other = servers
    emt = make_staff(db, "emt")
    manager = make_staff(db, "manager")
    token = new_session(server, **TRAVELLER)

    async def scenario():
        here = await connect(server, token)
        await recv(here, "ready")
        await here.send(json.dumps({"type": "message", "text": "help", "client_id": "c1"}))
        ticket_id = (await recv(here, "ack"))["case_number"]
        there = await connect(other, token)
        await recv(there, "ready")

        def revoke(login):
            with db.read_session() as s:
                ticket = s.scalars(select(Ticket.id)).one()
            with httpx.Client(base_url=server.url, headers=login.headers(server.url)) as http:
                return http.post(f"/api/v1/tickets/{ticket}/webchat/revoke", timeout=10)

        forbidden = await asyncio.to_thread(revoke, manager)
        done = await asyncio.to_thread(revoke, emt)
        here_code = await closed_code(here)  # this process closes it at once
        # The other process refuses the next frame of its socket, storing nothing.
        await there.send(json.dumps({"type": "message", "text": "more", "client_id": "c2"}))
        there_code = await closed_code(there)
        again = await connect(other, token)
        again_code = await closed_code(again)
        return ticket_id, forbidden, done, here_code, there_code, again_code

    case_number, forbidden, done, here_code, there_code, again_code = asyncio.run(scenario())
    assert forbidden.status_code == 403
    assert done.status_code == 200, done.text
    assert done.json() == {"revoked": 1, "closed": 1}
    assert (here_code, there_code, again_code) == (4401, 4401, 4401)
    with db.read_session() as s:
        assert [m.text for m in s.scalars(select(Message))] == ["help"]
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "webchat.revoke")).one()
        row = s.scalars(select(WebchatSession)).one()
    assert entry.staff_id == emt.id and entry.detail == {"case_number": case_number, "sessions": 1}
    assert row.revoked_by == emt.id and row.revoked_at is not None

    # A new session of the same traveller works; revoking twice revokes nothing more.
    fresh = new_session(server, **TRAVELLER)

    async def fresh_ready():
        ws = await connect(other, fresh)
        frame = await recv(ws, "ready")
        await ws.close()
        return frame

    assert asyncio.run(fresh_ready())["type"] == "ready"
    with httpx.Client(base_url=server.url, headers=emt.headers(server.url)) as http:
        ticket = http.get("/api/v1/tickets").json()["items"][0]["id"]
        assert http.post(f"/api/v1/tickets/{ticket}/webchat/revoke").json()["revoked"] == 0
        r = http.post("/api/v1/tickets/99999/webchat/revoke")
        assert r.status_code == 404 and r.json()["detail"]["code"] == "ticket_not_found"


def test_expired_token_is_refused(servers, db):
    server, _ = servers
    token = new_session(server)

    async def open_then_expire():
        ws = await connect(server, token)
        await recv(ws, "ready")
        with db.unit_of_work() as s:
            s.execute(update(WebchatSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        await ws.send(json.dumps({"type": "message", "text": "help", "client_id": "c1"}))
        open_code = await closed_code(ws)
        new_code = await closed_code(await connect(server, token))
        return open_code, new_code

    assert asyncio.run(open_then_expire()) == (4401, 4401)
    with db.read_session() as s:
        assert s.scalars(select(Message)).all() == []
