"""The console's shipped state logic, ``frontend/console/state.js``, run under Node for the
Python tests: the page's own code, not a copy of it, must turn a snapshot and the events after
it into what a fresh snapshot says (Zulip's rule), and keep the server's queue order.

Node is Debian's ``nodejs``; without it the tests that need it skip, with the reason, except in
CI, where they fail."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

RUNNER = Path(__file__).with_name("state_js.mjs")
NODE = shutil.which("node")


def _run(request: dict[str, Any]) -> Any:
    if NODE is None:
        if IN_CI:
            pytest.fail("CI must run the console's state.js: node is not installed")
        pytest.skip("node is not installed: the console's state.js cannot run")
    done = subprocess.run(
        [NODE, str(RUNNER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def replay(
    before: dict[str, Any], events: list[dict[str, Any]], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The console's view after ``before`` + ``events``, and its view of ``after`` alone:
    ``me``, ``last_event_id``, ``queue`` and ``my_cases`` (in queue order) with their totals,
    ``staff`` (by id), ``alerts`` (in the alert list's order) and their total."""
    views = _run({"op": "replay", "before": before, "events": events, "after": after})
    return views["replayed"], views["fresh"]


def queue_order(tickets: list[dict[str, Any]]) -> list[int]:
    """The ids of ``tickets`` in the order the console keeps its queue."""
    return _run({"op": "order", "tickets": tickets})
