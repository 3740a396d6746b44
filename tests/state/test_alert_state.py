"""Alerts in Zulip's style: a console's snapshot (with its open alerts) before an alert is
raised, acknowledged or resolved, plus the events, equals the snapshot after — for two doctors,
an EMT and a manager (whose snapshot and events carry no alerts)."""

from __future__ import annotations

import asyncio

from tests.console.helpers import chat
from tests.state.helpers import api, assert_follows, new_case


def run(coro):
    return asyncio.run(coro)


async def open_alerts(room, *cases: int) -> list[dict]:
    """The open alerts of ``cases`` (the module's server serves other tests' cases too), in
    the list's order."""
    items = (await api(room, "emt", "GET", "/api/v1/alerts?limit=500"))["items"]
    return [a for a in items if a["ticket_id"] in cases]


def test_raised_acknowledged_resolved(room):
    async def scenario():
        older = await new_case(room, "al-0", "가슴이 아파요")  # an older alert, of a lower level

        answers = []

        async def raise_one():
            answers.append(await chat(room.server, "al-1", "al-1-m1", "아이가 숨을 안 쉬어요"))

        names = await assert_follows(room, raise_one)
        assert "alert.raised" in names
        cases = [older, answers[0]["ticket_id"]]
        first, second = await open_alerts(room, *cases)
        assert first["level"] == 1 and second["level"] == 2  # the most urgent first

        async def ack():
            await api(room, "emt", "POST", f"/api/v1/alerts/{first['id']}/ack")

        assert await assert_follows(room, ack) == ["alert.acknowledged"]

        async def answer():
            await api(
                room,
                "doctor",
                "POST",
                f"/api/v1/tickets/{first['ticket_id']}/messages",
                {"text": "지금 바로 119에 전화하세요"},
            )

        names = await assert_follows(room, answer)
        assert names[-1] == "alert.resolved"
        assert [a["id"] for a in await open_alerts(room, *cases)] == [second["id"]]

    run(scenario())


def test_a_traveller_back_on_a_resolved_case(room):
    async def scenario():
        case = await new_case(room, "al-back")
        await api(room, "doctor", "POST", f"/api/v1/tickets/{case}/messages", {"text": "쉬세요"})
        await api(room, "doctor", "POST", f"/api/v1/tickets/{case}/status", {"status": "resolved"})

        async def come_back():
            await chat(room.server, "al-back", "al-back-m2", "다시 아파요!")

        names = await assert_follows(room, come_back)
        assert "alert.raised" in names
        [alert] = await open_alerts(room, case)
        assert alert["kind"] == "reopened" and alert["ticket_id"] == case

    run(scenario())
