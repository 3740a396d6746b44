"""One live server per test module, with one person of each role and the default canned
replies (the shared fixtures empty every table, the seeded replies with them)."""

from __future__ import annotations

import itertools

import httpx
import pytest

from consult119.config import Settings
from consult119.db import Database, utcnow
from consult119.replies import service
from tests.conftest import TEST_SECRET, LiveServer, _truncate
from tests.factories import make_staff
from tests.tickets.conftest import Client

ROLES = ("doctor", "emt", "manager", "admin")
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def mdb(database_url):
    """The module's database, emptied once and given the default replies again."""
    database = Database(Settings(database_url=database_url, secret_key=TEST_SECRET))
    _truncate(database)
    with database.unit_of_work() as session:
        service.seed_defaults(session, now=utcnow())
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def server(mdb, database_url, tmp_path_factory):
    live = LiveServer(database_url).start(tmp_path_factory.mktemp("replies") / "server.log")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def people(mdb, server):
    return {role: Client(server, make_staff(mdb, role, on_duty=True)) for role in ROLES}


def open_case(server, *, locale: str | None = None, country: str | None = None) -> dict:
    """A traveller's first message: the intake's answer (``ticket_id``, ``case_number``)."""
    n = next(_ids)
    body = {
        "source": "telegram",
        "sender_id": f"r-{n}",
        "message_id": f"rm-{n}",
        "text": "도와주세요",
    }
    if locale:
        body["locale"] = locale
    if country:
        body["country"] = country
    r = httpx.post(f"{server.url}/api/v1/intake/chat", json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()
