"""``POST /api/v1/tickets`` with channel ``phone``: staff log a call as a consultation case.

The caller's number is validated and stored in E.164 with ``phonenumbers`` (read as typed with
``+``, or as a local number of the given country); it is the caller's identity, so a second call
from the same number joins their open case like any other channel.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from consult119.auth.deps import require_roles
from consult119.channels.edge import read_json, signed
from consult119.channels.edge.http import ChannelNotConfigured
from consult119.channels.phone.schemas import CallEventIn, CallEventOut, PhoneCallIn, PhoneCallOut
from consult119.context import AppContext, ContextDep
from consult119.errors import Invalid
from consult119.followups import service as followups
from consult119.i18n import lazy_gettext as _l
from consult119.intake.pipeline import take
from consult119.intake.schemas import (
    clean_country,
    clean_locale,
    clean_timezone,
    normalise_phone,
)
from consult119.intake.service import InboundMessage
from consult119.staff.models import Role, Staff
from consult119.tickets.schemas import TicketPublic

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])

PhoneStaff = Annotated[Staff, Depends(require_roles(Role.EMT, Role.DOCTOR, Role.ADMIN))]


@router.post(
    "",
    status_code=201,
    responses={200: {"description": "the caller's open case took the call"}},
    response_model=PhoneCallOut,
)
async def log_phone_call(
    body: PhoneCallIn, response: Response, ctx: ContextDep, staff: PhoneStaff
) -> PhoneCallOut:
    """Log a phone consultation (EMT, doctor, admin). 201 with the new case, 200 if it joined."""
    country = clean_country(body.country)
    if body.country is not None and country is None:
        raise Invalid(
            "invalid_field",
            _l("country: give an ISO 3166 alpha-2 code (e.g. JP)."),
            field="country",
        )
    e164 = normalise_phone(body.caller_number, country, field="caller_number")
    email = body.email.strip().lower() if body.email else None
    if email is not None and (email.count("@") != 1 or " " in email or "\x00" in email):
        raise Invalid("invalid_email", _l("The e-mail address is not valid."), field="email")
    inbound = InboundMessage(
        source="phone",
        sender_id=e164,
        external_id=f"call:{body.call_id}" if body.call_id else None,
        text=body.notes,
        sender_name=body.caller_name,
        locale=clean_locale(body.locale),
        country=country,
        timezone=clean_timezone(body.timezone),
        location_type=body.location_type.value if body.location_type else None,
        vessel_or_flight=body.vessel_or_flight,
        phone_e164=e164,
        email=email,
        meta={"logged_by": staff.id},
    )
    # Staff logging a call are not rate-limited per caller, nor counted as channel intake.
    result = (await take(ctx, inbound, limited=False, counted=False)).result
    response.status_code = 201 if result.created else 200
    return PhoneCallOut(
        **TicketPublic.model_validate(result.ticket).model_dump(),
        created=result.created,
        duplicate=result.duplicate,
        message_id=result.message.id,
        caller_number=e164,
    )


events_router = APIRouter(prefix="/api/v1/intake", tags=["intake"])


@events_router.post("/phone/events", response_model=CallEventOut, response_model_exclude_none=True)
async def call_event(request: Request, response: Response, ctx: ContextDep) -> CallEventOut:
    """Telephony webhook (signed like chat intake). A missed call or a voicemail becomes a
    message on the caller's case, so a call nobody could take is never forgotten; other call
    events are acknowledged and left to the staff member who logs the call."""
    settings = ctx.settings
    if settings.intake_secret is None:
        raise ChannelNotConfigured(
            "channel_not_configured",
            _l("Telephony events need {setting}.", setting="CONSULT119_INTAKE_SECRET"),
        )
    event = await read_json(
        request,
        CallEventIn,
        max_bytes=settings.max_body_bytes,
        verify=signed(request, settings.intake_secret.get_secret_value()),
    )
    if event.event not in ("missed", "voicemail"):
        return CallEventOut(taken=False, event=event.event)
    country = clean_country(event.country)
    e164 = normalise_phone(event.caller_number, country, field="caller_number")
    text = f"[{event.event}] {event.transcript or ''}".strip()
    inbound = InboundMessage(
        source="phone",
        sender_id=e164,
        external_id=f"call:{event.call_id}:{event.event}",
        text=text,
        country=country,
        phone_e164=e164,
        meta={"call_id": event.call_id, "call_event": event.event},
    )
    result = (await take(ctx, inbound)).result
    if result.ticket_id is not None:
        await run_in_threadpool(_callback, ctx, result.ticket_id, event.call_id, event.event)
    response.status_code = 201 if result.created else 200
    return CallEventOut(
        taken=True,
        event=event.event,
        ticket_id=result.ticket_id,
        case_number=result.case_number,
        created=result.created,
        duplicate=result.duplicate,
    )


def _callback(ctx: AppContext, ticket_id: int, call_id: str, call_event: str) -> None:
    """The call nobody took: a callback follow-up due by the case's target, once per call."""
    with ctx.db.unit_of_work() as session:
        followups.callback(
            session, ticket_id, call_id=call_id, call_event=call_event, now=ctx.now()
        )
