"""Access ends at once: disabling an account or changing its role closes its open consoles
with 4401, on every process, while everyone else's consoles carry on."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from consult119.auth.security import issue_token
from consult119.db import utcnow
from consult119.staff import service
from consult119.staff.models import Staff
from tests.conftest import TEST_SECRET
from tests.console.helpers import close_code, open_console, open_socket
from tests.factories import make_staff


def run(coro):
    return asyncio.run(coro)


async def disable_over_api(server, admin_headers: dict[str, str], staff_id: int) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        r = await client.post(
            f"{server.url}/api/v1/staff/{staff_id}/disable", headers=admin_headers
        )
    assert r.status_code == 200, r.text


async def still_served(console) -> None:
    """The console still answers: a ping comes back as a pong."""
    await console.send({"type": "ping", "id": "alive"})
    pong = await console.until(lambda f: f["type"] == "pong")
    assert pong == {"type": "pong", "id": "alive"}


def test_disabling_an_account_closes_all_its_consoles_at_once(start_server, db):
    # A long poll: only the commit hook (or NOTIFY) can deliver the event quickly enough.
    server = start_server(CONSULT119_RELAY_POLL_INTERVAL="30")
    doctor = make_staff(db, "doctor", on_duty=True, presence="available")
    emt = make_staff(db, "emt", on_duty=True)
    admin = make_staff(db, "admin")
    token = doctor.token(server.url)

    async def scenario():
        first = await open_console(server, token)
        second = await open_console(server, token)
        watcher = await open_console(server, emt.token(server.url))
        await disable_over_api(server, admin.headers(server.url), doctor.id)

        for console in (first, second):
            assert await close_code(console.ws, timeout=10) == (4401, "account_disabled")
        # Nothing was queued to the disabled consoles after their access ended.
        for console in (first, second):
            assert all(e["name"] != "staff.disabled" for e in console.events)

        disabled = await watcher.until(lambda f: f.get("name") == "staff.disabled")
        assert disabled["data"] == {"staff_id": doctor.id}
        await still_served(watcher)

        # The token that has not expired cannot open a new console either.
        ws = await open_socket(server)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert await close_code(ws) == (4401, "account_disabled")
        await watcher.close()

    run(scenario())
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_disable_committed_by_another_process_closes_the_console(start_server, db):
    """``consult119 staff disable`` commits from its own process; the relay's poll (SQLite)
    or LISTEN (PostgreSQL) brings the event to the server, which closes the console."""
    server = start_server(CONSULT119_RELAY_POLL_INTERVAL="0.2")
    doctor = make_staff(db, "doctor", on_duty=True)

    async def scenario():
        console = await open_console(server, doctor.token(server.url))

        def disable() -> None:
            with db.unit_of_work() as s:
                assert service.disable_staff(s, s.get(Staff, doctor.id), now=utcnow())

        await asyncio.to_thread(disable)
        assert await close_code(console.ws, timeout=10) == (4401, "account_disabled")

    run(scenario())


def test_a_role_change_closes_the_consoles_shaped_for_the_old_role(start_server, db):
    server = start_server(CONSULT119_RELAY_POLL_INTERVAL="0.2")
    doctor = make_staff(db, "doctor", on_duty=True)
    emt = make_staff(db, "emt", on_duty=True)
    token = doctor.token(server.url)

    async def scenario():
        console = await open_console(server, token)
        watcher = await open_console(server, emt.token(server.url))

        def demote() -> None:
            with db.unit_of_work() as s:
                assert service.change_role(s, s.get(Staff, doctor.id), "manager", now=utcnow())

        await asyncio.to_thread(demote)
        assert await close_code(console.ws, timeout=10) == (4401, "role_changed")
        changed = await watcher.until(lambda f: f.get("name") == "staff.role_changed")
        assert changed["data"] == {"staff_id": doctor.id, "from": "doctor", "to": "manager"}
        await still_served(watcher)

        ws = await open_socket(server)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert await close_code(ws) == (4401, "invalid_token")
        await watcher.close()

    run(scenario())


def test_a_disable_on_one_process_closes_the_console_on_the_other(backend, start_server, db):
    if backend != "postgresql":
        pytest.skip("several processes share PostgreSQL; SQLite serves one process")
    # Polls of 30 s: the close can only come from LISTEN/NOTIFY in time.
    one = start_server(CONSULT119_RELAY_POLL_INTERVAL="30")
    two = start_server(CONSULT119_RELAY_POLL_INTERVAL="30")
    doctor = make_staff(db, "doctor", on_duty=True)
    emt = make_staff(db, "emt", on_duty=True)
    admin = make_staff(db, "admin")
    token = doctor.token(one.url)

    async def scenario():
        on_one = await open_console(one, token)
        on_two = await open_console(two, token)
        watcher = await open_console(two, emt.token(two.url))
        await disable_over_api(one, admin.headers(one.url), doctor.id)
        for console in (on_one, on_two):
            assert await close_code(console.ws, timeout=10) == (4401, "account_disabled")
        await watcher.until(lambda f: f.get("name") == "staff.disabled", timeout=10)
        await still_served(watcher)
        await watcher.close()

    run(scenario())


def test_a_token_that_expires_closes_its_open_console(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    token = issue_token(TEST_SECRET, staff_id=doctor.id, role="doctor", now=utcnow(), ttl=3)

    async def scenario():
        console = await open_console(live_server, token)
        await still_served(console)
        assert await close_code(console.ws, timeout=15) == (4401, "token_expired")

    run(scenario())
