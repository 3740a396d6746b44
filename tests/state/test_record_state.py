"""Zulip's rule for the case-record actions: a console's snapshot before, plus the events the
action emitted applied by the reference client, equals a snapshot taken after — for both
doctors, an EMT, a manager and an admin (whose payloads are shaped)."""

from __future__ import annotations

import asyncio

import httpx

from tests.state.helpers import api, assert_follows, new_case

EVERYONE = ("doctor", "colleague", "emt", "manager", "admin")


def test_editing_the_record_is_one_ticket_updated(room):
    async def scenario():
        case = await new_case(room, "rec-1", "남편이 가슴이 아파요")
        detail = await api(room, "emt", "GET", f"/api/v1/tickets/{case}")

        async def edit():
            await api(
                room,
                "emt",
                "PATCH",
                f"/api/v1/tickets/{case}",
                {
                    "version": detail["version"],
                    "patient_age": 58,
                    "country": "JP",
                    "location_type": "sea",
                    "chief_complaint": "흉통",
                },
            )

        assert await assert_follows(room, edit, EVERYONE) == ["ticket.updated"]

    asyncio.run(scenario())


def test_resolving_with_a_reason_is_one_status_change(room):
    async def scenario():
        case = await new_case(room, "rec-2")
        await api(room, "doctor", "POST", f"/api/v1/tickets/{case}/claim")

        async def resolve():
            await api(
                room,
                "doctor",
                "POST",
                f"/api/v1/tickets/{case}/status",
                {"status": "resolved", "reason": "handled_by_phone"},
            )

        assert await assert_follows(room, resolve, EVERYONE) == ["ticket.status_changed"]

    asyncio.run(scenario())


def test_a_travellers_tapped_answer_is_a_message_and_one_ticket_updated(room):
    async def kakao(utterance: str) -> None:
        body = {"userRequest": {"utterance": utterance, "user": {"id": "tap-1"}, "lang": "ko"}}
        async with httpx.AsyncClient(base_url=room.server.url, timeout=20) as client:
            r = await client.post("/api/v1/intake/kakao", json=body)
        assert r.status_code == 200, r.text

    async def scenario():
        await kakao("아버지가 쓰러졌어요")

        async def tap():
            await kakao("위치: 해상(선박)")

        assert await assert_follows(room, tap, EVERYONE) == ["message.created", "ticket.updated"]

    asyncio.run(scenario())
