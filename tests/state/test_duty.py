"""Zulip's rule for duty changes (tests/state/test_actions.py): a shift added for now, and a
shift that ends, seen by every console. The scheduler's tick acts on every case in the
database, so this test has a server and an emptied database of its own (``own_room``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from consult119.db import utcnow
from consult119.staff.models import Shift
from consult119.triage import scheduler
from tests.factories import make_staff
from tests.state.helpers import api, assert_follows


def run(coro):
    return asyncio.run(coro)


def test_a_shift_beginning_now_and_a_shift_ending(own_room, db):
    room = own_room

    async def scenario():
        newcomer = make_staff(db, "doctor")
        # The room's shifts end within 12 h: the first tick raises that roster gap's alert,
        # before the watched actions (which must show nothing but their own events).
        await asyncio.to_thread(scheduler.tick, db, now=utcnow())

        async def begin():
            now = utcnow()
            body = {
                "staff_id": newcomer.id,
                "start": (now - timedelta(minutes=1)).isoformat(),
                "end": (now + timedelta(hours=8)).isoformat(),
            }
            await api(room, "admin", "POST", "/api/v1/roster", body)

        assert await assert_follows(room, begin) == ["duty.started"]

        async def end():
            def shift_over() -> None:
                now = utcnow()
                with db.unit_of_work() as s:
                    shift = s.scalars(
                        select(Shift).where(Shift.staff_id == room.colleague.id)
                    ).one()
                    shift.ends_at = now - timedelta(seconds=1)
                scheduler.tick(db, now=now)

            await asyncio.to_thread(shift_over)

        watchers = ("doctor", "colleague", "emt", "manager")
        assert await assert_follows(room, end, watchers) == ["duty.ended"]

    run(scenario())
