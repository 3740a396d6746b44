"""The pager's sender: an outbox payload row (source ``pager``) POSTed to the operator's
webhook, signed with ``CONSULT119_ALERT_WEBHOOK_SECRET``. The body is the row's payload as
written at escalation (:func:`consult119.alerts.pager.body`), so a retry posts the same bytes."""

from __future__ import annotations

import httpx

from consult119.config import Settings
from consult119.outbound.senders import Job, SendError, post_signed


async def send(job: Job, settings: Settings, client: httpx.AsyncClient) -> str:
    if not settings.alert_webhook_url:
        raise SendError("pager_not_configured", permanent=True)
    if job.payload is None:
        raise SendError("pager_payload_missing", permanent=True)
    response = await post_signed(
        client,
        settings.alert_webhook_url,
        job.payload,
        settings.alert_webhook_secret,
        timeout=settings.outbound_timeout_seconds,
        what="pager",
    )
    return response.headers.get("x-request-id", "")
