"""Roles, presence, several processes, and the Zulip rule: snapshot + events == snapshot."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult119.db import utcnow
from consult119.staff.models import Staff
from consult119.tickets import repository as ticket_repo
from consult119.tickets.events import ticket_event
from consult119.tickets.models import Ticket
from tests.console import state_js
from tests.console.helpers import chat, open_console
from tests.factories import add_shift, make_staff


def run(coro):
    return asyncio.run(coro)


def change_ticket(db, ticket_id: int, name: str, **values) -> None:
    """A state change as the case services make one: the row and its event, one commit."""
    with db.unit_of_work() as s:
        ticket = ticket_repo.get_ticket(s, ticket_id, for_update=True)
        now = ticket.updated_at.__class__.now(ticket.updated_at.tzinfo)
        assert ticket_repo.bump_version(s, ticket, now, **values)
        ticket_event(s, name, ticket, at=now)


def presence_of(db, staff_id: int) -> str:
    with db.read_session() as s:
        return s.scalar(select(Staff.presence).where(Staff.id == staff_id))


def test_snapshot_before_plus_events_equals_snapshot_after(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    emt = make_staff(db, "emt", on_duty=True, presence="available")
    token = doctor.token(live_server.url)

    async def scenario():
        kept = await chat(live_server, "p1", "m1")
        gone = await chat(live_server, "p2", "m2")
        before = await open_console(live_server, token)

        await chat(live_server, "p3", "m3", "열이 나요")  # a new case
        await chat(live_server, "p1", "m4", "아직도 아파요")  # joins a case
        await asyncio.to_thread(
            change_ticket,
            db,
            kept["ticket_id"],
            "ticket.assigned",
            assignee_id=doctor.id,
            status="assigned",
        )
        await asyncio.to_thread(
            change_ticket, db, gone["ticket_id"], "ticket.status_changed", status="resolved"
        )
        await before.send({"type": "presence", "status": "available"})
        await before.until(lambda f: f.get("name") == "presence.changed")
        head = await chat(live_server, "p4", "m5")
        await before.until(
            lambda f: f.get("ticket_id") == head["ticket_id"] and f.get("name") == "message.created"
        )
        after = await open_console(live_server, token)
        # The console's own state.js applies what the console received.
        state, fresh = state_js.replay(before.snapshot, before.events, after.snapshot)
        assert after.snapshot["last_event_id"] == state["last_event_id"]
        assert state == fresh
        assert [t["id"] for t in state["my_cases"]] == [kept["ticket_id"]]
        assert gone["ticket_id"] not in {t["id"] for t in state["queue"]}
        assert state["me"]["presence"] == "available"
        assert {s["id"] for s in state["staff"]} == {doctor.id, emt.id}
        await before.close()
        await after.close()

    run(scenario())


def test_manager_and_admin_consoles_carry_no_message_text(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    manager = make_staff(db, "manager")
    admin = make_staff(db, "admin")

    async def scenario():
        await chat(live_server, "x1", "m1", "가슴이 아프고 숨이 차요")
        doc = await open_console(live_server, doctor.token(live_server.url))
        mgr = await open_console(live_server, manager.token(live_server.url))
        adm = await open_console(live_server, admin.token(live_server.url))

        queued = mgr.snapshot["queue"]["items"][0]
        assert "red_flags" not in queued and "suspected_acuity" not in queued
        assert "country" not in queued and "disposition" not in queued
        assert queued["case_number"] and queued["status"] == "new"
        assert mgr.snapshot["my_cases"] == {"items": [], "total": 0}
        assert "red_flags" in doc.snapshot["queue"]["items"][0]

        await chat(live_server, "x2", "m2", "My passport number is M12345678")
        for console in (doc, mgr, adm):
            await console.until(lambda f: f.get("name") == "message.created")
        (d_msg,) = [e for e in doc.events if e["name"] == "message.created"]
        (m_msg,) = [e for e in mgr.events if e["name"] == "message.created"]
        (a_msg,) = [e for e in adm.events if e["name"] == "message.created"]
        assert d_msg["data"]["message"]["text"] == "My passport number is M12345678"
        # Admins coordinate the queue but never read a conversation (docs/security.md).
        assert a_msg["data"]["ticket"] == d_msg["data"]["ticket"]
        assert "text" not in a_msg["data"]["message"]
        assert "M12345678" not in repr(adm.events)
        assert m_msg["id"] == d_msg["id"]
        assert "text" not in m_msg["data"]["message"]
        assert m_msg["data"]["message"]["direction"] == "inbound"
        assert "red_flags" not in m_msg["data"]["ticket"]
        assert "M12345678" not in repr(mgr.events) + repr(mgr.snapshot)
        for console in (doc, mgr, adm):
            await console.close()

    run(scenario())


def test_presence_from_the_console_and_offline_after_the_grace(start_server, db):
    server = start_server(CONSULT119_PRESENCE_GRACE_SECONDS="1")
    doctor = make_staff(db, "doctor", on_duty=True)
    emt = make_staff(db, "emt", on_duty=True)

    async def scenario():
        watcher = await open_console(server, emt.token(server.url))
        console = await open_console(server, doctor.token(server.url))
        await console.send({"type": "presence", "status": "available"})
        changed = await watcher.until(lambda f: f.get("name") == "presence.changed")
        assert changed["data"] == {"staff_id": doctor.id, "from": "offline", "to": "available"}
        assert changed["actor_id"] == doctor.id
        assert presence_of(db, doctor.id) == "available"
        await console.close()
        offline = await watcher.until(lambda f: f.get("name") == "presence.changed")
        assert offline["data"] == {"staff_id": doctor.id, "from": "available", "to": "offline"}
        assert presence_of(db, doctor.id) == "offline"
        await watcher.close()

    run(scenario())


def test_a_reconnect_within_the_grace_keeps_the_doctor_available(start_server, db):
    server = start_server(CONSULT119_PRESENCE_GRACE_SECONDS="4")
    doctor = make_staff(db, "doctor", on_duty=True, presence="available")
    token = doctor.token(server.url)

    async def scenario():
        console = await open_console(server, token)
        await console.close()
        again = await open_console(server, token)
        await asyncio.sleep(6)  # past the grace the first close started
        assert presence_of(db, doctor.id) == "available"
        await again.close()

    run(scenario())


def test_two_processes_on_one_postgresql_database(backend, start_server, db):
    if backend != "postgresql":
        pytest.skip("several processes share PostgreSQL; SQLite serves one process")
    one = start_server(CONSULT119_PRESENCE_GRACE_SECONDS="3", CONSULT119_RELAY_POLL_INTERVAL="30")
    two = start_server(CONSULT119_PRESENCE_GRACE_SECONDS="3", CONSULT119_RELAY_POLL_INTERVAL="30")
    doctor = make_staff(db, "doctor", on_duty=True, presence="available")
    # Rostered for the next day and a half: no roster_gap alert (the shift alone ends in 11 h,
    # inside the 12 h look-ahead) joins the four events whenever a scheduler tick falls.
    now = utcnow()
    add_shift(db, doctor.id, now + timedelta(hours=11), now + timedelta(hours=36))
    token = doctor.token(one.url)

    async def scenario():
        on_one = await open_console(one, token)
        on_two = await open_console(two, token)
        # A case created through one process shows on a console of the other (and its own).
        # The poll is 30 s here, so this is LISTEN/NOTIFY at work.
        made = await chat(one, "mp-1", "m1")
        for console in (on_two, on_one):
            created = await console.until(lambda f: f.get("name") == "ticket.created", timeout=10)
            assert created["ticket_id"] == made["ticket_id"]
        made = await chat(two, "mp-2", "m2")
        created = await on_one.until(lambda f: f.get("name") == "ticket.created", timeout=10)
        assert created["ticket_id"] == made["ticket_id"]
        for console in (on_one, on_two):
            await console.until_event_count(4, timeout=10)
            assert ids_of(console) == [1, 2, 3, 4]

        # The doctor's console moves from process one to process two within the grace:
        # process one's timer must not set them offline.
        await on_one.close()
        await on_two.close()
        moved = await open_console(two, token)
        await asyncio.sleep(5)
        assert presence_of(db, doctor.id) == "available"
        await moved.close()

    run(scenario())


def ids_of(console):
    return [e["id"] for e in console.events]


def test_snapshot_lists_assigned_cases_as_mine(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)

    async def scenario():
        made = await chat(live_server, "a1", "m1")
        await asyncio.to_thread(
            change_ticket,
            db,
            made["ticket_id"],
            "ticket.assigned",
            assignee_id=doctor.id,
            status="assigned",
        )
        console = await open_console(live_server, doctor.token(live_server.url))
        mine = console.snapshot["my_cases"]
        assert [t["id"] for t in mine["items"]] == [made["ticket_id"]] and mine["total"] == 1
        with db.read_session() as s:
            assert s.get(Ticket, made["ticket_id"]).assignee_id == doctor.id
        await console.close()

    run(scenario())
