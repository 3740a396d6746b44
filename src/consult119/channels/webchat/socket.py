"""The ``/ws/chat`` socket: each ``message`` frame is one intake, staff replies pushed back.

Its ``client_id`` is the message id, so a frame resent after a reconnect is recognised. Staff
replies are pulled from the outbox by the socket itself: woken in-process by the commit
(:mod:`consult119.channels.webchat.hub`), and by a short poll for replies written by another
process. A reply counts as delivered once pushed to a socket; after a reconnect the socket
resends every reply with an id above the client's ``resume_after`` (all of them without it), and
the client drops ids it already shows.

The socket also tells the page where its case stands: a ``case`` frame (case number, status,
country, location, the emergency number to show) after ``ready`` and whenever one of them
changes, read in the same rounds as the replies (woken by the case's status and record events).
A traveller whose country is unknown answers with a ``country`` frame, which fills the case's
country as self-reported (``tickets.service.fill_from_traveller``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import AfterValidator, BaseModel, Field, StringConstraints, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from consult119 import jsonsafe
from consult119.aio import wait_for_wake
from consult119.attachments import service as attachments
from consult119.attachments.inbound import frame_uploads
from consult119.attachments.models import Attachment
from consult119.channels.edge import invalid_from
from consult119.channels.webchat.hub import CLOSE_SESSION, hub_of
from consult119.channels.webchat.tokens import SOURCE, read_session, session_row, token_hash
from consult119.context import AppContext
from consult119.errors import DomainError, Invalid, RateLimited
from consult119.i18n import emergency_advice, emergency_numbers
from consult119.i18n import lazy_gettext as _l
from consult119.intake.ack import acknowledgement
from consult119.intake.pipeline import Ack, take
from consult119.intake.schemas import Text, clean_country, no_nul
from consult119.intake.service import InboundMessage
from consult119.outbound import delivery
from consult119.outbound import repository as outbound_repo
from consult119.tickets import repository as repo
from consult119.tickets import service as tickets_service
from consult119.tickets.models import Message, Ticket
from consult119.types import Id

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 5.0
POLL_SECONDS = 2.0
MAX_FRAME_CHARS = 16_000
LEASE = timedelta(seconds=30)
#: Files one message frame may send.
MAX_FILES_PER_FRAME = 10
#: The text of a message that carries files: may be empty.
OptionalText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=5000), AfterValidator(no_nul)
]


class MessageFrame(BaseModel):
    type: str
    text: Text
    client_id: str = Field(min_length=1, max_length=200)
    attachments: list[Id] = Field(default_factory=list, max_length=0)


class FileFrame(MessageFrame):
    """A message with files (``attachments``: ids from ``POST /api/v1/webchat/attachments``):
    its text may be empty."""

    text: OptionalText = ""
    attachments: list[Id] = Field(min_length=1, max_length=MAX_FILES_PER_FRAME)


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
        #: The last ``case`` frame sent (None before the first): sent again only when changed.
        self.case_sent: dict[str, Any] | None = None

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False))

    async def run(self) -> None:
        hub = hub_of(self.ctx)
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
        return session_row(session, self.token_digest, self.ctx.now()) is not None

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
        if kind == "country":
            await self._country(frame)
            return
        if kind != "message":
            raise Invalid("unknown_frame", _l("Send frames of type message, country or ping."))
        model = FileFrame if frame.get("attachments") else MessageFrame
        try:
            msg = model.model_validate(frame)
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
        try:
            files = await run_in_threadpool(
                frame_uploads,
                self.ctx.db,
                token_digest=self.token_digest,
                ids=msg.attachments,
                external_id=external_id,
                source=SOURCE,
            )
        except DomainError as exc:
            exc.extra["client_id"] = msg.client_id
            raise
        inbound = InboundMessage(
            source=SOURCE,
            sender_id=sid,
            external_id=external_id,
            text=msg.text,
            attachments=files,
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
        # A frame resent after a reconnect is a redelivery: free of the rate limit.
        taken = await take(self.ctx, inbound, ack=Ack.WAIT)
        result = taken.result
        self.contact_id = result.contact.id
        await self.send(
            {
                "type": "ack",
                "client_id": msg.client_id,
                "message_id": result.message.id,
                "case_number": result.case_number,
                "created": result.created,
                "duplicate": result.duplicate,
                "reopened": result.reopened,
                # With the expected wait, as the messengers' acknowledgement gives it.
                "text": acknowledgement(
                    result, inbound.locale or result.contact.locale, wait=taken.wait
                ),
            }
        )
        self.wake.set()  # the case frame follows the acknowledgement

    async def _country(self, frame: dict[str, Any]) -> None:
        """``{"type": "country", "country": "JP"}``: where the traveller says they are. Fills
        the case's country as self-reported (never over a value staff entered); before the
        first message it goes with the session's first message instead."""
        raw = frame.get("country")
        country = clean_country(raw) if isinstance(raw, str) else None
        if country is None or emergency_numbers(country) is None:
            raise Invalid(
                "invalid_country",
                _l("Choose a country by its two-letter ISO code."),
                field="country",
            )
        if not await run_in_threadpool(self._session_live):
            raise SessionEnded
        self.claims["country"] = country
        if self.contact_id is None:
            answers = dict(self.claims.get("answers") or {})
            self.claims["answers"] = {**answers, "country": country}
            await self.send({"type": "case", **case_state(None, self.claims, country=country)})
            return
        state = await run_in_threadpool(self._fill_country, country)
        await self._send_case(state, force=True)

    def _fill_country(self, country: str) -> dict[str, Any] | None:
        assert self.contact_id is not None
        with self.ctx.db.unit_of_work() as session:
            ticket = repo.latest_ticket_of_contact(session, self.contact_id)
            if ticket is not None:
                tickets_service.fill_from_traveller(
                    session, ticket, {"country": country}, now=self.ctx.now()
                )
            return case_state(ticket, self.claims) if ticket is not None else None

    def _case(self) -> dict[str, Any] | None:
        assert self.contact_id is not None
        with self.ctx.db.read_session() as session:
            ticket = repo.latest_ticket_of_contact(session, self.contact_id)
            return case_state(ticket, self.claims) if ticket is not None else None

    async def _send_case(self, state: dict[str, Any] | None, *, force: bool = False) -> None:
        if state is None or (state == self.case_sent and not force):
            return
        self.case_sent = state
        await self.send({"type": "case", **state})

    async def _push_replies(self) -> None:
        try:
            while not self.closed:
                await wait_for_wake(self.wake, POLL_SECONDS)
                self.wake.clear()
                if self.contact_id is not None and not self.closed:
                    await self._push_round()
                if self.contact_id is not None and not self.closed:
                    await self._send_case(await run_in_threadpool(self._case))
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
        claims, messages, files = pending
        pushed = False
        try:
            for m in messages:
                frame: dict[str, Any] = {
                    "type": "message",
                    "from": "staff",
                    "id": m.id,
                    "text": m.text,
                    "created_at": m.created_at.isoformat(),
                }
                if files.get(m.id or 0):  # a reply with files (web chat carries them)
                    frame["attachments"] = [_file_frame(a) for a in files[m.id or 0]]
                await self.send(frame)
                self.cursor = max(self.cursor, m.id or 0)
            pushed = True
        finally:
            if claims:  # delivered, or handed back at once for the next socket
                await run_in_threadpool(self._settle, claims, pushed)

    def _pending(
        self,
    ) -> tuple[list[delivery.Claimed], list[Message], dict[int, list[Attachment]]] | None:
        """Replies to push, their claims and files; ``None`` when the session has ended."""
        assert self.contact_id is not None
        with self.ctx.db.read_session() as session:
            if not outbound_repo.anything_for_contact(
                session, contact_id=self.contact_id, source=SOURCE, after_id=self.cursor
            ):
                return [], [], {}  # the idle poll: one indexed read, no write lock
            if not self.session_live(session):
                return None  # a revoked session gets no more replies, in any process
        with self.ctx.db.unit_of_work() as session:
            claims = delivery.claim_for_contact(
                session, contact_id=self.contact_id, source=SOURCE, now=self.ctx.now(), lease=LEASE
            )
            # A claimed reply at or below the cursor is one the client says it shows already:
            # it is settled as delivered without being sent again.
            messages = outbound_repo.outbound_messages_after(
                session, contact_id=self.contact_id, source=SOURCE, after_id=self.cursor
            )
            files = attachments.files_of_messages(
                session, [m.id for m in messages if m.id is not None]
            )
            return claims, messages, files

    def _settle(self, claims: list[delivery.Claimed], sent: bool) -> None:
        with self.ctx.db.unit_of_work() as session:
            if sent:
                for claim in claims:
                    delivery.mark_sent(session, claim, now=self.ctx.now())
            else:
                delivery.release(session, claims, now=self.ctx.now())


def _file_frame(att: Attachment) -> dict[str, Any]:
    """A reply's file as the chat page reads it (fetched from ``url`` with the session token)."""
    return {
        "id": att.id,
        "filename": att.filename,
        "content_type": att.content_type,
        "size": att.size,
        "width": att.width,
        "height": att.height,
        "url": f"/api/v1/webchat/attachments/{att.id}",
    }


def case_state(
    ticket: Ticket | None, claims: dict[str, Any], *, country: str | None = None
) -> dict[str, Any]:
    """The ``case`` frame's fields: where the case stands and what the page shows for it.

    ``emergency_number`` is the number to call on land in a known country (null at sea, in the
    air, or while the country is unknown: the page then asks for it); ``emergency`` the advice
    line in the session's language."""
    country = ticket.country if ticket is not None else country
    location = (ticket.location_type if ticket is not None else None) or (
        (claims.get("answers") or {}).get("location_type")
    )
    numbers = emergency_numbers(country) if location not in ("sea", "air") else None
    return {
        "case_number": ticket.case_number if ticket is not None else None,
        "status": ticket.status if ticket is not None else None,
        "country": country,
        "location_type": location,
        "emergency_number": numbers.ambulance if numbers is not None else None,
        "emergency": emergency_advice(country, claims.get("locale"), location_type=location),
    }


class SessionEnded(Exception):
    """The socket's session was revoked or expired while it was open."""


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
