"""Small asyncio helpers shared by the background loops (relay, outbox, web-chat push, the
attachment downloads)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from functools import lru_cache
from typing import Any

import httpx

from consult119.dberrors import log_failure

log = logging.getLogger(__name__)


async def wait_for_wake(event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass; True when it was set.

    The loops that wake on an event or else poll use this, not ``asyncio.wait_for``: on Python
    3.11, a task cancelled in the same turn of the loop as the event is set gets the event's
    result instead of its ``CancelledError``. The loop then goes round again and outlives its
    cancellation: a relay or an outbox that never stops, and a shutdown that hangs.
    ``asyncio.timeout`` tells its own expiry from the caller's cancellation.
    """
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The TLS context every outgoing HTTPS client of this process verifies with (certifi's CA
    bundle, or ``SSL_CERT_FILE``): loading the bundle costs some 15 ms of CPU, paid once, not
    once per worker's client."""
    return httpx.create_ssl_context()


class PollingWorker:
    """A background loop that works in rounds: woken by a commit of this process that concerns
    it, and otherwise polling every ``poll_seconds`` (for work another process or a crash left).

    The outbox dispatcher and the attachment download job are two of these. A subclass says
    which committed events wake it (:meth:`wants`) and does one round in :meth:`run_once`
    (returning how many items it took: a full round is followed at once by another). The worker
    owns one HTTP client for its rounds, made by :meth:`make_client`.
    """

    #: The task's name, in task dumps.
    name = "worker"
    #: What a failed round names in the log ("outbox round failed: …").
    what = "worker"

    def __init__(self, ctx: Any, *, poll_seconds: float) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = self.make_client()
        self.ctx.db.add_commit_hook(self._on_commit)
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    def make_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(verify=tls_context())

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None, "the worker is not started"
        return self._client

    # -- waking ----------------------------------------------------------------------------------
    def wants(self, event: dict[str, Any]) -> bool:
        """Whether a committed event (``{"name", "data", …}``) is work for this worker."""
        return False

    def _on_commit(self, committed: list[dict[str, Any]]) -> None:
        """Called in whichever thread committed: wake the loop when an event is ours."""
        if any(self.wants(event) for event in committed):
            self.wake()

    def wake(self) -> None:
        if self._loop is not None:
            # Called from commit hooks: a closed loop (shutdown) must not fail the commit's caller.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    # -- rounds ----------------------------------------------------------------------------------
    async def run_once(self) -> int:
        raise NotImplementedError

    async def _run(self) -> None:
        while True:
            try:
                while await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must outlive a bad round
                log_failure(log, f"{self.what} round failed", exc)
            await wait_for_wake(self._wake, self.poll_seconds)
            self._wake.clear()
