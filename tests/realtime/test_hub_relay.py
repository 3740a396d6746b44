"""The hub never waits on a connection; the relay publishes every committed event once, in order."""

from __future__ import annotations

import asyncio
import json
import threading

from consult119.console.shaping import FULL, OPERATIONAL
from consult119.realtime import events
from consult119.realtime.hub import Hub, Subscriber
from consult119.realtime.relay import Relay


def frame(i: int, **data):
    return {
        "type": "event",
        "id": i,
        "name": "message.created",
        "at": "2024-01-01T00:00:00Z",
        "ticket_id": 1,
        "actor_id": None,
        "data": {"message": {"id": i, "direction": "inbound", "text": "secret"}, **data},
    }


def ids(sub: Subscriber) -> list[int | None]:
    """The event ids buffered for ``sub`` (taking them)."""
    return [event_id for event_id, _ in sub.take() or ()]


def test_a_subscriber_waits_without_a_buffer_and_wakes_on_a_frame_or_a_stop():
    async def scenario():
        sub = Subscriber(audience=FULL, staff_id=1, queue_size=4, on_overflow=lambda: None)
        assert sub.take() is None  # an idle console holds no buffer
        waiting = asyncio.create_task(sub.wait())
        await asyncio.sleep(0)
        assert not waiting.done()
        sub.offer(None, '{"type":"pong"}')
        await asyncio.wait_for(waiting, 5)
        assert sub.take() is not None and sub.take() is None
        waiting = asyncio.create_task(sub.wait())
        await asyncio.sleep(0)
        sub.stop()
        await asyncio.wait_for(waiting, 5)
        assert sub.stopped

    asyncio.run(scenario())


def test_a_full_queue_flags_its_connection_once_and_spares_the_others():
    async def scenario():
        hub = Hub()
        kicked = []
        slow = Subscriber(
            audience=FULL, staff_id=1, queue_size=2, on_overflow=lambda: kicked.append("slow")
        )
        fast = Subscriber(audience=FULL, staff_id=2, queue_size=100, on_overflow=kicked.append)
        hub.subscribe(slow)
        hub.subscribe(fast)
        hub.publish([frame(i) for i in range(1, 6)])
        assert kicked == ["slow"] and slow.overflowed
        assert slow.pending() == 2 and fast.pending() == 5 and slow.stopped
        hub.publish([frame(6)])
        assert kicked == ["slow"]  # flagged once; nothing more queued for it
        assert ids(fast) == [1, 2, 3, 4, 5, 6] and not fast.stopped
        assert hub.connections_of(1) == 1
        hub.unsubscribe(slow)
        hub.unsubscribe(slow)
        assert hub.connections_of(1) == 0 and len(hub) == 1

    asyncio.run(scenario())


def test_each_audience_gets_its_own_shape():
    async def scenario():
        hub = Hub()
        doctor = Subscriber(audience=FULL, staff_id=1, queue_size=9, on_overflow=lambda: None)
        manager = Subscriber(
            audience=OPERATIONAL, staff_id=2, queue_size=9, on_overflow=lambda: None
        )
        hub.subscribe(doctor)
        hub.subscribe(manager)
        hub.publish([frame(1, patient_note="allergic to penicillin", staff_id=5)])
        ((_, d),) = doctor.take()
        ((_, m),) = manager.take()
        assert json.loads(d)["data"]["message"]["text"] == "secret"
        shaped = json.loads(m)["data"]
        assert shaped == {"message": {"id": 1, "direction": "inbound"}, "staff_id": 5}

    asyncio.run(scenario())


def test_relay_publishes_concurrent_commits_once_and_in_order(db):
    writers, per_writer = 4, 25

    def write(w: int) -> None:
        for i in range(per_writer):
            with db.unit_of_work() as s:
                events.append(s, "test.tick", data={"w": w, "i": i})
                if i % 5 == 0:
                    events.append(s, "test.tick", data={"w": w, "i": i, "extra": True})

    async def scenario():
        hub = Hub()
        sub = Subscriber(audience=FULL, staff_id=1, queue_size=10_000, on_overflow=lambda: None)
        hub.subscribe(sub)
        relay = Relay(db, hub, poll_interval=0.2, batch_size=7)
        await relay.start()
        db.add_commit_hook(relay.on_commit)
        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        expected = writers * (per_writer + per_writer // 5)
        await asyncio.to_thread(lambda: [t.join() for t in threads])
        async with asyncio.timeout(30):
            while sub.pending() < expected:
                await asyncio.sleep(0.05)
        await relay.stop()
        assert ids(sub) == list(range(1, expected + 1))
        assert relay.last_id == expected

    asyncio.run(scenario())


def test_relay_starts_after_the_newest_event(db):
    with db.unit_of_work() as s:
        for _ in range(3):
            events.append(s, "test.old")

    async def scenario():
        hub = Hub()
        sub = Subscriber(audience=FULL, staff_id=1, queue_size=10, on_overflow=lambda: None)
        hub.subscribe(sub)
        relay = Relay(db, hub, poll_interval=0.05)
        await relay.start()
        assert relay.last_id == 3
        with db.unit_of_work() as s:
            events.append(s, "test.new")
        async with asyncio.timeout(10):  # found by the poll: no hook is registered
            while not sub.pending():
                await asyncio.sleep(0.02)
        await relay.stop()
        ((event_id, text),) = sub.take()
        assert event_id == 4 and json.loads(text)["name"] == "test.new"

    asyncio.run(scenario())


def test_staff_disabled_revokes_that_staff_members_connections_only():
    async def scenario():
        hub = Hub()
        revoked: list[tuple[int, str]] = []

        def sub(staff_id: int) -> Subscriber:
            return Subscriber(
                audience=FULL,
                staff_id=staff_id,
                queue_size=9,
                on_overflow=lambda: None,
                on_revoke=lambda reason: revoked.append((staff_id, reason)),
            )

        a1, a2, b = sub(1), sub(1), sub(2)
        for s in (a1, a2, b):
            hub.subscribe(s)
        disabled = {
            "type": "event",
            "id": 2,
            "name": "staff.disabled",
            "at": None,
            "ticket_id": None,
            "actor_id": None,
            "data": {"staff_id": 1},
        }
        hub.publish([frame(1), disabled, frame(3)])
        assert revoked == [(1, "account_disabled"), (1, "account_disabled")]
        # Staff 1 got what came before the disable and nothing after; staff 2 got everything.
        assert ids(a1) == [1] and ids(a2) == [1] and ids(b) == [1, 2, 3]
        assert a1.stopped and a2.stopped and not b.stopped
        role = {
            **disabled,
            "id": 4,
            "name": "staff.role_changed",
            "data": {"staff_id": 2, "from": "emt", "to": "manager"},
        }
        hub.publish([role])
        assert revoked[-1] == (2, "role_changed")
        assert hub.revoke(99, "account_disabled") == 0

    asyncio.run(scenario())
