"""Small asyncio helpers shared by the background loops (relay, outbox, web-chat push)."""

from __future__ import annotations

import asyncio


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
