"""The e-mail channel's sender: a reply handed to the SMTP relay, threaded and tagged."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import httpx
from starlette.concurrency import run_in_threadpool

from consult119.attachments.store import AttachmentStore
from consult119.config import Settings
from consult119.mailaddress import one_line, plain_address
from consult119.outbound.senders import Job, SendError


def relay_address(relay: str) -> tuple[str, int]:
    host, _, port = relay.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"CONSULT119_SMTP_RELAY must be host:port, not {relay!r}")
    return host.strip("[]"), int(port)


def build_email(job: Job, settings: Settings) -> EmailMessage:
    """The reply as an RFC 5322 message, threaded and tagged with the case token."""
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = formataddr((one_line(job.recipient_name, 200), job.recipient or ""))
    mail["Subject"] = job.subject or f"[{job.case_number}]"
    mail["Message-ID"] = job.email_message_id
    if job.in_reply_to:
        mail["In-Reply-To"] = job.in_reply_to
    if job.references:
        mail["References"] = " ".join(job.references)
    if job.created_at is not None:
        mail["Date"] = format_datetime(job.created_at)  # type: ignore[arg-type]
    # Stops vacation responders and loops; set on every reply, marked auto on acknowledgements.
    mail["Auto-Submitted"] = "auto-replied" if job.auto_reply else "no"
    mail["X-Consult119-Case"] = job.case_number
    mail.set_content(job.text, charset="utf-8")
    store = AttachmentStore(settings.attachments_path)
    for filename, content_type, sha in job.files:
        maintype, _, subtype = content_type.partition("/")
        try:
            data = store.path_of(sha).read_bytes()
        except FileNotFoundError:
            raise SendError("attachment_missing", permanent=True) from None
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return mail


def send_email(job: Job, settings: Settings) -> str:
    """Hand the reply to the relay. Returns its Message-ID."""
    if not settings.smtp_relay:
        raise SendError("smtp_relay_not_configured")
    if not job.recipient:
        raise SendError("no_email_address", permanent=True)
    # Only a plain address is written to (consult119.mailaddress): smtplib would read the
    # recipients from the To header with the lenient getaddresses, which takes
    # '"<victim@x>"@attacker' for victim@x.
    recipient = plain_address(job.recipient)
    if recipient is None:
        raise SendError("bad_email_address", permanent=True)
    host, port = relay_address(settings.smtp_relay)
    mail = build_email(job, settings)
    try:
        with smtplib.SMTP(host, port, timeout=settings.outbound_timeout_seconds) as smtp:
            refused = smtp.send_message(mail, to_addrs=[recipient])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendError(
            f"recipient_refused {codes}", permanent=all(c >= 500 for c in codes)
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"smtp_{exc.smtp_code}", permanent=500 <= exc.smtp_code < 600) from exc
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        raise SendError(f"relay_unreachable {type(exc).__name__}") from exc
    if refused:
        # The address itself stays out of the error: it is personal data and errors are logged.
        codes = sorted({code for code, _ in refused.values()})
        raise SendError(f"recipient_refused {codes}", permanent=True)
    return str(job.email_message_id)


async def send(job: Job, settings: Settings, client: httpx.AsyncClient) -> str:
    """:func:`send_email` in a worker thread (smtplib blocks); the HTTP client is not used."""
    return await run_in_threadpool(send_email, job, settings)
