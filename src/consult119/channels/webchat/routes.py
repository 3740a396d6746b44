"""Web chat for travellers: ``POST /api/v1/webchat/sessions`` and the ``/ws/chat`` socket.

A session token is random and opaque; the server keeps only its SHA-256 (``webchat_sessions``)
with the session id (the traveller's web-chat identity) and what they told us (name, locale,
country, timezone, optionally phone and e-mail). Staff may revoke a case's sessions: a revoked
or expired token is refused, and its open sockets are closed (4401).
On the socket, each ``message`` frame is one intake call; its ``client_id`` is the message id, so
a frame resent after a reconnect is recognised. Staff replies are pulled from the outbox by the
socket itself: woken in-process by the commit, and by a short poll for replies written by another
process. A reply counts as delivered once pushed to a socket; after a reconnect the socket resends
every reply with an id above the client's ``resume_after`` (all of them without it), and the
client drops ids it already shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import phonenumbers
from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from consult119 import jsonsafe
from consult119.aio import wait_for_wake
from consult119.audit import service as audit
from consult119.auth.deps import client_ip, require_roles
from consult119.channels._edge.admission import admit, settle
from consult119.channels._edge.http import parse_json_object, read_body
from consult119.channels.chat.routes import invalid_from
from consult119.context import AppContext, ContextDep
from consult119.errors import DomainError, Invalid, RateLimited
from consult119.i18n import lazy_gettext as _l
from consult119.intake import repository as intake_repo
from consult119.intake.ack import acknowledgement
from consult119.intake.models import WebchatSession
from consult119.intake.schemas import (
    ShortText,
    Text,
    clean_country,
    clean_locale,
    clean_timezone,
    no_nul,
)
from consult119.intake.service import InboundMessage
from consult119.outbound import delivery
from consult119.staff.models import Role, Staff
from consult119.tickets import repository as repo
from consult119.tickets import service as tickets_service
from consult119.tickets.codes import LocationType, PurposeOfStay
from consult119.tickets.models import Message
from consult119.tickets.routes import TicketId

log = logging.getLogger(__name__)
router = APIRouter(tags=["webchat"])

SOURCE = "webchat"
AUTH_TIMEOUT = 5.0
POLL_SECONDS = 2.0
MAX_FRAME_CHARS = 16_000
LEASE = timedelta(seconds=30)
#: Close code of a socket whose session is unknown, expired or revoked.
CLOSE_SESSION = 4401
#: Audit action of staff ending a traveller's web-chat sessions.
REVOKE_ACTION = "webchat.revoke"


# -- session tokens ----------------------------------------------------------------------------
#: Prefix of a web-chat token; the rest is 32 random bytes. Nothing else is in it.
TOKEN_PREFIX = "wct_"
MAX_TOKEN_CHARS = 200


def token_hash(token: str) -> str:
    """What the database keeps of a token: its SHA-256 (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_session(session: Session, claims: dict[str, Any], *, now: datetime, ttl: int) -> str:
    """A new opaque token for ``claims`` (which hold ``sid``), valid ``ttl`` seconds.

    Sessions expired for a day or more are deleted here: they hold what travellers told us,
    and nothing reads them any more.
    """
    intake_repo.delete_webchat_sessions_expired_before(session, now - timedelta(days=1))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        WebchatSession(
            token_hash=token_hash(token),
            sid=claims["sid"],
            claims=claims,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    return token


def _session_row(session: Session, digest: str, now: datetime) -> WebchatSession | None:
    """The session of a token hash while it is unexpired and unrevoked."""
    row = intake_repo.webchat_session_by_hash(session, digest)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def read_session(session: Session, token: object, *, now: datetime) -> dict[str, Any] | None:
    """The claims of a known, unexpired, unrevoked token, else None."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        return None
    if len(token) > MAX_TOKEN_CHARS:
        return None
    row = _session_row(session, token_hash(token), now)
    return None if row is None else dict(row.claims)


def revoke_contact_sessions(
    session: Session, contact_id: int, *, now: datetime, by: int | None
) -> tuple[list[str], int]:
    """Revoke every live web-chat session of a contact: its session ids (``sid``) and how many
    sessions were revoked now."""
    sids = intake_repo.identity_ids_of_contact(session, contact_id, SOURCE)
    if not sids:
        return [], 0
    return sids, intake_repo.revoke_webchat_sessions(session, sids, now=now, by=by)


VesselOrFlight = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(no_nul)
]


class AnswersIn(BaseModel):
    """The page's optional form: what the service asks before the first message. Every field
    may be left out; a bad value is refused with its ``field`` (``answers.<name>``)."""

    model_config = ConfigDict(extra="forbid")

    patient_age: int | None = Field(default=None, ge=0, le=130, strict=True)
    purpose_of_stay: PurposeOfStay | None = None
    symptoms_onset: ShortText | None = None
    location_type: LocationType | None = None
    vessel_or_flight: VesselOrFlight | None = None


class SessionIn(BaseModel):
    name: ShortText | None = None
    locale: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=100)
    timezone: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    #: The form's answers; absent when the traveller skipped it (nothing is marked then).
    answers: AnswersIn | None = None


class SessionOut(BaseModel):
    token: str
    expires_in: int


def normalise_phone(raw: str, country: str | None, *, field: str = "phone") -> str:
    """E.164 of a number typed with ``+`` or local to ``country``; 422 when it is not valid."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("invalid_phone", _l("The phone number cannot be read."), field=field) from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("invalid_phone", _l("The phone number is not valid."), field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@router.post("/api/v1/webchat/sessions", status_code=201, response_model=SessionOut)
async def create_session(request: Request, ctx: ContextDep) -> SessionOut:
    """Start a web-chat session; the token authenticates the traveller's socket."""
    ctx.limiter.check(f"webchat-session:{request.client.host if request.client else '-'}")
    body = await read_body(request, max_bytes=8192, content_types=("application/json",))
    try:
        data = SessionIn.model_validate(parse_json_object(body) if body.strip() else {})
    except ValidationError as exc:
        raise invalid_from(exc) from exc
    country = clean_country(data.country)
    email = data.email.strip().lower() if data.email else None
    if email is not None and (email.count("@") != 1 or "\x00" in email or " " in email):
        raise Invalid("invalid_email", _l("The e-mail address is not valid."), field="email")
    ttl = ctx.settings.webchat_session_hours * 3600
    claims = {
        "sid": "wc_" + secrets.token_urlsafe(16),
        "name": data.name or None,
        "locale": clean_locale(data.locale),
        "country": country,
        "tz": clean_timezone(data.timezone),
        "phone": normalise_phone(data.phone, country) if data.phone else None,
        "email": email,
    }
    if data.answers is not None:
        # With the form, the country chosen on it is one of its answers.
        answers = data.answers.model_dump(mode="json", exclude_none=True)
        claims["answers"] = {**answers, **({"country": country} if country else {})}

    def store() -> str:
        with ctx.db.unit_of_work() as session:
            return issue_session(session, claims, now=ctx.now(), ttl=ttl)

    return SessionOut(token=await run_in_threadpool(store), expires_in=ttl)


# -- the socket ---------------------------------------------------------------------------------
class WebchatHub:
    """Wakes the sockets of this process when a commit added an outbound message."""

    def __init__(self, ctx: AppContext, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.wakers: set[asyncio.Event] = set()
        #: Open sockets by session id, so a revocation in this process closes them at once.
        self.sockets: dict[str, set[ChatSocket]] = {}
        ctx.db.add_commit_hook(self._on_commit)

    async def end_sessions(self, sids: list[str]) -> int:
        """Close this process's sockets of ``sids`` (4401); how many were open. Sockets held by
        other processes find out at their next frame or reply (``ChatSocket.session_live``)."""
        sockets = [s for sid in sids for s in self.sockets.get(sid, ())]
        for socket in sockets:
            with contextlib.suppress(Exception):
                await socket.ws.close(code=CLOSE_SESSION, reason="session ended")
        return len(sockets)

    def _on_commit(self, committed: list[dict[str, Any]]) -> None:
        if any(
            e["name"] == "message.created"
            and e["data"].get("message", {}).get("direction") == "outbound"
            for e in committed
        ):
            # After shutdown the loop is closed: a commit must never fail for a missed wake-up.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for waker in self.wakers:
            waker.set()


def _hub(ctx: AppContext) -> WebchatHub:
    hub = ctx.extras.get("webchat_hub")
    if hub is None:
        hub = ctx.extras["webchat_hub"] = WebchatHub(ctx, asyncio.get_running_loop())
    return hub


class MessageFrame(BaseModel):
    type: str
    text: Text
    client_id: str = Field(min_length=1, max_length=200)


@dataclass(eq=False)  # compared and hashed by identity: the hub keeps a set of them
class ChatSocket:
    ctx: AppContext
    ws: WebSocket
    claims: dict[str, Any]
    cursor: int
    token_digest: str
    contact_id: int | None = None

    def __post_init__(self) -> None:
        self.send_lock = asyncio.Lock()
        self.wake = asyncio.Event()
        self.closed = False

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False))

    async def run(self) -> None:
        hub = _hub(self.ctx)
        hub.wakers.add(self.wake)
        hub.sockets.setdefault(self.claims["sid"], set()).add(self)
        self.contact_id = await run_in_threadpool(self._find_contact)
        pusher = asyncio.create_task(self._push_replies())
        try:
            await self.send({"type": "ready", "session": self.claims["sid"]})
            self.wake.set()
            await self._read_frames()
        finally:
            hub.wakers.discard(self.wake)
            own = hub.sockets.get(self.claims["sid"], set())
            own.discard(self)
            if not own:
                hub.sockets.pop(self.claims["sid"], None)
            # Let the pusher finish its round rather than cancel it mid-transaction: a claim
            # whose outcome was never recorded would wait for its lease to run out.
            self.closed = True
            self.wake.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pusher, 10)

    def session_live(self, session: Session) -> bool:
        """Whether the token is still unexpired and unrevoked (staff may have ended it)."""
        return _session_row(session, self.token_digest, self.ctx.now()) is not None

    def _session_live(self) -> bool:
        with self.ctx.db.read_session() as session:
            return self.session_live(session)

    def _find_contact(self) -> int | None:
        with self.ctx.db.read_session() as session:
            return repo.find_contact_id(session, SOURCE, self.claims["sid"])

    async def _read_frames(self) -> None:
        while True:
            raw = await self.ws.receive_text()
            try:
                await self._handle(raw)
            except DomainError as exc:
                await self.send({"type": "error", **exc.detail(self.claims.get("locale"))})

    async def _handle(self, raw: str) -> None:
        if len(raw) > MAX_FRAME_CHARS:
            raise Invalid(
                "frame_too_large",
                _l(
                    "A frame may hold at most {max_chars:,} characters.",
                    max_chars=MAX_FRAME_CHARS,
                ),
            )
        try:
            frame = jsonsafe.loads(raw)
        except ValueError as exc:  # malformed, or nested past jsonsafe.MAX_JSON_DEPTH
            raise Invalid("invalid_json", _l("The frame is not valid JSON.")) from exc
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "ping":
            await self.send({"type": "pong"})
            return
        if kind != "message":
            raise Invalid("unknown_frame", _l("Send frames of type message or ping."))
        try:
            msg = MessageFrame.model_validate(frame)
        except ValidationError as exc:
            error = invalid_from(exc)
            error.extra["client_id"] = str(frame.get("client_id", ""))[:200]
            raise error from exc
        sid = self.claims["sid"]
        if not await run_in_threadpool(self._session_live):
            raise SessionEnded
        external_id = f"{sid}:{msg.client_id}"
        if len(external_id) > 200:
            external_id = f"{sid}:sha256:{hashlib.sha256(msg.client_id.encode()).hexdigest()}"
        inbound = InboundMessage(
            source=SOURCE,
            sender_id=sid,
            external_id=external_id,
            text=msg.text,
            sender_name=self.claims.get("name"),
            locale=self.claims.get("locale"),
            country=self.claims.get("country"),
            timezone=self.claims.get("tz"),
            phone_e164=self.claims.get("phone"),
            email=self.claims.get("email"),
            # The form's answers go with the session's first message, the one that opens its
            # case; later messages (and a resend of the first, a duplicate) carry none.
            answers=self.claims.get("answers") if self.contact_id is None else None,
        )
        admission = await admit(self.ctx, inbound)  # a frame resent after a reconnect is free
        result = await self.ctx.receive_async(inbound)
        settle(self.ctx, admission, result)
        self.contact_id = result.contact.id
        await self.send(
            {
                "type": "ack",
                "client_id": msg.client_id,
                "message_id": result.message.id,
                "case_number": result.case_number,
                "created": result.created,
                "duplicate": result.duplicate,
                "text": acknowledgement(result, inbound.locale or result.contact.locale),
            }
        )

    async def _push_replies(self) -> None:
        try:
            while not self.closed:
                await wait_for_wake(self.wake, POLL_SECONDS)
                self.wake.clear()
                if self.contact_id is not None and not self.closed:
                    await self._push_round()
        except Exception:
            if not self.closed:  # replies stopped flowing: make the client reconnect
                log.exception("web chat push failed")
                with contextlib.suppress(Exception):
                    await self.ws.close(code=1011)

    async def _push_round(self) -> None:
        pending = await run_in_threadpool(self._pending)
        if pending is None:  # the session ended: nothing more reaches this socket
            self.closed = True
            with contextlib.suppress(Exception):
                await self.ws.close(code=CLOSE_SESSION, reason="session ended")
            return
        claims, messages = pending
        pushed = False
        try:
            for m in messages:
                await self.send(
                    {
                        "type": "message",
                        "from": "staff",
                        "id": m.id,
                        "text": m.text,
                        "created_at": m.created_at.isoformat(),
                    }
                )
                self.cursor = max(self.cursor, m.id or 0)
            pushed = True
        finally:
            if claims:  # delivered, or handed back at once for the next socket
                await run_in_threadpool(self._settle, claims, pushed)

    def _pending(self) -> tuple[list[delivery.Claimed], list[Message]] | None:
        """Replies to push and their claims; ``None`` when the session has ended."""
        assert self.contact_id is not None
        with self.ctx.db.read_session() as session:
            if not delivery.anything_for_contact(
                session, contact_id=self.contact_id, source=SOURCE, after_id=self.cursor
            ):
                return [], []  # the idle poll: one indexed read, no write lock
            if not self.session_live(session):
                return None  # a revoked session gets no more replies, in any process
        with self.ctx.db.unit_of_work() as session:
            claims = delivery.claim_for_contact(
                session, contact_id=self.contact_id, source=SOURCE, now=self.ctx.now(), lease=LEASE
            )
            # A claimed reply at or below the cursor is one the client says it shows already:
            # it is settled as delivered without being sent again.
            messages = delivery.outbound_messages_after(
                session, contact_id=self.contact_id, source=SOURCE, after_id=self.cursor
            )
            return claims, messages

    def _settle(self, claims: list[delivery.Claimed], sent: bool) -> None:
        with self.ctx.db.unit_of_work() as session:
            if sent:
                for claim in claims:
                    delivery.mark_sent(session, claim, now=self.ctx.now())
            else:
                delivery.release(session, claims, now=self.ctx.now())


class SessionEnded(Exception):
    """The socket's session was revoked or expired while it was open."""


@router.websocket("/ws/chat")
async def chat_socket(ws: WebSocket) -> None:
    """First frame ``{"type": "auth", "token", "resume_after"?}`` within 5 s; 4401 if refused."""
    ctx: AppContext = ws.app.state.ctx
    await ws.accept()
    try:
        first = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT)
        frame = jsonsafe.loads(first) if len(first) <= MAX_FRAME_CHARS else None
    except (TimeoutError, ValueError):
        await ws.close(code=4401, reason="auth frame expected")
        return
    except WebSocketDisconnect:
        return
    token = frame.get("token") if isinstance(frame, dict) else None
    claims = None
    if isinstance(token, str) and frame.get("type") == "auth":

        def lookup() -> dict[str, Any] | None:
            with ctx.db.read_session() as session:
                return read_session(session, token, now=ctx.now())

        claims = await run_in_threadpool(lookup)
    if claims is None or not isinstance(token, str):
        await ws.close(code=CLOSE_SESSION, reason="invalid session token")
        return
    resume_after = frame.get("resume_after")
    cursor = resume_after if isinstance(resume_after, int) and resume_after >= 0 else 0
    socket = ChatSocket(ctx, ws, claims, cursor, token_digest=token_hash(token))
    try:
        await socket.run()
    except WebSocketDisconnect:
        pass
    except SessionEnded:
        with contextlib.suppress(Exception):
            await ws.close(code=CLOSE_SESSION, reason="session ended")
    except RateLimited:
        await ws.close(code=4429)
    except Exception:  # noqa: BLE001 - one broken socket must not leak an error page
        log.exception("web chat socket failed")
        with contextlib.suppress(Exception):
            await ws.close(code=1011)


# -- staff end a traveller's sessions ------------------------------------------------------------
Revoker = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT, Role.ADMIN))]


class RevokeOut(BaseModel):
    #: Sessions revoked now (already revoked or expired ones are not counted).
    revoked: int
    #: Sockets of them this process closed at once; others close at their next frame or reply.
    closed: int


@router.post(
    "/api/v1/tickets/{ticket_id}/webchat/revoke", response_model=RevokeOut, tags=["tickets"]
)
async def revoke_webchat(
    ticket_id: TicketId, request: Request, ctx: ContextDep, staff: Revoker
) -> RevokeOut:
    """End every web-chat session of the case's contact (doctor, EMT, admin); audited.

    For a token that leaked, or a device the traveller lost: from now on it is refused, over
    HTTP and on ``/ws/chat``. The traveller can start a new session from the chat page.
    """

    def work() -> tuple[list[str], int]:
        now = ctx.now()
        with ctx.db.unit_of_work() as session:
            ticket = tickets_service.get_open_or_any(session, ticket_id, lock=False)
            sids, revoked = revoke_contact_sessions(
                session, ticket.contact_id, now=now, by=staff.id
            )
            audit.record(
                session,
                staff_id=staff.id,
                action=REVOKE_ACTION,
                ticket_id=ticket_id,
                client_ip=client_ip(request),
                detail={"case_number": ticket.case_number, "sessions": revoked},
                at=now,
            )
            return sids, revoked

    sids, revoked = await run_in_threadpool(work)
    closed = await _hub(ctx).end_sessions(sids)
    return RevokeOut(revoked=revoked, closed=closed)
