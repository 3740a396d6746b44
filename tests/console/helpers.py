"""A small console client for the tests: real ``websockets`` connections to a live server."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from consult119.db import utcnow
from tests.factories import add_shift, make_staff

TIMEOUT = 20.0


async def open_socket(server, *, small_buffer: bool = False) -> ClientConnection:
    """A raw console socket (not yet authenticated)."""
    sock = None
    if small_buffer:
        # A tiny receive window: a client that stops reading backs the server up quickly.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
    return await connect(
        f"{server.ws_url}/ws/console",
        sock=sock,
        open_timeout=TIMEOUT,
        max_size=None,
        max_queue=4 if small_buffer else 16,
    )


async def recv(ws: ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def close_code(ws: ClientConnection, timeout: float = TIMEOUT) -> tuple[int, str]:
    """Read until the server closes; the close code and reason."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as exc:
        assert exc.rcvd is not None, "closed without a close frame"
        return exc.rcvd.code, exc.rcvd.reason


@dataclass
class Console:
    """An authenticated console: the frames before ``ready`` and the live events after."""

    ws: ClientConnection
    before_ready: list[dict[str, Any]]
    ready: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def snapshot(self) -> dict[str, Any] | None:
        return next((f for f in self.before_ready if f["type"] == "snapshot"), None)

    @property
    def replayed(self) -> list[dict[str, Any]]:
        return [f for f in self.before_ready if f["type"] == "event"]

    @property
    def last_id(self) -> int:
        return self.events[-1]["id"] if self.events else self.ready["last_event_id"]

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def next_frame(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = await recv(self.ws, timeout)
        if frame["type"] == "event":
            self.events.append(frame)
        return frame

    async def until(self, predicate, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Read frames until one matches; returns it."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next_frame()
                if predicate(frame):
                    return frame

    async def until_event_count(self, n: int, timeout: float = TIMEOUT) -> None:
        async with asyncio.timeout(timeout):
            while len(self.events) < n:
                await self.next_frame()

    async def close(self) -> None:
        await self.ws.close()


async def open_console(
    server, token: str, *, resume_after: int | None = None, small_buffer: bool = False
) -> Console:
    ws = await open_socket(server, small_buffer=small_buffer)
    auth: dict[str, Any] = {"type": "auth", "token": token}
    if resume_after is not None:
        auth["resume_after"] = resume_after
    await ws.send(json.dumps(auth))
    before: list[dict[str, Any]] = []
    while True:
        frame = await recv(ws)
        if frame["type"] == "ready":
            return Console(ws, before, frame)
        before.append(frame)


async def chat(server, sender_id: str, message_id: str, text: str = "가슴이 아파요") -> dict:
    """Send one message through the chat intake; returns its answer."""
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        r = await client.post(
            f"{server.url}/api/v1/intake/chat",
            json={
                "source": "kakao",
                "sender_id": sender_id,
                "message_id": message_id,
                "text": text,
            },
        )
    assert r.status_code in (200, 201), r.text
    return r.json()


def token_of(server, login) -> str:
    return login.token(server.url)


def doctor_on_duty_past_the_look_ahead(db, **staff):
    """An on-duty doctor also rostered for the next day and a half. The factory's shift alone
    ends in 11 h, inside the 12 h roster look-ahead, so any scheduler tick would add a
    ``roster_gap`` alert to an event log a test counts exactly."""
    now = utcnow()
    doctor = make_staff(db, "doctor", on_duty=True, **staff)
    add_shift(db, doctor.id, now + timedelta(hours=11), now + timedelta(hours=36))
    return doctor
