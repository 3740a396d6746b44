"""``POST /api/v1/tickets`` with channel ``phone``: staff log a call as a consultation case.

The caller's number is validated and stored in E.164 with ``phonenumbers`` (read as typed with
``+``, or as a local number of the given country); it is the caller's identity, so a second call
from the same number joins their open case like any other channel.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from consult119.auth.deps import require_roles
from consult119.channels.edge import read_json, signed
from consult119.channels.edge.http import ChannelNotConfigured
from consult119.context import ContextDep
from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.intake.pipeline import take
from consult119.intake.schemas import (
    Id,
    ShortText,
    Text,
    clean_country,
    clean_locale,
    clean_timezone,
    normalise_phone,
)
from consult119.intake.service import InboundMessage
from consult119.staff.models import Role, Staff
from consult119.tickets.codes import LocationType
from consult119.tickets.events import ticket_public

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])

PhoneStaff = Annotated[Staff, Depends(require_roles(Role.EMT, Role.DOCTOR, Role.ADMIN))]


class PhoneCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["phone"]
    caller_number: str = Field(min_length=3, max_length=40)
    notes: Text
    country: str | None = Field(default=None, max_length=2)
    caller_name: ShortText | None = None
    email: str | None = Field(default=None, max_length=320)
    locale: str | None = Field(default=None, max_length=20)
    timezone: str | None = Field(default=None, max_length=64)
    location_type: LocationType | None = None
    vessel_or_flight: ShortText | None = None
    call_id: Id | None = Field(default=None, description="Telephony call id: a repeat is no-op")


@router.post(
    "",
    status_code=201,
    responses={200: {"description": "the caller's open case took the call"}},
)
async def log_phone_call(
    body: PhoneCallIn, response: Response, ctx: ContextDep, staff: PhoneStaff
) -> dict[str, Any]:
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
    return {
        **ticket_public(result.ticket),
        "created": result.created,
        "duplicate": result.duplicate,
        "message_id": result.message.id,
        "caller_number": e164,
    }


class CallEventIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    call_id: Id
    event: Literal["ringing", "answered", "ended", "missed", "voicemail"]
    caller_number: str = Field(min_length=3, max_length=40)
    country: str | None = Field(default=None, max_length=2)
    transcript: Text | None = None


events_router = APIRouter(prefix="/api/v1/intake", tags=["intake"])


@events_router.post("/phone/events")
async def call_event(request: Request, response: Response, ctx: ContextDep) -> dict[str, Any]:
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
        return {"taken": False, "event": event.event}
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
    response.status_code = 201 if result.created else 200
    return {
        "taken": True,
        "event": event.event,
        "ticket_id": result.ticket_id,
        "case_number": result.case_number,
        "created": result.created,
        "duplicate": result.duplicate,
    }
