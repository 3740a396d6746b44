"""The SMS sender: an outbox payload row (source ``sms``, payload ``{"to", "text", "ticket_id",
"case_number"}``) POSTed to ``CONSULT119_SMS_URL``, signed with ``CONSULT119_SMS_SECRET``
exactly like the pager webhook. Rows are queued by
:func:`consult119.outbound.payloads.enqueue_sms`."""

from __future__ import annotations

import httpx

from consult119.config import Settings
from consult119.outbound.senders import Job, SendError, post_signed

#: The keys of an SMS row's payload, all of them posted as they are.
FIELDS = ("to", "text", "ticket_id", "case_number")


async def send(job: Job, settings: Settings, client: httpx.AsyncClient) -> str:
    if not settings.sms_url:
        raise SendError("sms_not_configured", permanent=True)
    payload = job.payload or {}
    if not payload.get("to") or not payload.get("text"):
        raise SendError("sms_payload_incomplete", permanent=True)
    response = await post_signed(
        client,
        settings.sms_url,
        {key: payload.get(key) for key in FIELDS},
        settings.sms_secret,
        timeout=settings.outbound_timeout_seconds,
        what="sms",
    )
    return response.headers.get("x-request-id", "")
