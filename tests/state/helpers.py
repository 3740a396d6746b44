"""Zulip's rule, checked end to end: a console's snapshot before an action, plus the events
the action emitted applied by the client's own logic, equals a snapshot taken after it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.console import state_js
from tests.console.helpers import TIMEOUT, Console, chat, open_console

#: Whose consoles watch each action: the acting doctor, a colleague, an EMT and a manager
#: (whose payloads are shaped: no personal data, no message text).
WATCHERS = ("doctor", "colleague", "emt", "manager")


async def api(room, who: str, method: str, path: str, body: dict | None = None) -> Any:
    """Call the HTTP API as ``who``; any answer but 2xx fails the test."""
    async with httpx.AsyncClient(base_url=room.server.url, timeout=TIMEOUT) as client:
        r = await client.request(method, path, json=body, headers=room.headers(who))
    assert r.is_success, f"{method} {path} as {who}: {r.status_code} {r.text}"
    return r.json()


async def new_case(room, sender: str, text: str = "배가 아파요") -> int:
    """A case opened through the chat intake; returns its id."""
    return (await chat(room.server, sender, f"{sender}-first", text))["ticket_id"]


async def drain_to(console: Console, head: int) -> list[dict[str, Any]]:
    """Read ``console`` until it has every event up to ``head``; those events, in order."""
    while console.last_id < head:
        await console.next_frame(TIMEOUT)
    return [e for e in console.events if e["id"] <= head]


async def assert_follows(
    room, action: Callable[[], Awaitable[Any]], watchers: tuple[str, ...] = WATCHERS
) -> list[str]:
    """Run ``action`` between a snapshot and a snapshot; for every watcher, the first
    snapshot plus the events in between must equal the second. Returns the names of the
    events the action emitted (as the first watcher saw them)."""
    server = room.server
    before = {who: await open_console(server, room.tokens[who]) for who in watchers}
    start = {who: c.snapshot["last_event_id"] for who, c in before.items()}
    await action()
    names: list[str] | None = None
    for who in watchers:
        after = await open_console(server, room.tokens[who])
        head = after.snapshot["last_event_id"]
        events = await drain_to(before[who], head)
        assert [e["id"] for e in events] == list(range(start[who] + 1, head + 1)), who
        # The page's own logic (state.js, under Node) replays the watcher's story.
        replayed, expected = state_js.replay(before[who].snapshot, events, after.snapshot)
        # The client keeps lists in the server's queue order: the same key must give it.
        for key, part in (("queue", "queue"), ("my_cases", "my_cases")):
            served = [t["id"] for t in after.snapshot[part]["items"]]
            assert served == [t["id"] for t in expected[key]], f"{who}: {part} order"
        if "alerts" in after.snapshot:
            served = [a["id"] for a in after.snapshot["alerts"]["items"]]
            assert served == [a["id"] for a in expected["alerts"]], f"{who}: alerts order"
        assert replayed == expected, f"{who}: snapshot + events != snapshot"
        assert replayed["last_event_id"] == head
        if names is None:
            names = [e["name"] for e in events]
        await after.close()
    for console in before.values():
        await console.close()
    assert names, "the action emitted no event"
    return names
