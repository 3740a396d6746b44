"""A live server and a staff room for the state-change tests.

The scheduler runs once an hour here, so every event a test sees comes from the action it
drives; presence timers are long for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import StaffLogin, make_staff


@dataclass
class Room:
    """Who works the shift: two doctors at the console, an EMT, a manager and an admin."""

    server: object
    doctor: StaffLogin
    colleague: StaffLogin
    emt: StaffLogin
    manager: StaffLogin
    admin: StaffLogin
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def room(start_server, db) -> Room:
    server = start_server(
        CONSULT119_SCHEDULER_INTERVAL_SECONDS="3600",
        CONSULT119_PRESENCE_GRACE_SECONDS="3600",
    )
    people = {
        "doctor": make_staff(db, "doctor", on_duty=True, presence="available"),
        "colleague": make_staff(db, "doctor", on_duty=True, presence="busy"),
        "emt": make_staff(db, "emt", on_duty=True, presence="available"),
        "manager": make_staff(db, "manager", on_duty=True),
        "admin": make_staff(db, "admin"),
    }
    tokens = {who: login.token(server.url) for who, login in people.items()}
    return Room(server=server, tokens=tokens, **people)
