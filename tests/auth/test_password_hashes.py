"""Passwords are stored as Argon2id at full cost: the accounts a server and a command create.

(The test process itself hashes its factories' accounts cheaply; see tests/conftest.py. This
checks that the service, in processes of its own, does not.)"""

from __future__ import annotations

import os
import sys

import httpx
from argon2 import extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import select

from consult119.staff.models import Staff
from tests import forkserver
from tests.factories import make_staff


def _parameters(db, email: str):
    with db.read_session() as s:
        stored = s.scalars(select(Staff.password_hash).where(Staff.email == email)).one()
    assert stored.startswith("$argon2id$")
    return extract_parameters(stored)


def test_accounts_made_by_the_api_and_the_cli_are_hashed_at_full_cost(module_server, db):
    admin = make_staff(db, "admin").headers(module_server.url)
    r = httpx.post(
        f"{module_server.url}/api/v1/staff",
        json={"email": "api@example.org", "name": "A", "role": "emt", "password": "a-long-pass-1"},
        headers=admin,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    assert _parameters(db, "api@example.org") == RFC_9106_LOW_MEMORY

    done = forkserver.run(
        [sys.executable, "-m", "consult119.cli", "staff", "add", "cli@example.org"]
        + ["--name", "C", "--role", "doctor"],
        input="a-long-pass-2\n",
        capture_output=True,
        text=True,
        env={**os.environ, "CONSULT119_DATABASE_URL": module_server.database_url},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert _parameters(db, "cli@example.org") == RFC_9106_LOW_MEMORY
    # A sign-in verifies the full-cost hash, through the real code.
    r = httpx.post(
        f"{module_server.url}/api/v1/auth/token",
        data={"username": "cli@example.org", "password": "a-long-pass-2"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
