"""The per-process hub: fans events out to console connections without ever waiting on one.

Each connection is a :class:`Subscriber` with a bounded queue drained by its own sender task
(the websockets broadcast guide's pattern). :meth:`Hub.publish` only ever calls
``put_nowait``: a connection whose queue is full is flagged and told (by its own code) to
resume, and the others never notice. An event is shaped and encoded once per audience, not
once per connection, so a thousand consoles cost a thousand queue puts and two ``json.dumps``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from consult119.console.shaping import shape_event

log = logging.getLogger(__name__)

#: A queued frame: the event id it carries (None for replies such as pong) and its JSON text.
QueuedFrame = tuple[int | None, str]


def encode(frame: dict[str, Any]) -> str:
    """JSON text of a frame (compact, UTF-8 kept as is)."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=str)


class Subscriber:
    """One console connection as the hub sees it."""

    __slots__ = ("audience", "staff_id", "queue", "floor", "overflowed", "_on_overflow")

    def __init__(
        self,
        *,
        audience: str,
        staff_id: int,
        queue_size: int,
        on_overflow: Callable[[], None],
    ) -> None:
        self.audience = audience
        self.staff_id = staff_id
        self.queue: asyncio.Queue[QueuedFrame] = asyncio.Queue(maxsize=queue_size)
        #: Events with an id up to this one were already sent (by a snapshot or a replay).
        self.floor = 0
        self.overflowed = False
        self._on_overflow = on_overflow

    def offer(self, event_id: int | None, text: str) -> bool:
        """Queue a frame without waiting; on a full queue, flag the connection once."""
        if self.overflowed:
            return False
        try:
            self.queue.put_nowait((event_id, text))
        except asyncio.QueueFull:
            self.overflowed = True
            self._on_overflow()
            return False
        return True


class Hub:
    """Every console connection of this process."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._per_staff: Counter[int] = Counter()
        #: The id of the last event published here (the relay's position).
        self.last_event_id = 0
        self.published = 0

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self, sub: Subscriber) -> None:
        """Start queueing live events for ``sub`` (before its snapshot or replay is read)."""
        self._subscribers.add(sub)
        self._per_staff[sub.staff_id] += 1

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
            self._per_staff[sub.staff_id] -= 1
            if self._per_staff[sub.staff_id] <= 0:
                del self._per_staff[sub.staff_id]

    def connections_of(self, staff_id: int) -> int:
        """How many consoles ``staff_id`` has open on this process."""
        return self._per_staff.get(staff_id, 0)

    def publish(self, frames: Iterable[dict[str, Any]]) -> None:
        """Queue event frames (in id order) to every connection; never blocks."""
        subscribers = list(self._subscribers)
        for frame in frames:
            encoded: dict[str, str] = {}
            event_id = int(frame["id"])
            for sub in subscribers:
                text = encoded.get(sub.audience)
                if text is None:
                    text = encoded[sub.audience] = encode(shape_event(frame, sub.audience))
                sub.offer(event_id, text)
            self.last_event_id = max(self.last_event_id, event_id)
            self.published += 1
