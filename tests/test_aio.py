"""The wake-or-poll wait of the background loops: a cancel is never lost."""

from __future__ import annotations

import asyncio

from consult119.aio import wait_for_wake
from consult119.realtime.hub import Hub
from consult119.realtime.relay import Relay


async def _loop_until_cancelled(event: asyncio.Event, rounds: list[int]) -> None:
    while True:
        await wait_for_wake(event, 10)
        event.clear()
        rounds.append(1)


def test_a_loop_cancelled_as_it_is_woken_stops():
    """The event is set and the task cancelled in the same turn of the loop: the wait that
    ``asyncio.wait_for`` does on Python 3.11 returns the event's result and the loop runs on."""

    async def scenario() -> list[int]:
        event, rounds = asyncio.Event(), []
        task = asyncio.create_task(_loop_until_cancelled(event, rounds))
        await asyncio.sleep(0)  # the task now waits on the event
        event.set()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert done, "the loop outlived its cancellation"
        assert task.cancelled()
        return rounds

    assert asyncio.run(scenario()) == []


def test_the_wait_says_whether_it_was_woken():
    async def scenario() -> tuple[bool, bool]:
        event = asyncio.Event()
        timed_out = await wait_for_wake(event, 0.01)
        asyncio.get_running_loop().call_later(0.01, event.set)
        woken = await wait_for_wake(event, 10)
        return timed_out, woken

    assert asyncio.run(scenario()) == (False, True)


def test_the_relay_stops_even_when_woken_as_it_stops(db):
    async def scenario() -> None:
        for _ in range(20):
            relay = Relay(db, Hub(), poll_interval=10)
            await relay.start()
            await asyncio.sleep(0)
            relay.on_commit([])  # a commit in this process wakes the relay ...
            await asyncio.sleep(0)  # ... on the loop's next turn, the one where stop cancels
            await asyncio.wait_for(relay.stop(), 5)

    asyncio.run(scenario())
