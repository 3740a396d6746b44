"""The outbox dispatcher: sends queued replies and payload rows (the pager, SMS) after commit,
retries with backoff.

It wakes when a commit in this process appended an outbound ``message.created`` or an
``alert.escalated`` (whose pager row the same commit queued) and otherwise
polls, so replies written by another process (or left by a crash) go out too. Each round claims
due items in one short transaction, sends them concurrently without holding a session, and
records each outcome in its own short transaction.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool

from consult119.aio import PollingWorker
from consult119.channels.senders import SENDERS
from consult119.context import AppContext
from consult119.outbound import delivery, watchdog
from consult119.outbound import repository as outbound_repo
from consult119.outbound.delivery import Claimed
from consult119.outbound.jobs import load_jobs
from consult119.outbound.senders import Job, SendError

log = logging.getLogger(__name__)

#: Longest a claimed item stays with one process before another may try it.
LEASE = timedelta(minutes=2)


class Dispatcher(PollingWorker):
    name = "outbound-dispatcher"
    what = "outbox"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, poll_seconds=ctx.settings.outbound_poll_seconds)

    def wants(self, event: dict[str, Any]) -> bool:
        """New outbound messages wake the loop, and escalations (their pager rows)."""
        return event["name"] == "alert.escalated" or (
            event["name"] == "message.created"
            and event["data"].get("message", {}).get("direction") == "outbound"
        )

    # -- work --------------------------------------------------------------------------------
    def pushed_sources(self) -> list[str]:
        """Sources the dispatcher pushes: all but pull channels (Kakao when its API is set),
        and the payload rows' ``pager`` and ``sms``."""
        pull = set(delivery.PULL_SOURCES)
        if self.settings.kakao_event_api_url and self.settings.kakao_event_api_key:
            pull.discard("kakao")
        return [
            s
            for s in (
                "smtp",
                "line",
                "kakao",
                "telegram",
                "whatsapp",
                "phone",
                "manual",
                "pager",
                "sms",
            )
            if s not in pull
        ]

    async def run_once(self) -> int:
        """Claim and send one batch; returns how many items were tried."""
        claims, jobs = await run_in_threadpool(self._claim)
        if not claims:
            return 0
        await asyncio.gather(*(self._attempt(c, jobs.get(c.item_id)) for c in claims))
        return len(claims)

    def _claim(self) -> tuple[list[Claimed], dict[int, Job]]:
        with self.ctx.db.read_session() as session:
            if not outbound_repo.anything_due(
                session, now=self.ctx.now(), sources=self.pushed_sources()
            ):
                return [], {}
        with self.ctx.db.unit_of_work() as session:
            claims = delivery.claim_due(
                session, now=self.ctx.now(), lease=LEASE, sources=self.pushed_sources()
            )
            jobs = load_jobs(session, claims, mail_from=self.settings.mail_from)
        return claims, jobs

    async def _attempt(self, claim: Claimed, job: Job | None) -> None:
        try:
            if job is None:
                missing = "payload_missing" if claim.message_id is None else "message_missing"
                raise SendError(missing, permanent=True)
            ref = await self._send(job)
        except SendError as exc:
            await run_in_threadpool(self._record_failure, claim, str(exc), exc.permanent)
            return
        except Exception as exc:  # noqa: BLE001 - an unknown failure is retried, not lost
            log.exception("sending outbox item %s failed", claim.item_id)
            await run_in_threadpool(self._record_failure, claim, type(exc).__name__, False)
            return
        await run_in_threadpool(self._record_sent, claim, ref)

    async def _send(self, job: Job) -> str:
        sender = SENDERS.get(job.source)
        if sender is not None:
            return await sender(job, self.settings, self.client)
        raise SendError(f"no_sender_for_{job.source}", permanent=True)

    def _record_sent(self, claim: Claimed, ref: str) -> None:
        with self.ctx.db.unit_of_work() as session:
            delivery.mark_sent(session, claim, now=self.ctx.now(), external_ref=ref or None)

    def _record_failure(self, claim: Claimed, error: str, permanent: bool) -> None:
        s = self.settings
        with self.ctx.db.unit_of_work() as session:
            status = delivery.mark_attempt_failed(
                session,
                claim,
                error,
                now=self.ctx.now(),
                permanent=permanent,
                max_attempts=s.outbound_max_attempts,
                base=s.outbound_retry_base_seconds,
                cap=s.outbound_retry_max_seconds,
                pushable=watchdog.pushable_sources(s),
            )
        log.warning(
            "outbox item %s attempt %s: %s (%s)", claim.item_id, claim.attempts, error, status
        )


def start_dispatcher(ctx: AppContext) -> Dispatcher:
    """Start the dispatcher on the running loop (called from the app's lifespan)."""
    dispatcher = Dispatcher(ctx)
    dispatcher.start()
    ctx.dispatcher = dispatcher
    return dispatcher
