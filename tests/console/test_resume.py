"""Resume after a drop, resync when too far behind, and a client that stops reading."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete
from websockets.exceptions import ConnectionClosed

from consult119.realtime import events
from consult119.realtime.models import Event
from tests.console.helpers import chat as red_flag_chat
from tests.console.helpers import doctor_on_duty_past_the_look_ahead, open_console

#: Without a red flag: these tests count a case's events (ticket.created, message.created),
#: and a red flag would add its alert.raised.
CALM = "배가 아파요"


async def chat(server, sender_id: str, message_id: str, text: str = CALM) -> dict:
    return await red_flag_chat(server, sender_id, message_id, text)


def run(coro):
    return asyncio.run(coro)


def ids(frames):
    return [f["id"] for f in frames]


def test_resume_after_a_drop_replays_every_missed_event_in_order(live_server, db):
    doctor = doctor_on_duty_past_the_look_ahead(db)
    token = doctor.token(live_server.url)

    async def scenario():
        console = await open_console(live_server, token)
        start = console.ready["last_event_id"]
        await console.close()
        # 15 new cases while the console is away: 30 events.
        for i in range(15):
            await chat(live_server, f"away-{i}", f"m-{i}")

        # Reconnect while more cases keep arriving.
        async def more():
            for i in range(10):
                await chat(live_server, f"during-{i}", f"d-{i}")

        writer = asyncio.create_task(more())
        resumed = await open_console(live_server, token, resume_after=start)
        await writer
        assert resumed.snapshot is None
        assert resumed.ready["resumed"] is True
        replayed = resumed.replayed
        assert len(replayed) >= 30
        assert resumed.ready["last_event_id"] == replayed[-1]["id"]
        await resumed.until_event_count(50 - len(replayed))
        got = ids(replayed) + ids(resumed.events)
        assert got == list(range(start + 1, start + 51))  # all, in order, no duplicates
        names = [f["name"] for f in replayed[:30]]
        assert names == ["ticket.created", "message.created"] * 15
        await resumed.close()

    run(scenario())


def test_resume_when_nothing_was_missed_is_just_ready(live_server, db):
    doctor = doctor_on_duty_past_the_look_ahead(db)
    token = doctor.token(live_server.url)

    async def scenario():
        await chat(live_server, "a", "a1")
        console = await open_console(live_server, token)
        last = console.ready["last_event_id"]
        await console.close()
        again = await open_console(live_server, token, resume_after=last)
        assert again.before_ready == []
        assert again.ready == {**again.ready, "last_event_id": last, "resumed": True, "replayed": 0}
        await again.close()

    run(scenario())


def test_too_far_behind_pruned_or_future_gets_resync_and_a_fresh_snapshot(start_server, db):
    server = start_server(CONSULT119_CONSOLE_MAX_REPLAY="5")
    doctor = doctor_on_duty_past_the_look_ahead(db)
    token = doctor.token(server.url)

    async def scenario():
        console = await open_console(server, token)
        start = console.ready["last_event_id"]
        await console.close()
        for i in range(4):
            await chat(server, f"s-{i}", f"m-{i}")  # 8 events: more than 5 to replay

        behind = await open_console(server, token, resume_after=start)
        kinds = [f["type"] for f in behind.before_ready]
        assert kinds == ["resync", "snapshot"]
        assert behind.before_ready[0]["reason"] == "too_old"
        assert behind.snapshot["queue"]["total"] == 4
        assert behind.ready["resumed"] is False
        assert behind.ready["last_event_id"] == start + 8
        await behind.close()

        # Within the replay limit, but the log no longer holds the first missed event.
        with db.unit_of_work() as s:
            s.execute(delete(Event).where(Event.id <= start + 5))
        pruned = await open_console(server, token, resume_after=start + 4)
        assert [f["type"] for f in pruned.before_ready] == ["resync", "snapshot"]
        await pruned.close()
        # Still kept: a normal replay.
        kept = await open_console(server, token, resume_after=start + 5)
        assert ids(kept.replayed) == [start + 6, start + 7, start + 8]
        await kept.close()

        # An id the server never issued: an error, then a fresh start.
        future = await open_console(server, token, resume_after=start + 1000)
        error, resync, snapshot = future.before_ready
        assert error["type"] == "error" and error["code"] == "resume_after_unknown"
        assert error["last_event_id"] == start + 8
        assert resync["type"] == "resync" and resync["reason"] == "future"
        assert snapshot["type"] == "snapshot"
        await future.close()

    run(scenario())


def append_padded(db, n: int, size: int) -> None:
    """``n`` large events straight into the log, as a burst of activity would."""
    with db.unit_of_work() as s:
        for i in range(n):
            events.append(s, "test.burst", data={"seq": i, "pad": "x" * size})


def test_a_client_that_stops_reading_is_told_to_resume_and_stalls_no_one(start_server, db):
    # Poll often: the test writes the log from its own process (no in-process wake on SQLite).
    server = start_server(CONSULT119_CONSOLE_QUEUE_SIZE="32", CONSULT119_RELAY_POLL_INTERVAL="0.05")
    doctor = doctor_on_duty_past_the_look_ahead(db)
    token = doctor.token(server.url)
    chunk, chunks = 16, 20  # 320 events of 32 kB: more than the socket buffers can hide

    async def scenario():
        stuck = await open_console(server, token, small_buffer=True)
        start = stuck.ready["last_event_id"]
        fast = [await open_console(server, token) for _ in range(2)]
        # In chunks no larger than a queue, each delivered to the fast consoles before the
        # next: they keep up by construction, so only the stuck one can fall behind.
        for n in range(1, chunks + 1):
            await asyncio.to_thread(append_padded, db, chunk, 32_000)
            for console in fast:
                await console.until_event_count(n * chunk, timeout=60)
        made = await chat(server, "after-burst", "m-after")
        total = chunk * chunks + 2
        for console in fast:
            await console.until_event_count(total, timeout=60)
            assert ids(console.events) == list(range(start + 1, start + total + 1))
            assert console.events[-2]["ticket_id"] == made["ticket_id"]

        # The stuck client, reading at last, finds what was buffered and then the close.
        code, reason = await close_code_after_reading(stuck)
        assert (code, reason) == (4409, "resume")
        seen = ids(stuck.events)
        assert seen == list(range(start + 1, start + 1 + len(seen)))
        assert len(seen) < total

        # It resumes from the last event it saw and gets the rest, in order.
        resumed = await open_console(server, token, resume_after=stuck.last_id)
        assert ids(resumed.replayed) == list(range(stuck.last_id + 1, start + total + 1))
        for console in [resumed, *fast]:
            await console.close()

    run(scenario())


async def close_code_after_reading(console) -> tuple[int, str]:
    try:
        while True:
            await console.next_frame(timeout=30)
    except ConnectionClosed as exc:
        assert exc.rcvd is not None, "closed without a close frame"
        return exc.rcvd.code, exc.rcvd.reason


def test_resume_from_zero_replays_the_whole_log(live_server, db):
    doctor = doctor_on_duty_past_the_look_ahead(db)
    token = doctor.token(live_server.url)

    async def scenario():
        for i in range(5):
            await chat(live_server, f"r-{i}", f"m-{i}")
        console = await open_console(live_server, token, resume_after=0)
        assert len(console.replayed) == 10
        await console.close()
        again = await open_console(live_server, token, resume_after=0)
        assert ids(again.replayed) == list(range(1, 11))
        await again.close()

    run(scenario())
