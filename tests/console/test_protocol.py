"""``/ws/console`` against a live server: sign-in, snapshot, live events, bad frames."""

from __future__ import annotations

import asyncio
import json

import httpx
from sqlalchemy import update

from consult119.staff.models import Staff
from tests.console.helpers import chat as red_flag_chat
from tests.console.helpers import (
    close_code,
    doctor_on_duty_past_the_look_ahead,
    open_console,
    open_socket,
    recv,
)
from tests.factories import make_staff

#: Without a red flag: these tests count a case's events (ticket.created, message.created),
#: and a red flag would add its alert.raised.
CALM = "배가 아파요"


async def chat(server, sender_id: str, message_id: str, text: str = CALM) -> dict:
    return await red_flag_chat(server, sender_id, message_id, text)


def run(coro):
    return asyncio.run(coro)


def test_bad_token_unknown_first_frame_and_silence_are_refused(start_server, db):
    server = start_server(CONSULT119_CONSOLE_AUTH_TIMEOUT="1")
    doctor = make_staff(db, "doctor", on_duty=True)
    token = doctor.token(server.url)

    async def scenario():
        cases = [
            ({"type": "auth", "token": "not-a-jwt"}, (4401, "invalid_token")),
            ({"type": "auth"}, (4401, "not_authenticated")),
            ({"type": "auth", "token": token[:-4] + "AAAA"}, (4401, "invalid_token")),
            ({"type": "ping"}, (4400, "auth_required")),
            ({"type": "auth", "token": token, "resume_after": -1}, (4400, "invalid_resume_after")),
            ({"type": "auth", "token": token, "resume_after": "7"}, (4400, "invalid_resume_after")),
            ("not json", (4400, "invalid_json")),
            ([1, 2], (4400, "invalid_frame")),
        ]
        for frame, expected in cases:
            ws = await open_socket(server)
            await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
            assert await close_code(ws) == expected, frame
        # Nothing sent: closed when the time to authenticate runs out.
        ws = await open_socket(server)
        assert await close_code(ws) == (4408, "auth_timeout")

    run(scenario())
    # A disabled account loses the console at once, even with a token that has not expired.
    with db.unit_of_work() as s:
        s.execute(update(Staff).where(Staff.id == doctor.id).values(disabled=True))

    async def disabled():
        ws = await open_socket(server)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert await close_code(ws) == (4401, "account_disabled")

    run(disabled())
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_snapshot_then_ready_then_live_events(live_server, db):
    doctor = doctor_on_duty_past_the_look_ahead(db, presence="available")
    make_staff(db, "doctor", on_duty=False)  # off duty: not in the snapshot's staff
    token = doctor.token(live_server.url)

    async def scenario():
        first = await chat(live_server, "t1", "m1")
        console = await open_console(live_server, token)
        snap = console.snapshot
        assert [f["type"] for f in console.before_ready] == ["snapshot"]
        assert snap["last_event_id"] == console.ready["last_event_id"] == 2
        assert [t["case_number"] for t in snap["queue"]["items"]] == [first["case_number"]]
        assert snap["queue"]["total"] == 1
        assert snap["my_cases"] == {"items": [], "total": 0}
        assert snap["me"]["id"] == doctor.id and snap["me"]["on_duty"] is True
        assert [s["id"] for s in snap["staff"]] == [doctor.id]
        assert snap["staff"][0]["presence"] == "available"
        assert console.ready["resumed"] is False

        second = await chat(live_server, "t2", "m2", "머리가 아파요")
        await console.until_event_count(2)
        created, message = console.events
        assert (created["id"], message["id"]) == (3, 4)
        assert created["name"] == "ticket.created"
        assert created["ticket_id"] == second["ticket_id"]
        assert created["data"]["ticket"]["case_number"] == second["case_number"]
        assert created["data"]["ticket"]["status"] == "new"
        assert created["at"].endswith("Z")
        assert message["name"] == "message.created"
        assert message["data"]["message"]["text"] == "머리가 아파요"
        assert message["data"]["message"]["id"] == second["message_id"]

        await console.send({"type": "ping", "id": 7})
        assert await console.until(lambda f: f["type"] == "pong") == {"type": "pong", "id": 7}
        await console.close()

    run(scenario())


def test_bad_frames_get_error_frames_and_the_socket_lives_on(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    token = doctor.token(live_server.url)

    async def scenario():
        console = await open_console(live_server, token)
        bad = [
            ("{not json", "invalid_json"),
            (json.dumps({"no": "type"}), "invalid_frame"),
            (json.dumps({"type": "dance"}), "unknown_type"),
            (json.dumps({"type": "auth", "token": token}), "already_authenticated"),
            (json.dumps({"type": "ping", "pad": "x" * 20_000}), "frame_too_large"),
            (b"\x00\x01", "binary_frame"),
            (json.dumps({"type": "presence", "status": "asleep"}), "unknown_presence"),
            (json.dumps({"type": "presence"}), "unknown_presence"),
        ]
        for frame, code in bad:
            await console.ws.send(frame)
            reply = await recv(console.ws)
            assert reply["type"] == "error" and reply["code"] == code, (frame, reply)
            assert reply["message"]
        # Still signed in and still streaming.
        await console.send({"type": "ping"})
        assert await recv(console.ws) == {"type": "pong"}
        made = await chat(live_server, "t9", "m9")
        created = await console.until(lambda f: f["type"] == "event")
        assert created["ticket_id"] == made["ticket_id"]
        await console.close()

    run(scenario())
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200
