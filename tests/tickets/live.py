"""One live server per test module, with its staff: the case-record tests share it (each test
opens its own cases, so they stay independent)."""

from __future__ import annotations

import pytest

from consult119.config import Settings
from consult119.db import Database
from tests.conftest import TEST_SECRET, LiveServer, _truncate
from tests.factories import make_staff
from tests.tickets.conftest import Client

#: Who the module's people are: (role, on duty).
PEOPLE = {
    "doctor": ("doctor", True),
    "colleague": ("doctor", True),
    "off_doctor": ("doctor", False),
    "emt": ("emt", True),
    "manager": ("manager", True),
    "admin": ("admin", True),
}


@pytest.fixture(scope="module")
def mdb(database_url):
    """The module's database, emptied once before its server starts."""
    database = Database(Settings(database_url=database_url, secret_key=TEST_SECRET))
    _truncate(database)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def server(mdb, database_url, tmp_path_factory):
    live = LiveServer(database_url).start(tmp_path_factory.mktemp("cases") / "server.log")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def people(mdb, server):
    return {
        who: Client(server, make_staff(mdb, role, on_duty=on_duty))
        for who, (role, on_duty) in PEOPLE.items()
    }
