"""For every action that changes state, one test in Zulip's style (STYLE.md): a console's
snapshot before, plus the events the action emitted applied by the console's own state.js
(under Node: tests/console/state_js.py), equals a snapshot taken after — for the acting doctor, a
colleague, an EMT and a manager. Actions go through the HTTP API of a live server, one for
the whole module (each test has its own staff and cases; tests/state/conftest.py)."""

from __future__ import annotations

import asyncio

from consult119.db import utcnow
from consult119.staff import service as staff_service
from consult119.staff.models import Staff
from tests.console.helpers import chat, open_console
from tests.state.helpers import api, assert_follows, new_case


def run(coro):
    return asyncio.run(coro)


def test_triage_then_auto_assignment(room):
    async def scenario():
        case = await new_case(room, "tr-1")

        async def triage():
            await api(
                room,
                "emt",
                "POST",
                f"/api/v1/tickets/{case}/triage",
                {"acuity": 3, "category": "medical_consultation", "disposition": "self_care"},
            )

        names = await assert_follows(room, triage)
        # The available doctor gets the triaged case at once.
        assert names == ["ticket.triaged", "ticket.assigned"]

    run(scenario())


def test_claim(room):
    async def scenario():
        case = await new_case(room, "cl-1")

        async def claim():
            await api(room, "doctor", "POST", f"/api/v1/tickets/{case}/claim")

        assert await assert_follows(room, claim) == ["ticket.assigned"]

    run(scenario())


def test_assign(room):
    async def scenario():
        case = await new_case(room, "as-1")

        async def assign():
            await api(
                room,
                "emt",
                "POST",
                f"/api/v1/tickets/{case}/assign",
                {"staff_id": room.colleague.id},
            )

        assert await assert_follows(room, assign) == ["ticket.assigned"]

    run(scenario())


def test_release(room):
    async def scenario():
        case = await new_case(room, "rl-1")
        await api(room, "doctor", "POST", f"/api/v1/tickets/{case}/claim")

        async def release():
            await api(room, "doctor", "POST", f"/api/v1/tickets/{case}/release")

        assert await assert_follows(room, release) == ["ticket.assigned"]

    run(scenario())


def test_transfer(room):
    async def scenario():
        case = await new_case(room, "tf-1")
        await api(room, "doctor", "POST", f"/api/v1/tickets/{case}/claim")

        async def transfer():
            await api(
                room,
                "doctor",
                "POST",
                f"/api/v1/tickets/{case}/transfer",
                {"staff_id": room.colleague.id},
            )

        assert await assert_follows(room, transfer) == ["ticket.assigned"]

    run(scenario())


def test_reply_claims_and_starts_the_case(room):
    async def scenario():
        case = await new_case(room, "rp-1")

        async def reply():
            await api(
                room,
                "doctor",
                "POST",
                f"/api/v1/tickets/{case}/messages",
                {"text": "119 상담 의사입니다. 언제부터 아프셨나요?"},
            )

        assert await assert_follows(room, reply) == ["ticket.assigned", "message.created"]

    run(scenario())


def test_internal_note(room):
    async def scenario():
        case = await new_case(room, "nt-1")
        await api(room, "doctor", "POST", f"/api/v1/tickets/{case}/claim")

        async def note():
            await api(
                room,
                "emt",
                "POST",
                f"/api/v1/tickets/{case}/messages",
                {"text": "보호자 연락처 확인 중", "internal": True},
            )

        assert await assert_follows(room, note) == ["message.created"]

    run(scenario())


def test_status_resolved_leaves_the_queue(room):
    async def scenario():
        case = await new_case(room, "st-1")
        await api(
            room, "doctor", "POST", f"/api/v1/tickets/{case}/messages", {"text": "괜찮아지셨나요?"}
        )

        async def resolve():
            await api(
                room, "doctor", "POST", f"/api/v1/tickets/{case}/status", {"status": "resolved"}
            )

        assert await assert_follows(room, resolve) == ["ticket.status_changed"]

    run(scenario())


def test_status_waiting(room):
    async def scenario():
        case = await new_case(room, "sw-1")
        await api(
            room,
            "doctor",
            "POST",
            f"/api/v1/tickets/{case}/messages",
            {"text": "사진을 보내 주시겠어요?"},
        )

        async def wait():
            await api(
                room, "doctor", "POST", f"/api/v1/tickets/{case}/status", {"status": "waiting"}
            )

        assert await assert_follows(room, wait) == ["ticket.status_changed"]

    run(scenario())


def test_presence_over_the_api(room):
    async def scenario():
        async def away():
            await api(room, "colleague", "POST", "/api/v1/staff/me/presence", {"status": "away"})

        assert await assert_follows(room, away) == ["presence.changed"]

    run(scenario())


def test_presence_from_a_console(room):
    async def scenario():
        async def busy():
            console = await open_console(room.server, room.tokens["doctor"])
            await console.send({"type": "presence", "status": "busy"})
            await console.until(lambda f: f.get("name") == "presence.changed")
            await console.close()

        assert await assert_follows(room, busy) == ["presence.changed"]

    run(scenario())


def test_chat_intake_creates_a_case(room):
    async def scenario():
        async def create():
            await chat(room.server, "ci-1", "ci-1-m1", "숨이 차고 가슴이 아파요")

        names = await assert_follows(room, create)
        assert names[0] == "ticket.created" and names[-1] == "message.created"

    run(scenario())


def test_chat_intake_joins_a_case(room):
    async def scenario():
        await chat(room.server, "cj-1", "cj-1-m1", "배가 아파요")

        async def join():
            await chat(room.server, "cj-1", "cj-1-m2", "이제 숨쉬기가 힘들어요")

        names = await assert_follows(room, join)
        assert names[-1] == "message.created" and "ticket.created" not in names

    run(scenario())


def test_chat_intake_reopens_a_resolved_case(room):
    async def scenario():
        case = await new_case(room, "ro-1")
        await api(
            room, "doctor", "POST", f"/api/v1/tickets/{case}/messages", {"text": "괜찮아지셨나요?"}
        )
        await api(room, "doctor", "POST", f"/api/v1/tickets/{case}/status", {"status": "resolved"})

        async def reopen():
            await chat(room.server, "ro-1", "ro-1-m2", "다시 아파요")

        names = await assert_follows(room, reopen)
        assert names[0] == "ticket.status_changed" and names[-1] == "message.created"

    run(scenario())


def test_disabling_a_colleague(room):
    async def scenario():
        async def disable():
            await api(room, "admin", "POST", f"/api/v1/staff/{room.colleague.id}/disable")

        watchers = ("doctor", "emt", "manager")  # the colleague's own console closes
        assert await assert_follows(room, disable, watchers) == ["staff.disabled"]

    run(scenario())


def test_changing_a_colleagues_role(room):
    async def scenario():
        async def promote():
            def change() -> None:
                with room.db.unit_of_work() as s:
                    staff = s.get(Staff, room.emt.id)
                    assert staff_service.change_role(s, staff, "admin", now=utcnow())

            await asyncio.to_thread(change)

        watchers = ("doctor", "colleague", "manager")
        assert await assert_follows(room, promote, watchers) == ["staff.role_changed"]

    run(scenario())
