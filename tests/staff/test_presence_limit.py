"""Presence changes are limited per person, from the API and the console together: each change is
an event to every console, so a loop posting presence must not flood them."""

from __future__ import annotations

import asyncio
import itertools

import httpx
from sqlalchemy import func, select

from consult119.context import PRESENCE_BURST
from consult119.realtime.models import Event
from tests.console.helpers import open_console
from tests.factories import make_staff


def presence_events(db) -> int:
    with db.read_session() as session:
        return session.scalar(
            select(func.count()).select_from(Event).where(Event.name == "presence.changed")
        )


def test_a_presence_flood_is_refused_and_sends_few_events(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    other = make_staff(db, "doctor", on_duty=True)
    before = presence_events(db)
    codes = []
    with httpx.Client(base_url=live_server.url, headers=doctor.headers(live_server.url)) as http:
        for status in itertools.islice(itertools.cycle(["busy", "available"]), 200):
            r = http.post("/api/v1/staff/me/presence", json={"status": status})
            codes.append(r.status_code)
            if r.status_code == 429:
                assert r.json()["detail"]["code"] == "presence_rate_limited"
    assert codes[:PRESENCE_BURST] == [200] * PRESENCE_BURST
    assert codes.count(429) >= 200 - PRESENCE_BURST - 10  # a little refills while it runs
    assert presence_events(db) - before <= PRESENCE_BURST + 10

    async def console_is_limited_too() -> None:
        console = await open_console(live_server, doctor.token(live_server.url))
        await console.send({"type": "presence", "status": "away"})
        frame = await console.until(lambda f: f.get("type") == "error")
        assert frame["code"] == "presence_rate_limited"
        await console.close()
        # The limit is per person: a colleague is not affected.
        theirs = await open_console(live_server, other.token(live_server.url))
        await theirs.send({"type": "presence", "status": "away"})
        await theirs.until(lambda f: f.get("name") == "presence.changed")
        await theirs.close()

    asyncio.run(console_is_limited_too())
