"""One sender per pushed channel: e-mail through the SMTP relay, LINE push, Kakao bot events.

A sender gets a :class:`Job` (everything it needs, read before the attempt) and either returns
an external reference or raises :class:`SendError` saying whether trying again can help.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import httpx

from consult119.config import Settings
from consult119.mailaddress import one_line, plain_address


class SendError(Exception):
    """A failed attempt. ``permanent``: the same request will never succeed (bad address…)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Job:
    """One reply to send, with what its channel needs to address and thread it."""

    message_id: int
    ticket_id: int
    case_number: str
    source: str
    text: str
    #: The traveller's address on the channel (e-mail address, LINE userId, Kakao botUserKey).
    recipient: str | None
    recipient_name: str | None = None
    #: E-mail: the Message-ID of this reply (fixed before the first attempt) and the thread.
    email_message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str | None = None
    auto_reply: bool = False
    created_at: object = None
    extra: dict = field(default_factory=dict)


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


def _http_outcome(response: httpx.Response, what: str) -> None:
    if response.status_code < 300:
        return
    # 4xx (other than 408/429) will fail the same way again; 5xx, 408, 429 may pass later.
    retry = response.status_code >= 500 or response.status_code in (408, 429)
    raise SendError(f"{what}_http_{response.status_code}", permanent=not retry)


async def send_line(job: Job, settings: Settings, client: httpx.AsyncClient) -> str:
    """LINE push API: one text message to the user."""
    if settings.line_channel_token is None:
        raise SendError("line_not_configured", permanent=True)
    if not job.recipient:
        raise SendError("no_line_user", permanent=True)
    try:
        response = await client.post(
            settings.line_push_url,
            headers={
                "Authorization": f"Bearer {settings.line_channel_token.get_secret_value()}",
                # LINE drops a retried push with the same key, so a retry never doubles.
                "X-Line-Retry-Key": job.extra["retry_key"],
            },
            json={"to": job.recipient, "messages": [{"type": "text", "text": job.text[:5000]}]},
            timeout=settings.outbound_timeout_seconds,
        )
    except httpx.HTTPError as exc:
        raise SendError(f"line_unreachable {type(exc).__name__}") from exc
    if response.status_code == 409:  # the retry key was already accepted: it went out
        return job.extra["retry_key"]
    _http_outcome(response, "line")
    return response.headers.get("x-line-request-id", job.extra["retry_key"])


async def send_kakao_event(job: Job, settings: Settings, client: httpx.AsyncClient) -> str:
    """Kakao bot event API: fire the configured event for the user with the reply text."""
    if not settings.kakao_event_api_url or settings.kakao_event_api_key is None:
        raise SendError("kakao_event_api_not_configured", permanent=True)
    if not job.recipient:
        raise SendError("no_kakao_user", permanent=True)
    try:
        response = await client.post(
            settings.kakao_event_api_url,
            headers={"Authorization": f"KakaoAK {settings.kakao_event_api_key.get_secret_value()}"},
            json={
                "event": {
                    "name": settings.kakao_event_name,
                    "data": {"text": job.text, "case_number": job.case_number},
                },
                "user": [{"type": "botUserKey", "id": job.recipient}],
                "params": {"message_id": str(job.message_id)},
            },
            timeout=settings.outbound_timeout_seconds,
        )
    except httpx.HTTPError as exc:
        raise SendError(f"kakao_unreachable {type(exc).__name__}") from exc
    _http_outcome(response, "kakao")
    try:
        return str(response.json().get("taskId", ""))
    except ValueError:
        return ""
