"""The relay: brings committed events from the log to this process's hub, in id order.

The event log is the single source of truth. The relay remembers the last id it published
and reads ``id > last ORDER BY id`` in short read transactions whenever it is woken:

- in-process, by the database's commit hook (commits run in worker threads, so the hook hops
  onto the event loop with ``call_soon_threadsafe``);
- across processes on PostgreSQL, by ``LISTEN consult119_events`` on a dedicated autocommit
  connection (the event log's writer issues ``pg_notify`` inside the committing transaction);
- and by a poll every ``relay_poll_interval`` seconds, so a lost notification, a dropped
  listener connection or a missed wake-up delays an event by at most one interval and never
  loses it.

Because event ids are allocated in commit order, reading "after the last id" can never skip an
event that commits later with a smaller id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from consult119.aio import wait_for_wake
from consult119.db import Database
from consult119.dberrors import log_failure
from consult119.realtime import repository
from consult119.realtime.events import listen
from consult119.realtime.hub import Hub

log = logging.getLogger(__name__)


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a ``Z``, as the API writes times."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_frame(event: Any) -> dict[str, Any]:
    """The ``{"type": "event", ...}`` frame of one event, before role shaping."""
    return {
        "type": "event",
        "id": event.id,
        "name": event.name,
        "at": iso(event.at),
        "ticket_id": event.ticket_id,
        "actor_id": event.actor_id,
        "data": event.data or {},
    }


def read_events_after(session: Session, after: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` event frames with id > ``after``, in id order."""
    return [event_frame(row) for row in repository.events_after(session, after, limit)]


class Relay:
    """Publishes every committed event to ``hub`` exactly once, in order."""

    def __init__(
        self,
        db: Database,
        hub: Hub,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 500,
        listen_url: str | None = None,
    ) -> None:
        self.db = db
        self.hub = hub
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.listen_url = listen_url
        self.last_id = 0
        #: Highest event id known committed (from this process's commits and NOTIFY payloads).
        self.known_head = 0
        self.listening = False
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # One thread of its own, so a busy request pool never delays the console.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay")

    async def start(self) -> None:
        """Begin after the newest committed event: consoles catch up from the log by id."""
        self._loop = asyncio.get_running_loop()
        self.last_id = await self._run(self._head)
        self.hub.last_event_id = self.last_id
        self._tasks.append(asyncio.create_task(self._pump(), name="relay-pump"))
        if self.listen_url:
            self._tasks.append(asyncio.create_task(self._listen(), name="relay-listen"))

    @property
    def running(self) -> bool:
        """Whether the pump that publishes events is running."""
        return bool(self._tasks) and not self._tasks[0].done()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def wake(self) -> None:
        """Ask for a read soon. Safe from any thread; a no-op once the loop is gone."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between check and call
            loop.call_soon_threadsafe(self._wake.set)

    def on_commit(self, events: list[Any]) -> None:
        """The database commit hook: events were committed in this process."""
        if events:
            self.known_head = max(self.known_head, int(events[-1]["id"]))
        self.wake()

    async def _run(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    def _head(self) -> int:
        with self.db.read_session() as session:
            return repository.head_event_id(session)

    def _read(self, after: int) -> list[dict[str, Any]]:
        with self.db.read_session() as session:
            return read_events_after(session, after, self.batch_size)

    async def _pump(self) -> None:
        while True:
            await wait_for_wake(self._wake, self.poll_interval)
            self._wake.clear()
            try:
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next poll retries
                log_failure(log, "relay: reading the event log failed", exc)

    async def catch_up(self) -> None:
        """Publish everything committed after :attr:`last_id`, batch by batch."""
        if len(self.hub) == 0:
            # Nobody to publish to: move past what this process knows is committed, without a
            # read. A console that subscribes later starts from the log at or after that point;
            # anything older the relay still publishes is dropped by the console's floor.
            self.last_id = max(self.last_id, self.known_head)
            return
        while True:
            frames = await self._run(self._read, self.last_id)
            if not frames:
                return
            self.hub.publish(frames)
            self.last_id = int(frames[-1]["id"])
            if len(frames) < self.batch_size:
                return

    async def _listen(self) -> None:
        """LISTEN for commits of other processes; reconnects forever, polling covers gaps."""
        import psycopg

        delay = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.listen_url, autocommit=True)
                async with conn:
                    await listen(conn)
                    self.listening = True
                    delay = 0.5
                    self._wake.set()  # anything committed while we were not listening
                    async for note in conn.notifies():
                        with contextlib.suppress(ValueError):
                            self.known_head = max(self.known_head, int(note.payload))
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep listening; the poll covers the gap
                log.warning("relay: LISTEN connection lost (%s); reconnecting", exc)
            finally:
                self.listening = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
