"""The Kakao channel's sender: the bot event API (when configured; otherwise replies wait for
the traveller's next skill call, :func:`consult119.outbound.service.replies_for_answer`)."""

from __future__ import annotations

import httpx

from consult119.config import Settings
from consult119.outbound.senders import Job, SendError, http_outcome


async def send(job: Job, settings: Settings, client: httpx.AsyncClient) -> str:
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
    http_outcome(response, "kakao")
    try:
        return str(response.json().get("taskId", ""))
    except ValueError:
        return ""
