"""A console's replay of missed events is a bulk read of travellers' words: it leaves one
access-log row with the counts (never the contents), before the first event goes out."""

from __future__ import annotations

import asyncio

import httpx

from tests.console.helpers import chat, open_console
from tests.factories import make_staff


def replay_rows(server, admin) -> list[dict]:
    response = httpx.get(
        f"{server.url}/api/v1/audit",
        params={"action": "console.replay"},
        headers=admin.headers(server.url),
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_replay_with_message_text_writes_one_access_log_row(live_server, db):
    doctor = make_staff(db, "doctor", on_duty=True)
    admin = make_staff(db, "admin")
    token = doctor.token(live_server.url)

    async def scenario() -> None:
        console = await open_console(live_server, token)
        start = console.ready["last_event_id"]
        await console.close()
        for i in range(4):
            await chat(live_server, f"away-{i}", f"m-{i}", text=f"숨쉬기 힘들어요 {i}")
        resumed = await open_console(live_server, token, resume_after=start)
        texts = [
            f["data"]["message"]["text"] for f in resumed.replayed if f["name"] == "message.created"
        ]
        assert len(texts) == 4  # the replay did carry the words
        await resumed.close()

        rows = replay_rows(live_server, admin)
        assert len(rows) == 1
        row = rows[0]
        assert row["staff_id"] == doctor.id
        assert row["client_ip"] == "127.0.0.1"
        assert row["detail"]["messages"] == 4 and row["detail"]["cases"] == 4
        assert row["detail"]["after"] == start
        assert "숨쉬기" not in str(row)  # counts, not contents

        # Nothing missed, nothing read: no second row. A manager's replay has no text: no row.
        again = await open_console(live_server, token, resume_after=resumed.last_id)
        await again.close()
        manager = make_staff(db, "manager")
        watched = await open_console(
            live_server, manager.token(live_server.url), resume_after=start
        )
        assert all("text" not in (f["data"].get("message") or {}) for f in watched.replayed)
        await watched.close()
        assert len(replay_rows(live_server, admin)) == 1

    asyncio.run(scenario())
