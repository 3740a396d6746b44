"""The SMTP intake listener (aiosmtpd), started by ``consult119 serve`` on ``--smtp-port``.

It runs in its own thread and event loop; each mail goes through the same parser and intake as
``POST /api/v1/intake/email``, in a worker thread, and is answered only after the commit:
250 taken (or a bounce/auto-reply dropped), 552 too large, 550 unusable mail, 451 try later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from consult119.channels.email.inbound import receive_email
from consult119.context import AppContext
from consult119.dberrors import log_failure
from consult119.errors import DomainError, PayloadTooLarge

log = logging.getLogger(__name__)
#: aiosmtpd's loggers: at INFO it writes every envelope address, at DEBUG every line of mail.
SMTP_LIBRARY_LOGGERS = ("mail.log", "mail.debug")


class WithoutDetails(logging.Filter):
    """Keep aiosmtpd's warnings and errors, but never what they are about.

    Its messages put the peer, the envelope addresses, commands and mail lines in their
    arguments; the bare format string ("%r unrecognised: %s") still says what happened.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.args = None
        return True


def quiet_library_log() -> None:
    """No personal data from the SMTP library reaches the process log: nothing below
    WARNING, and no message arguments at any level. Idempotent."""
    for name in SMTP_LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.setLevel(logging.WARNING)
        if not any(isinstance(f, WithoutDetails) for f in library.filters):
            library.addFilter(WithoutDetails())


#: Most recipients one mail may name; intake needs one.
MAX_RECIPIENTS = 20


class IntakeHandler:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(
                None, lambda: receive_email(self.ctx, raw, envelope_from=envelope.mail_from)
            )
        # SMTP reply lines are ASCII: refusals are given in English, the protocol's language.
        except PayloadTooLarge as exc:
            return f"552 5.3.4 {exc.text('en')}"
        except DomainError as exc:
            return f"550 5.6.0 {exc.code}: {exc.text('en')}"
        except Exception as exc:  # noqa: BLE001 - the sender keeps the mail and tries again
            log_failure(log, "SMTP intake failed", exc)
            return "451 4.3.0 Temporary failure, please try again later"
        if outcome.result is None:
            return f"250 2.0.0 OK (not a case: {outcome.ignored})"
        return f"250 2.0.0 OK {outcome.result.case_number}"


def start_smtp_listener(ctx: AppContext) -> Controller | None:
    """Start listening on ``settings.smtp_port`` (0: off). Returns the controller to stop."""
    settings = ctx.settings
    if not settings.smtp_port:
        return None
    quiet_library_log()
    kwargs: dict[str, Any] = {
        "data_size_limit": settings.max_mail_bytes,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "ident": "consult119 intake",
    }
    controller = Controller(
        IntakeHandler(ctx),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        server_hostname=settings.mail_from.rpartition("@")[2] or "consult119",
        **kwargs,
    )
    try:
        controller.start()
    except Exception as exc:  # noqa: BLE001 - e.g. the port is taken
        # The HTTP intake keeps serving every other channel; the operator sees why mail is not.
        log.error(
            "SMTP intake NOT listening on %s:%s: %s", settings.smtp_host, settings.smtp_port, exc
        )
        with contextlib.suppress(Exception):
            controller.stop()
        return None
    ctx.smtp_listener = controller
    log.info("SMTP intake listening on %s:%s", settings.smtp_host, settings.smtp_port)
    return controller


def stop_smtp_listener(controller: Controller | None) -> None:
    if controller is not None:
        controller.stop()
