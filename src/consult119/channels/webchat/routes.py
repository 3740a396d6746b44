"""Web chat for travellers: ``POST /api/v1/webchat/sessions``, the ``/ws/chat`` socket
(:mod:`consult119.channels.webchat.socket`) and staff revoking a case's sessions.

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

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)
from starlette.concurrency import run_in_threadpool

from consult119.audit import service as audit
from consult119.auth.deps import client_ip, require_roles
from consult119.channels.edge import read_json
from consult119.channels.webchat.hub import hub_of
from consult119.channels.webchat.socket import chat_socket
from consult119.channels.webchat.tokens import issue_session, revoke_contact_sessions
from consult119.context import ContextDep
from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.intake.schemas import (
    ShortText,
    clean_country,
    clean_locale,
    clean_timezone,
    no_nul,
    normalise_phone,
)
from consult119.staff.models import Role, Staff
from consult119.tickets import service as tickets_service
from consult119.tickets.codes import LocationType, PurposeOfStay
from consult119.tickets.routes import TicketId

router = APIRouter(tags=["webchat"])
router.add_api_websocket_route("/ws/chat", chat_socket)

#: Audit action of staff ending a traveller's web-chat sessions.
REVOKE_ACTION = "webchat.revoke"


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


@router.post("/api/v1/webchat/sessions", status_code=201, response_model=SessionOut)
async def create_session(request: Request, ctx: ContextDep) -> SessionOut:
    """Start a web-chat session; the token authenticates the traveller's socket."""
    ctx.limiter.check(f"webchat-session:{request.client.host if request.client else '-'}")
    data = await read_json(request, SessionIn, max_bytes=8192, empty={})
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
            ticket = tickets_service.ticket_or_not_found(session, ticket_id, lock=False)
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
    closed = await hub_of(ctx).end_sessions(sids)
    return RevokeOut(revoked=revoked, closed=closed)
