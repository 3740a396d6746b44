"""What every channel's sender shares: the :class:`Job` it gets and the :class:`SendError` it
raises. A sender gets a job (everything it needs, read before the attempt) and either returns an
external reference or raises :class:`SendError` saying whether trying again can help. The
senders themselves live with their channel (``consult119.channels.<name>.sender``);
:mod:`consult119.channels.senders` says which one serves a source.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from consult119.channels.edge.http import SIGNATURE_HEADER, sign
from consult119.config import Settings


class SendError(Exception):
    """A failed attempt. ``permanent``: the same request will never succeed (bad address…)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Job:
    """One reply to send, with what its channel needs to address and thread it; or one payload
    row (``message_id`` None, ``payload`` what its sender posts: the pager, SMS)."""

    message_id: int | None
    ticket_id: int | None
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
    #: The reply's files, on channels that carry them: (filename, content type, SHA-256 in
    #: the attachment store).
    files: tuple[tuple[str, str, str], ...] = ()
    payload: dict[str, Any] | None = None


def http_outcome(response: httpx.Response, what: str) -> None:
    if response.status_code < 300:
        return
    # 4xx (other than 408/429) will fail the same way again; 5xx, 408, 429 may pass later.
    retry = response.status_code >= 500 or response.status_code in (408, 429)
    raise SendError(f"{what}_http_{response.status_code}", permanent=not retry)


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    secret: SecretStr | None,
    *,
    timeout: float,
    what: str,
) -> httpx.Response:
    """POST ``payload`` as JSON to ``url``, signed like chat intake: ``X-Consult119-Signature:
    sha256=<hex HMAC-SHA256 of the exact body>`` when ``secret`` is set. A connection failure
    or a 5xx/408/429 is a temporary :class:`SendError`, another 4xx a permanent one; errors
    name ``what`` and the status, never the secret or the body."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret.get_secret_value(), body)
    try:
        response = await client.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise SendError(f"{what}_unreachable {type(exc).__name__}") from exc
    http_outcome(response, what)
    return response


#: A channel's sender: the job, the settings and the dispatcher's shared HTTP client in, the
#: external reference out (or :class:`SendError`).
Sender = Callable[[Job, Settings, httpx.AsyncClient], Awaitable[str]]
