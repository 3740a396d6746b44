"""``POST /api/v1/intake/chat``: the generic messenger gateway."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from consult119.channels._edge.admission import admit, settle
from consult119.channels._edge.http import (
    SIGNATURE_HEADER,
    channel_secret,
    parse_json_object,
    read_body,
    verify_signature,
)
from consult119.config import Settings
from consult119.context import ContextDep
from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.intake.ack import WaitEstimate, acknowledgement, wait_for
from consult119.intake.schemas import (
    ChatIntakeIn,
    ChatIntakeOut,
    Reply,
    clean_country,
    clean_locale,
    clean_timezone,
)
from consult119.intake.service import InboundMessage, IntakeResult

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


def invalid_from(exc: ValidationError) -> Invalid:
    """The 422 for a payload pydantic refused; raise it ``from exc`` so every field's error is
    rendered in the reader's language (``errors.DomainError.detail``)."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err.get("loc", ()))
    return Invalid("invalid_field", _l("{field}: invalid value.", field=field or "-"), field=field)


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
    body = await read_body(
        request, max_bytes=settings.max_body_bytes, content_types=("application/json",)
    )
    verify_signature(secret, body, request.headers.get(SIGNATURE_HEADER))
    try:
        payload = ChatIntakeIn.model_validate(parse_json_object(body))
    except ValidationError as exc:
        raise invalid_from(exc) from exc
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
    admission = await admit(ctx, inbound)

    def take(session: Session) -> tuple[IntakeResult, WaitEstimate | None]:
        # The wait is read in the intake's own transaction: no second trip to the database.
        now = ctx.now()
        result = ctx.intake.receive(session, inbound, now=now)
        return result, wait_for(session, result, now=now)

    result, wait = await ctx.db.writer.run_async(take, locks=inbound.locks)
    settle(ctx, admission, result)
    reply = acknowledgement(result, inbound.locale, wait=wait)
    response.status_code = 201 if result.created else 200
    return ChatIntakeOut(
        ticket_id=result.ticket_id,
        case_number=result.case_number,
        message_id=result.message.id or 0,
        created=result.created,
        duplicate=result.duplicate,
        reply=Reply(text=reply),
    )
