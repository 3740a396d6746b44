"""The per-process hub: fans events out to console connections without ever waiting on one.

Each connection is a :class:`Subscriber` with a bounded buffer drained by its own sender
(the websockets broadcast guide's pattern). :meth:`Hub.publish` only ever appends and wakes:
a connection whose buffer is full is flagged and told (by its own code) to resume, and the
others never notice. An event is shaped and encoded once per audience, not
once per connection, so a thousand consoles cost a thousand queue puts and two ``json.dumps``.

Some events end access: ``staff.disabled`` and ``staff.role_changed`` (a role change voids the
tokens issued for the old role). Every process's relay publishes them, so each hub revokes the
connections of that staff member it holds, before queueing them anything more; their owners
close them with 4401.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from consult119.console.shaping import shape_event

log = logging.getLogger(__name__)

#: Events after which a staff member's open consoles must close (``data.staff_id``).
REVOKING_EVENTS = frozenset({"staff.disabled", "staff.role_changed"})

#: A queued frame: the event id it carries (None for replies such as pong) and its JSON text.
QueuedFrame = tuple[int | None, str]


def encode(frame: dict[str, Any]) -> str:
    """JSON text of a frame (compact, UTF-8 kept as is)."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=str)


class Subscriber:
    """One console connection as the hub sees it: a bounded, lazily allocated frame buffer.

    An idle console holds no buffer at all (most consoles are idle most of the time, and an
    ``asyncio.Queue`` costs four deques whether it holds anything or not); a buffer appears
    when a frame is offered and is handed whole to the sender by :meth:`take`.
    """

    __slots__ = (
        "audience",
        "staff_id",
        "limit",
        "floor",
        "overflowed",
        "stopped",
        "_frames",
        "_waiter",
        "_on_overflow",
        "_on_revoke",
    )

    def __init__(
        self,
        *,
        audience: str,
        staff_id: int,
        queue_size: int,
        on_overflow: Callable[[], None],
        on_revoke: Callable[[str], None] | None = None,
    ) -> None:
        self.audience = audience
        self.staff_id = staff_id
        self.limit = queue_size
        #: Events with an id up to this one were already sent (by a snapshot or a replay).
        self.floor = 0
        self.overflowed = False
        #: Set when the connection must end (left, overflowed, revoked, expired).
        self.stopped = False
        self._frames: deque[QueuedFrame] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._on_overflow = on_overflow
        self._on_revoke = on_revoke

    def offer(self, event_id: int | None, text: str) -> bool:
        """Buffer a frame without waiting; on a full buffer, flag the connection once."""
        if self.overflowed:
            return False
        frames = self._frames
        if frames is None:
            frames = self._frames = deque()
        elif len(frames) >= self.limit:
            self.overflowed = True
            self._on_overflow()
            self.stop()
            return False
        frames.append((event_id, text))
        self._wake()
        return True

    def pending(self) -> int:
        """How many frames wait to be sent."""
        return len(self._frames) if self._frames is not None else 0

    def take(self) -> deque[QueuedFrame] | None:
        """Everything buffered, in order (None when nothing is); the buffer starts afresh."""
        frames, self._frames = self._frames, None
        return frames

    async def wait(self) -> None:
        """Until a frame is buffered or the connection is stopped."""
        while self._frames is None and not self.stopped:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    def stop(self) -> None:
        """End the connection: wake its sender, which then returns."""
        self.stopped = True
        self._wake()

    def revoke(self, reason: str) -> None:
        """Access ended: buffer nothing more and let the owner close with 4401."""
        if self.overflowed:
            return
        self.overflowed = True  # offer() refuses from now on
        if self._on_revoke is not None:
            self._on_revoke(reason)
        self.stop()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Hub:
    """Every console connection of this process."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._per_staff: dict[int, set[Subscriber]] = {}
        #: The id of the last event published here (the relay's position).
        self.last_event_id = 0
        self.published = 0

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self, sub: Subscriber) -> None:
        """Start queueing live events for ``sub`` (before its snapshot or replay is read)."""
        self._subscribers.add(sub)
        self._per_staff.setdefault(sub.staff_id, set()).add(sub)

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
            own = self._per_staff[sub.staff_id]
            own.discard(sub)
            if not own:
                del self._per_staff[sub.staff_id]

    def connections_of(self, staff_id: int) -> int:
        """How many consoles ``staff_id`` has open on this process."""
        return len(self._per_staff.get(staff_id, ()))

    def revoke(self, staff_id: int, reason: str) -> int:
        """End every console of ``staff_id`` on this process; how many there were."""
        subs = list(self._per_staff.get(staff_id, ()))
        for sub in subs:
            sub.revoke(reason)
        return len(subs)

    def publish(self, frames: Iterable[dict[str, Any]]) -> None:
        """Queue event frames (in id order) to every connection; never blocks."""
        subscribers = list(self._subscribers)
        for frame in frames:
            encoded: dict[str, str] = {}
            event_id = int(frame["id"])
            if frame.get("name") in REVOKING_EVENTS:
                self._revoke_for(frame)
            for sub in subscribers:
                text = encoded.get(sub.audience)
                if text is None:
                    text = encoded[sub.audience] = encode(shape_event(frame, sub.audience))
                sub.offer(event_id, text)
            self.last_event_id = max(self.last_event_id, event_id)
            self.published += 1

    def _revoke_for(self, frame: dict[str, Any]) -> None:
        staff_id = (frame.get("data") or {}).get("staff_id")
        if isinstance(staff_id, int) and not isinstance(staff_id, bool):
            reason = "account_disabled" if frame["name"] == "staff.disabled" else "role_changed"
            self.revoke(staff_id, reason)
