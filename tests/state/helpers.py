"""Zulip's rule, checked end to end: a console's snapshot before an action, plus the events
the action emitted applied by the client's own logic, equals a snapshot taken after it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.console.client_state import ConsoleState
from tests.console.helpers import TIMEOUT, Console, chat, open_console

REPLAY = Path(__file__).with_name("replay.mjs")
NODE = shutil.which("node")


def replay_in_state_js(before: dict, events: list[dict], after: dict) -> None:
    """The same rule through the console's shipped ``state.js`` (under Node): the page's own
    logic, not only this reference copy of it, must turn before + events into after."""
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("CI must replay the state tests through state.js: node is not installed")
        return  # the Python reference client above has checked the same story
    story = json.dumps({"before": before, "events": events, "after": after})
    run = subprocess.run(
        [NODE, str(REPLAY)], input=story, capture_output=True, text=True, timeout=30, check=False
    )
    assert run.returncode == 0, run.stderr
    views = json.loads(run.stdout)
    assert views["replayed"] == views["fresh"], "state.js: snapshot + events != snapshot"


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
        state = ConsoleState(before[who].snapshot)
        for event in events:
            state.apply(event)
        expected = ConsoleState(after.snapshot).view()
        # The client keeps lists in the server's queue order: the same key must give it.
        for key, part in (("queue", "queue"), ("my_cases", "my_cases")):
            served = [t["id"] for t in after.snapshot[part]["items"]]
            assert served == [t["id"] for t in expected[key]], f"{who}: {part} order"
        if "alerts" in after.snapshot:
            served = [a["id"] for a in after.snapshot["alerts"]["items"]]
            assert served == [a["id"] for a in expected["alerts"]], f"{who}: alerts order"
        assert state.view() == expected, f"{who}: snapshot + events != snapshot"
        assert state.last_event_id == head
        replay_in_state_js(before[who].snapshot, events, after.snapshot)
        if names is None:
            names = [e["name"] for e in events]
        await after.close()
    for console in before.values():
        await console.close()
    assert names, "the action emitted no event"
    return names
