"""One mail taken: parsed, bounces and auto-replies dropped, the rest through the intake with
its acknowledgement by mail (withheld for an unusable From or past the per-address limits)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from consult119.attachments.inbound import store_mail_parts
from consult119.attachments.service import StoredFile
from consult119.channels.email.parser import ParsedEmail, parse_email
from consult119.config import Settings
from consult119.context import AppContext
from consult119.errors import DomainError, Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.intake.pipeline import Ack, take_blocking
from consult119.intake.service import InboundMessage, IntakeResult
from consult119.outbound.delivery import mark_bounced
from consult119.outbound.watchdog import pushable_sources
from consult119.ratelimit import RateLimiter

log = logging.getLogger(__name__)


@dataclass
class EmailOutcome:
    result: IntakeResult | None
    ignored: str | None = None


def to_inbound(
    parsed: ParsedEmail,
    files: tuple[StoredFile, ...] = (),
    refused: list[dict[str, str]] | None = None,
) -> InboundMessage:
    """The mail as the intake takes it, with its files stored already (``files``) and notes
    on the parts not kept (``refused``: a type we do not accept, an image that will not open)."""
    meta: dict[str, Any] = {"subject": parsed.subject}
    if refused:
        meta["attachments_refused"] = refused
    if parsed.reply_to is None:
        meta["ack_withheld"] = "invalid_sender"
    if parsed.dropped:
        meta["attachments_dropped"] = parsed.dropped
    if parsed.truncated:
        meta["truncated"] = True
    return InboundMessage(
        source="smtp",
        sender_id=parsed.sender,
        external_id=parsed.message_id,
        text=parsed.text,
        sender_name=parsed.sender_name,
        locale=parsed.locale,
        # Only a plain address becomes the contact's e-mail, the one replies are sent to.
        email=parsed.reply_to,
        meta=meta,
        thread_refs=parsed.refs,
        case_number_hint=parsed.case_token,
        attachments=files,
    )


def receive_email(ctx: AppContext, raw: bytes, *, envelope_from: str | None = None) -> EmailOutcome:
    """Parse and take one mail (sync: run it in a worker thread); a new case is acknowledged
    by mail. Bounces and auto-replies are dropped before the intake."""
    try:
        parsed = parse_email(raw, ctx.settings, envelope_from=envelope_from)
    except DomainError:
        raise
    except Exception as exc:  # noqa: BLE001 - parsing is pure: whatever fails, the mail caused it
        # A permanent refusal (422 / 550), never a 500 or a 451 the sender would retry forever.
        log.warning("unreadable mail refused (%s)", type(exc).__name__)
        raise Invalid("broken_mime", _l("The mail cannot be parsed.")) from exc
    if parsed.auto_reason is not None:
        if parsed.auto_reason in BOUNCE_REASONS:
            _record_bounce(ctx, raw)
        return EmailOutcome(None, ignored=parsed.auto_reason)
    limits = ack_limits(ctx)

    def gate(_: IntakeResult) -> str | None:
        if parsed.reply_to is None:
            return "invalid_sender"
        return None if limits.take(parsed.reply_to) else "rate_limited"

    # Files go into the store before the intake's transaction (this is a worker thread).
    files, refused = store_mail_parts(ctx.settings, parsed.attachments)
    inbound = to_inbound(parsed, tuple(files), refused)
    result = take_blocking(ctx, inbound, ack=Ack.QUEUED, gate=gate).result
    return EmailOutcome(result)


class AckLimits:
    """Token buckets on acknowledgement mails, per recipient address and per domain.

    Anyone can put any address in From, so without them a loop of forged mail would have
    the service write to one victim (or one provider) without end. The case is opened either
    way; only the acknowledgement is withheld. Per process, like :mod:`consult119.ratelimit`.
    """

    def __init__(self, settings: Settings) -> None:
        self.address = RateLimiter(
            burst=settings.ack_address_burst, per_second=settings.ack_address_per_hour / 3600
        )
        self.domain = RateLimiter(
            burst=settings.ack_domain_burst, per_second=settings.ack_domain_per_hour / 3600
        )

    def take(self, address: str) -> bool:
        """One acknowledgement to ``address`` allowed (and counted), or False."""
        # The address first: a flood naming one address spends only that address's tokens,
        # so it cannot starve everyone else at a large provider.
        return self.address.take(address) and self.domain.take(address.rpartition("@")[2])


def ack_limits(ctx: AppContext) -> AckLimits:
    """The process's acknowledgement limits (made on first use)."""
    if ctx.ack_limits is None:
        ctx.ack_limits = AckLimits(ctx.settings)
    return ctx.ack_limits


#: Machine mail that may report one of our replies as undeliverable.
BOUNCE_REASONS = {"delivery_report", "mailer_daemon", "null_sender"}
_OWN_ID_IN_TEXT = re.compile(rb"<c119\.(\d{1,18})\.[0-9a-f]{16}@[^<>\s]{1,200}>")


def _record_bounce(ctx: AppContext, raw: bytes) -> None:
    """Mark our replies a bounce names (by their Message-ID, anywhere in it) as failed."""
    cited = {
        int(m.group(1)): m.group(0).decode("ascii", "replace")
        for m in _OWN_ID_IN_TEXT.finditer(raw[:1_000_000])
    }
    if cited:
        with ctx.db.unit_of_work() as session:
            mark_bounced(
                session,
                dict(list(cited.items())[:20]),
                now=ctx.now(),
                pushable=pushable_sources(ctx.settings),
            )
