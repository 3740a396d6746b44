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
from starlette.concurrency import run_in_threadpool

from consult119.attachments import service as attachments
from consult119.audit import service as audit
from consult119.auth.deps import client_ip, require_roles
from consult119.channels.edge import read_json
from consult119.channels.webchat.hub import hub_of
from consult119.channels.webchat.schemas import RevokeOut, SessionIn, SessionOut
from consult119.channels.webchat.socket import chat_socket
from consult119.channels.webchat.tokens import issue_session, revoke_contact_sessions
from consult119.context import ContextDep
from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.intake.schemas import (
    clean_country,
    clean_locale,
    clean_timezone,
    normalise_phone,
)
from consult119.staff.models import Role, Staff
from consult119.tickets import service as tickets_service
from consult119.tickets.routes import TicketId

router = APIRouter(tags=["webchat"])
router.add_api_websocket_route("/ws/chat", chat_socket)

#: Audit action of staff ending a traveller's web-chat sessions.
REVOKE_ACTION = "webchat.revoke"


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
        now = ctx.now()
        with ctx.db.unit_of_work() as session:
            # Uploads of ended sessions go with them (the sessions are deleted a day on).
            swept = attachments.sweep_unsent(session, now=now)
            token = issue_session(session, claims, now=now, ttl=ttl)
        if swept:  # only now: a rollback must not lose a file
            with ctx.db.read_session() as session:
                attachments.remove_unreferenced(session, attachments.store_of(ctx.settings), swept)
        return token

    return SessionOut(token=await run_in_threadpool(store), expires_in=ttl)


# -- staff end a traveller's sessions ------------------------------------------------------------
Revoker = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT, Role.ADMIN))]


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
