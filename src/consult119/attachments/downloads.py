"""Files a channel only announces, fetched after the commit: LINE content, Kakao image URLs.

The intake records such a file as a ``pending`` row (the console shows "photo arriving") and
acknowledges at once; this job, a :class:`~consult119.aio.PollingWorker` like the outbox
dispatcher, wakes after a commit that announced one and otherwise polls (a read: the idle poll
takes no write lock), claims due rows with a lease in one ``UPDATE … RETURNING`` (so two
processes never fetch the same file), fetches each without holding a session, and records the outcome in its own short
transaction with an ``attachment.updated`` event, so an open console shows the photo the moment
it is stored. A failed try is retried with backoff up to ``CONSULT119_MEDIA_FETCH_ATTEMPTS``;
then the file is ``failed`` (a refusal of the URL or of the bytes fails it at once).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from starlette.concurrency import run_in_threadpool

from consult119.aio import PollingWorker, tls_context
from consult119.attachments import repository as repo
from consult119.attachments import service
from consult119.attachments.fetch import FetchRefused, allowed_hosts, fetch_into
from consult119.attachments.models import Attachment, AttachmentState
from consult119.attachments.schemas import AttachmentPublic
from consult119.attachments.store import TooLarge
from consult119.outbound.delivery import backoff
from consult119.realtime import events

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 8
#: Refusals no retry can change: the file fails at once.
PERMANENT = {
    "not_https",
    "host_not_allowed",
    "redirect_to_other_host",
    "private_address",
    "credentials_in_url",
    "too_many_redirects",
    "http_400",
    "http_401",
    "http_403",
    "http_404",
    "http_410",
}


class Downloads(PollingWorker):
    name = "attachment-downloads"
    what = "attachment download"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx, poll_seconds=ctx.settings.outbound_poll_seconds)
        self.store = service.store_of(ctx.settings)

    def make_client(self) -> httpx.AsyncClient:
        # fetch_into checks each hop itself
        return httpx.AsyncClient(follow_redirects=False, verify=tls_context())

    def wants(self, event: dict[str, Any]) -> bool:
        """A message that announced a file wakes the job."""
        message = event["data"].get("message") if event["name"] == "message.created" else None
        return bool(message) and any(
            a.get("state") == "pending" for a in message.get("attachments", [])
        )

    async def run_once(self) -> int:
        rows = await run_in_threadpool(self._claim)
        await asyncio.gather(*(self._try(row) for row in rows))
        return len(rows)

    def _claim(self) -> list[Attachment]:
        now = self.ctx.now()
        with self.ctx.db.read_session() as session:
            if not repo.any_download_due(session, now=now):
                return []  # the idle poll: one indexed read, no write lock
        with self.ctx.db.unit_of_work() as session:
            rows = repo.claim_downloads(session, now=now, lease_until=now + LEASE, limit=BATCH)
            session.expunge_all()
            return rows

    async def _try(self, row: Attachment) -> None:
        try:
            stored = await self._fetch(row)
        except service.Refused as refused:
            await run_in_threadpool(self._record, row, None, refused.code, True)
        except FetchRefused as exc:
            await run_in_threadpool(self._record, row, None, exc.reason, exc.reason in PERMANENT)
        except Exception as exc:  # noqa: BLE001 - unknown: retried, never lost
            log.exception("downloading attachment %s failed", row.id)
            await run_in_threadpool(self._record, row, None, type(exc).__name__, False)
        else:
            await run_in_threadpool(self._record, row, stored, None, False)

    async def _fetch(self, row: Attachment) -> service.StoredFile:
        assert row.remote_ref is not None
        limit = self.settings.max_attachment_bytes
        headers: dict[str, str] = {}
        if row.remote_source == "line":
            base = self.settings.line_api_base.rstrip("/")
            url = f"{base}/v2/bot/message/{quote(row.remote_ref, safe='')}/content"
            hosts = frozenset({(urlsplit(base).hostname or "").lower()})
            token = self.settings.line_channel_token
            if token is None:
                raise FetchRefused("no_channel_token")
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        else:
            url = row.remote_ref
            hosts = allowed_hosts(self.settings.kakao_media_hosts)
        with self.store.spool(limit=limit) as spool:
            try:
                await fetch_into(
                    self.client,
                    url,
                    spool,
                    hosts=hosts,
                    timeout=self.settings.media_fetch_timeout_seconds,
                    allow_plain_http=self.settings.media_allow_plain_http,
                    headers=headers,
                )
            except TooLarge:
                raise service.Refused("too_large", row.filename) from None
            return await run_in_threadpool(service.accept, self.store, spool, row.filename)

    def _record(
        self,
        row: Attachment,
        stored: service.StoredFile | None,
        error: str | None,
        permanent: bool,
    ) -> None:
        now = self.ctx.now()
        with self.ctx.db.unit_of_work() as session:
            if stored is not None:
                values: dict[str, Any] = {
                    **stored.row(),
                    "state": AttachmentState.STORED.value,
                    "next_attempt_at": None,
                }
            elif permanent or row.attempts >= self.settings.media_fetch_attempts:
                log.warning("attachment %s not fetched: %s", row.id, error)
                values = {"state": AttachmentState.FAILED.value, "next_attempt_at": None}
            else:
                delay = backoff(
                    row.attempts,
                    base=self.settings.outbound_retry_base_seconds,
                    cap=self.settings.outbound_retry_max_seconds,
                )
                repo.mark(session, row.id, next_attempt_at=now + delay)
                return
            repo.mark(session, row.id, **values)
            fresh = repo.get(session, row.id)  # type: ignore[arg-type]
            assert fresh is not None and fresh.message_id is not None
            events.append(
                session,
                "attachment.updated",
                ticket_id=repo.ticket_of_message(session, fresh.message_id),
                at=now,
                data={
                    "message_id": fresh.message_id,
                    "attachment": AttachmentPublic.model_validate(fresh).model_dump(mode="json"),
                    "error": error,
                },
            )


def start_downloads(ctx: Any) -> Downloads:
    """Start the download job on the running loop (called from the app's lifespan)."""
    job = Downloads(ctx)
    job.start()
    return job
