"""A live server and a staff room for the state-change tests.

One server per module serves every test of it (a start costs seconds): the database is
emptied once, before the server starts, and each test gets a room of its own new staff and
opens its own cases, so the tests stay independent without emptying tables under the running
server (whose event relay remembers the last event id it published). A test that needs a
database holding nothing but its own room (one that runs the scheduler over every case) asks
for ``own_room``: a server and an emptied database of its own.

The scheduler runs once an hour here, so every event a test sees comes from the action it
drives; presence timers are long for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from consult119.config import Settings
from consult119.db import Database
from tests.conftest import TEST_SECRET, LiveServer, _truncate
from tests.factories import StaffLogin, make_staff

#: A scheduler that stays out of the way, and presence that does not lapse mid-test.
QUIET = {
    "CONSULT119_SCHEDULER_INTERVAL_SECONDS": "3600",
    "CONSULT119_PRESENCE_GRACE_SECONDS": "3600",
}


@dataclass
class Room:
    """Who works the shift: two doctors at the console, an EMT, a manager and an admin."""

    server: object
    db: Database
    doctor: StaffLogin
    colleague: StaffLogin
    emt: StaffLogin
    manager: StaffLogin
    admin: StaffLogin
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _room(server, db: Database) -> Room:
    people = {
        "doctor": make_staff(db, "doctor", on_duty=True, presence="available"),
        "colleague": make_staff(db, "doctor", on_duty=True, presence="busy"),
        "emt": make_staff(db, "emt", on_duty=True, presence="available"),
        "manager": make_staff(db, "manager", on_duty=True),
        "admin": make_staff(db, "admin"),
    }
    tokens = {who: login.token(server.url) for who, login in people.items()}
    return Room(server=server, db=db, tokens=tokens, **people)


@pytest.fixture(scope="module")
def state_db(database_url):
    """The module's database, emptied once before its server starts."""
    database = Database(Settings(database_url=database_url, secret_key=TEST_SECRET))
    _truncate(database)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def state_server(state_db, database_url, tmp_path_factory):
    live = LiveServer(database_url, env_extra=QUIET)
    live.start(tmp_path_factory.mktemp("state") / "server.log")
    yield live
    live.stop()


@pytest.fixture
def room(state_server, state_db) -> Room:
    """New staff on the module's server."""
    return _room(state_server, state_db)


@pytest.fixture
def own_room(start_server, db) -> Room:
    """A server and an emptied database for this test alone."""
    return _room(start_server(**QUIET), db)
