"""``POST /api/v1/intake/email``: one raw RFC 5322 message, signed like the chat gateway."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from consult119.channels.edge import read_verified, signed
from consult119.channels.edge.http import channel_secret
from consult119.channels.email.inbound import receive_email
from consult119.channels.email.schemas import EmailIntakeOut
from consult119.context import ContextDep

router = APIRouter(prefix="/api/v1/intake", tags=["intake"])


@router.post(
    "/email",
    response_model=EmailIntakeOut,
    responses={
        200: {"description": "joined an existing case, or a redelivery"},
        201: {"description": "a new case was opened"},
        202: {"description": "a bounce or auto-reply: taken, never a case, never answered"},
    },
)
async def intake_email(request: Request, response: Response, ctx: ContextDep) -> EmailIntakeOut:
    """Take one raw RFC 5322 message (``Content-Type: message/rfc822``)."""
    settings = ctx.settings
    secret = channel_secret(settings, "intake_secret")
    body = await read_verified(
        request,
        max_bytes=settings.max_mail_bytes,
        content_types=("message/rfc822",),
        verify=signed(request, secret),
    )
    outcome = await run_in_threadpool(receive_email, ctx, body)
    result = outcome.result
    if result is None:
        response.status_code = 202
        return EmailIntakeOut(
            ticket_id=None,
            case_number=None,
            message_id=None,
            created=False,
            duplicate=False,
            ignored=outcome.ignored,
        )
    response.status_code = 201 if result.created else 200
    return EmailIntakeOut(
        ticket_id=result.ticket_id,
        case_number=result.case_number,
        message_id=result.message.id,
        created=result.created,
        duplicate=result.duplicate,
    )
