"""``/ws/console``: the staff console's real-time stream (protocol in docs/realtime.md).

One :class:`ConsoleConnection` per socket. It authenticates the first frame, subscribes to the
hub *before* reading its snapshot or replay (so nothing falls between the two), sends that
catch-up directly, then becomes the connection's sender, draining its bounded buffer, while
one task reads the client's frames. Whatever comes first (the client leaving, the buffer
overflowing, the token expiring, the account being disabled or its role changed) stops the
subscriber, and the sender returns. One task besides the handler, no queue until there is
something to send: an idle console costs little. Database work runs in worker
threads in short sessions; the socket never holds one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from consult119 import jsonsafe
from consult119.auth.deps import authenticate_token
from consult119.auth.security import TokenClaims
from consult119.console.presence import apply_presence
from consult119.console.runtime import ConsoleRuntime, get_runtime
from consult119.console.shaping import audience, shape_event
from consult119.console.snapshot import (
    plan_resume,
    read_replay,
    read_snapshot,
    record_replay_access,
)
from consult119.db import Database
from consult119.errors import DomainError, Unauthorized
from consult119.metrics import CONSOLE_CONNECTIONS
from consult119.realtime.hub import Subscriber, encode
from consult119.realtime.relay import iso
from consult119.staff import repository as staff_repo
from consult119.staff.models import Staff

log = logging.getLogger(__name__)

router = APIRouter()

#: Close codes (docs/realtime.md). 4xxx mirror the HTTP status they resemble.
CLOSE_TRY_AGAIN = 1013  # the console runtime is not running (start-up or shutdown)
CLOSE_BAD_FIRST_FRAME = 4400  # the first frame is not a well-formed auth frame
CLOSE_UNAUTHORIZED = 4401  # bad, expired or revoked token; disabled account; role changed
CLOSE_AUTH_TIMEOUT = 4408  # no auth frame within the time allowed
CLOSE_RESUME = 4409  # the client fell behind: reconnect with resume_after

_DISCONNECTED = (WebSocketDisconnect, OSError, RuntimeError)


class FrameError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_frame(message: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """A client frame as a JSON object with a string ``type``, or :class:`FrameError`."""
    if message.get("text") is None:
        raise FrameError("binary_frame", "Frames are JSON text; binary frames are not accepted.")
    text: str = message["text"]
    if len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes:
        raise FrameError("frame_too_large", f"A frame may hold at most {max_bytes} bytes.")
    try:
        frame = jsonsafe.loads(text)
    except ValueError:  # malformed, or nested past jsonsafe.MAX_JSON_DEPTH
        raise FrameError("invalid_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise FrameError("invalid_frame", 'A frame is a JSON object with a string "type".')
    return frame


def access_ended(db: Database, staff_id: int, role: str) -> str | None:
    """Why the account behind a console may no longer use it (None while it may)."""
    with db.read_session() as session:
        row = staff_repo.access_of(session, staff_id)
    if row is None or row.disabled:
        return "account_disabled"
    if row.role != role:
        return "role_changed"
    return None


def error_frame(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}


async def console_socket(websocket: WebSocket) -> None:
    """The staff console stream: authenticate, catch up, then live events."""
    runtime = get_runtime(websocket.app.state.ctx)
    await websocket.accept()
    if runtime is None:
        await websocket.close(CLOSE_TRY_AGAIN, "unavailable")
        return
    CONSOLE_CONNECTIONS.inc()
    try:
        await ConsoleConnection(websocket, runtime).run()
    finally:
        CONSOLE_CONNECTIONS.dec()


# A plain Starlette route: the console takes no FastAPI dependencies, and skipping their
# machinery leaves three exit stacks and their coroutine frames out of every open console.
router.add_websocket_route("/ws/console", console_socket)


class ConsoleConnection:
    """One console socket from its first frame to its close."""

    def __init__(self, websocket: WebSocket, runtime: ConsoleRuntime) -> None:
        self.ws = websocket
        self.runtime = runtime
        self.ctx = runtime.ctx
        self.settings = runtime.settings
        self.sub: Subscriber | None = None
        self._close_with: tuple[int, str] | None = None

    async def run(self) -> None:
        auth = await self._authenticate()
        if auth is None:
            return
        staff, claims, resume_after = auth
        assert staff.id is not None
        # Keep plain values, not the ORM row and the claims, for the life of the socket.
        staff_id, role, presence, expires_at = (
            staff.id,
            claims.role,
            staff.presence,
            claims.expires_at,
        )
        del auth, staff, claims
        hub = self.runtime.hub
        sub = self.sub = Subscriber(
            audience=audience(role),
            staff_id=staff_id,
            queue_size=self.settings.console_queue_size,
            on_overflow=self._on_overflow,
            on_revoke=self._on_revoke,
        )
        hub.subscribe(sub)
        reader: asyncio.Task[None] | None = None
        expiry: asyncio.TimerHandle | None = None
        try:
            # Checked again once subscribed: a disable committed after the token check either
            # shows here or arrives as an event this subscription revokes on. No gap between.
            ended = await self.runtime.run(access_ended, self.ctx.db, staff_id, role)
            if ended is not None:
                sub.revoke(ended)
                return
            await self._catch_up(staff_id, resume_after)
            if not sub.stopped:
                await self.runtime.presence.connected(staff_id, presence)
                ttl = (expires_at - self.ctx.now()).total_seconds()
                expiry = asyncio.get_running_loop().call_later(max(ttl, 0.0), self._expire)
                reader = asyncio.create_task(self._read_loop(staff_id))
                await self._send_loop(sub)
        except _DISCONNECTED:
            pass
        finally:
            if expiry is not None:
                expiry.cancel()
            if reader is not None:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
            hub.unsubscribe(sub)
            self.runtime.presence.disconnected(staff_id)
        if self._close_with is not None:
            await self._close(*self._close_with)

    def _expire(self) -> None:
        if self.sub is not None and not self.sub.stopped:
            self._close_with = (CLOSE_UNAUTHORIZED, "token_expired")
            self.sub.stop()

    def _on_overflow(self) -> None:
        # Called by the hub from publish(): only note it; the subscriber stops itself and
        # the close happens in run().
        self._close_with = (CLOSE_RESUME, "resume")

    def _on_revoke(self, reason: str) -> None:
        # The hub saw the account disabled or its role changed (on any process).
        self._close_with = (CLOSE_UNAUTHORIZED, reason)

    async def _close(self, code: int, reason: str) -> None:
        """Close with ``code``; a client that reads nothing may never take the close frame,
        so give up after ``console_close_timeout`` and let the server drop the socket."""
        try:
            await asyncio.wait_for(self.ws.close(code, reason), self.settings.console_close_timeout)
        except (TimeoutError, *_DISCONNECTED):
            pass

    async def _send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_text(encode(frame))

    def _reply(self, frame: dict[str, Any]) -> None:
        """Replies go through the buffer, so the sender stays the only writer."""
        assert self.sub is not None
        self.sub.offer(None, encode(frame))

    async def _authenticate(self) -> tuple[Staff, TokenClaims, int | None] | None:
        try:
            message = await asyncio.wait_for(self.ws.receive(), self.settings.console_auth_timeout)
        except TimeoutError:
            await self._close(CLOSE_AUTH_TIMEOUT, "auth_timeout")
            return None
        except _DISCONNECTED:
            return None
        if message["type"] == "websocket.disconnect":
            return None
        try:
            frame = parse_frame(message, self.settings.console_max_frame_bytes)
        except FrameError as exc:
            await self._close(CLOSE_BAD_FIRST_FRAME, exc.code)
            return None
        if frame["type"] != "auth":
            await self._close(CLOSE_BAD_FIRST_FRAME, "auth_required")
            return None
        resume_after = frame.get("resume_after")
        if resume_after is not None and (
            isinstance(resume_after, bool) or not isinstance(resume_after, int) or resume_after < 0
        ):
            await self._close(CLOSE_BAD_FIRST_FRAME, "invalid_resume_after")
            return None
        token = frame.get("token")
        try:
            staff, claims = await self.runtime.run(
                authenticate_token, self.ctx, token if isinstance(token, str) else None
            )
        except Unauthorized as exc:
            await self._close(CLOSE_UNAUTHORIZED, exc.code)
            return None
        return staff, claims, resume_after

    async def _catch_up(self, staff_id: int, resume_after: int | None) -> None:
        """Replay what the client missed, or send a snapshot; then ``ready``."""
        assert self.sub is not None
        sub, db, settings = self.sub, self.ctx.db, self.settings
        if resume_after is not None:
            plan = await self.runtime.run(
                plan_resume, db, resume_after, settings.console_max_replay
            )
            if plan.kind == "replay":
                client = self.ws.client
                await self.runtime.run(
                    lambda: record_replay_access(
                        db,
                        staff_id=staff_id,
                        audience=sub.audience,
                        after=resume_after,
                        head=plan.head,
                        client_ip=client.host if client else None,
                        now=self.ctx.now(),
                    )
                )
                after, replayed = resume_after, 0
                while True:
                    frames = await self.runtime.run(
                        read_replay, db, after, settings.relay_batch_size
                    )
                    for frame in frames:
                        await self._send(shape_event(frame, sub.audience))
                    replayed += len(frames)
                    if frames:
                        after = int(frames[-1]["id"])
                    if len(frames) < settings.relay_batch_size:
                        break
                sub.floor = after
                await self._send(self._ready(after, resumed=True, replayed=replayed))
                return
            if plan.kind == "future":
                await self._send(
                    error_frame(
                        "resume_after_unknown",
                        "resume_after is ahead of the newest event; starting afresh.",
                        last_event_id=plan.head,
                    )
                )
            await self._send({"type": "resync", "reason": plan.kind, "last_event_id": plan.head})
        snapshot = await self.runtime.run(
            lambda: read_snapshot(
                db,
                staff_id=staff_id,
                audience=sub.audience,
                now=self.ctx.now(),
                limit=settings.console_snapshot_limit,
            )
        )
        sub.floor = snapshot["last_event_id"]
        await self._send(snapshot)
        await self._send(self._ready(snapshot["last_event_id"], resumed=False, replayed=0))

    def _ready(self, last_event_id: int, *, resumed: bool, replayed: int) -> dict[str, Any]:
        return {
            "type": "ready",
            "last_event_id": last_event_id,
            "resumed": resumed,
            "replayed": replayed,
            "server_time": iso(self.ctx.now()),
        }

    async def _send_loop(self, sub: Subscriber) -> None:
        """Send what the hub buffers, in order, until the subscriber stops."""
        send = self.ws.send_text
        while True:
            await sub.wait()
            if sub.stopped:
                return
            frames = sub.take()
            while frames:
                event_id, text = frames.popleft()
                if event_id is not None:
                    if event_id <= sub.floor:
                        continue  # already in the snapshot or the replay
                    sub.floor = event_id
                await send(text)
                if sub.stopped:
                    return

    async def _read_loop(self, staff_id: int) -> None:
        assert self.sub is not None
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await self._handle(staff_id, message)
        except _DISCONNECTED:
            pass
        finally:
            self.sub.stop()

    async def _handle(self, staff_id: int, message: dict[str, Any]) -> None:
        try:
            frame = parse_frame(message, self.settings.console_max_frame_bytes)
        except FrameError as exc:
            self._reply(error_frame(exc.code, exc.message))
            return
        kind = frame["type"]
        if kind == "ping":
            pong: dict[str, Any] = {"type": "pong"}
            if isinstance(frame.get("id"), str | int) and not isinstance(frame["id"], bool):
                pong["id"] = frame["id"]
            self._reply(pong)
        elif kind == "presence":
            await self._set_presence(staff_id, frame.get("status"))
        elif kind == "auth":
            self._reply(error_frame("already_authenticated", "This socket is already signed in."))
        else:
            self._reply(error_frame("unknown_type", f"Unknown frame type {kind[:40]!r}."))

    async def _set_presence(self, staff_id: int, status: Any) -> None:
        if not isinstance(status, str):
            self._reply(error_frame("unknown_presence", 'presence needs a string "status".'))
            return
        try:
            await self.runtime.run(apply_presence, self.ctx, staff_id, status)
        except DomainError as exc:
            self._reply(error_frame(exc.code, exc.message))
        except Exception as exc:  # noqa: BLE001 - report, keep the socket
            log.warning("console: setting presence failed (%s)", type(exc).__name__)
            self._reply(error_frame("unavailable", "Presence could not be saved; try again."))
