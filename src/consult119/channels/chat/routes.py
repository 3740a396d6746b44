"""``POST /api/v1/intake/chat``: the generic messenger gateway."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from consult119.channels.edge import read_json, signed
from consult119.channels.edge.http import channel_secret
from consult119.config import Settings
from consult119.context import ContextDep
from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.intake.ack import acknowledgement
from consult119.intake.pipeline import Ack, take
from consult119.intake.schemas import (
    ChatIntakeIn,
    ChatIntakeOut,
    Reply,
    clean_country,
    clean_locale,
    clean_timezone,
)
from consult119.intake.service import InboundMessage

router = APIRouter(prefix="/api/v1/intake", tags=["intake"])

#: Sources with their own signed adapter: the gateway's secret must not let its holder speak as
#: a LINE, Kakao or web-chat traveller and join their case.
OWN_ADAPTER_SOURCES = frozenset({"line", "kakao", "webchat"})


def _adapter_open_anyway(settings: Settings, source: str, *, gateway_signed: bool) -> bool:
    """Whether the source's own adapter would take this same request unsigned, so the gateway
    taking it gives nobody a way in they do not already have. Only Kakao, in a local demo run
    with every channel unsigned and no skill secret: LINE always checks its channel secret and
    a web chat its session token, and a gateway secret never speaks for another channel."""
    return (
        source == "kakao"
        and not gateway_signed
        and settings.allow_unsigned_channels
        and settings.kakao_skill_secret is None
    )


@router.post(
    "/chat",
    response_model=ChatIntakeOut,
    responses={
        200: {"description": "joined an existing case, or a redelivery"},
        201: {"description": "a new case was opened"},
    },
)
async def intake_chat(request: Request, response: Response, ctx: ContextDep) -> ChatIntakeOut:
    """Take one messenger message. Answers only after it is committed; redelivery is harmless."""
    settings = ctx.settings
    secret = channel_secret(settings, "intake_secret")
    payload = await read_json(
        request, ChatIntakeIn, max_bytes=settings.max_body_bytes, verify=signed(request, secret)
    )
    if payload.source in OWN_ADAPTER_SOURCES and not _adapter_open_anyway(
        settings, payload.source, gateway_signed=secret is not None
    ):
        raise Invalid(
            "source_has_own_adapter",
            _l(
                "Messages from {source} come in through its own adapter, not this gateway.",
                source=payload.source,
            ),
            field="source",
        )
    inbound = InboundMessage(
        source=payload.source,
        sender_id=payload.sender_id,
        external_id=payload.message_id,
        text=payload.text,
        sent_at=payload.sent_at,
        sender_name=payload.sender_name,
        locale=clean_locale(payload.locale),
        country=clean_country(payload.country),
        timezone=clean_timezone(payload.timezone),
    )
    # The wait is read in the intake's own transaction: no second trip to the database.
    taken = await take(ctx, inbound, ack=Ack.WAIT)
    result = taken.result
    reply = acknowledgement(result, inbound.locale, wait=taken.wait)
    response.status_code = 201 if result.created else 200
    return ChatIntakeOut(
        ticket_id=result.ticket_id,
        case_number=result.case_number,
        message_id=result.message.id or 0,
        created=result.created,
        duplicate=result.duplicate,
        reply=Reply(text=reply),
    )
