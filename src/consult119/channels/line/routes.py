"""``POST /api/v1/intake/line``: the LINE Messaging API webhook.

``X-Line-Signature`` must be the base64 HMAC-SHA256 of the raw body with the channel secret
(the webhook is refused while no secret is configured). ``webhookEventId`` is the message id, so
LINE's redeliveries make nothing new. Every event is validated before any is stored; each is then
taken in its own unit of work (each is idempotent, so a partial failure is safely redelivered).
The rate limit applies per event, by sender: what is over it is skipped and counted, the rest is
stored, and LINE still gets its 200 (a refusal would bring the whole delivery back, forever).
Text messages are taken as they are; photos, files and locations as a short line naming them, so
staff know one came. Replies go out through the LINE push API when a channel token is set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from consult119.channels.edge import read_json
from consult119.channels.edge.http import ChannelNotConfigured
from consult119.context import ContextDep
from consult119.errors import Unauthorized
from consult119.i18n import lazy_gettext as _l
from consult119.intake.pipeline import Ack, take_all
from consult119.intake.schemas import Id, Text
from consult119.intake.service import InboundMessage

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/intake", tags=["intake"])

SOURCE = "line"
SIGNATURE = "X-Line-Signature"
MAX_EVENTS = 100


class LineSource(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(max_length=20)
    userId: Id | None = None  # noqa: N815 - LINE's name


class LineMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Id
    type: str = Field(max_length=20)
    text: Text | None = None
    fileName: str | None = Field(default=None, max_length=255)  # noqa: N815
    title: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = None
    longitude: float | None = None


class LineEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(max_length=40)
    webhookEventId: Id  # noqa: N815
    timestamp: int = Field(ge=0)
    source: LineSource
    message: LineMessage | None = None


class LineWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    destination: str | None = Field(default=None, max_length=200)
    events: list[LineEvent] = Field(max_length=MAX_EVENTS)


class LineOut(BaseModel):
    taken: int
    cases: list[str]
    #: Messages over their sender's rate limit, not stored (LINE is still answered 200).
    skipped: int = 0
    status: Literal["ok"] = "ok"


def verify_line_signature(secret: str, body: bytes, header: str | None) -> None:
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    if not header or not hmac.compare_digest(expected, header.strip().encode()):
        raise Unauthorized(
            "bad_signature", _l("{header} is missing or does not match the body.", header=SIGNATURE)
        )


def _text_of(message: LineMessage) -> str | None:
    if message.type == "text":
        return message.text
    if message.type in ("image", "video", "audio"):
        return f"[{message.type}]"
    if message.type == "file":
        return f"[file] {message.fileName or ''}".strip()
    if message.type == "location":
        where = " ".join(x for x in (message.title, message.address) if x)
        return f"[location] {where} ({message.latitude}, {message.longitude})".strip()
    if message.type == "sticker":
        return "[sticker]"
    return None


def to_inbound(event: LineEvent) -> InboundMessage | None:
    """The message of one event, or None for events that are not a traveller writing."""
    if event.type != "message" or event.message is None or event.source.userId is None:
        return None
    text = _text_of(event.message)
    if not text:
        return None
    return InboundMessage(
        source=SOURCE,
        sender_id=event.source.userId,
        external_id=event.webhookEventId,
        text=text,
        sent_at=datetime.fromtimestamp(min(event.timestamp, 2**42) / 1000, tz=UTC),
        meta={"line_message_id": event.message.id, "line_type": event.message.type},
    )


@router.post("/line", response_model=LineOut)
async def intake_line(request: Request, ctx: ContextDep) -> LineOut:
    """Take a LINE webhook delivery; answers 200 only after every message in it is committed."""
    settings = ctx.settings
    if settings.line_channel_secret is None:
        raise ChannelNotConfigured(
            "channel_not_configured",
            _l("LINE is not configured ({setting}).", setting="CONSULT119_LINE_CHANNEL_SECRET"),
        )
    secret = settings.line_channel_secret.get_secret_value()
    header = request.headers.get(SIGNATURE)
    webhook = await read_json(
        request,
        LineWebhook,
        max_bytes=settings.max_body_bytes * 4,
        verify=lambda body: verify_line_signature(secret, body, header),
    )
    messages = [m for m in (to_inbound(e) for e in webhook.events) if m is not None]
    # Limited per sender and per event: one flooding user must not cost the others in the same
    # delivery their messages. What is over the limit is skipped, yet LINE gets its 200: a
    # refusal would only bring the whole delivery back, again and again.
    ack = Ack.QUEUED if settings.line_channel_token is not None else Ack.NONE
    taken = [t for t in await take_all(ctx, messages, ack=ack) if t is not None]
    skipped = len(messages) - len(taken)
    if skipped:
        log.warning(
            "LINE webhook: %d of %d messages over their sender's rate limit, not stored",
            skipped,
            len(messages),
        )
    return LineOut(taken=len(taken), cases=[t.result.case_number for t in taken], skipped=skipped)
