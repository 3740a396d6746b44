"""The LINE channel's sender: the LINE push API."""

from __future__ import annotations

import httpx

from consult119.config import Settings
from consult119.outbound.senders import Job, SendError, http_outcome


async def send(job: Job, settings: Settings, client: httpx.AsyncClient) -> str:
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
    http_outcome(response, "line")
    return response.headers.get("x-line-request-id", job.extra["retry_key"])
