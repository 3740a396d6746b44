"""``consult119 staff`` and ``consult119 roster`` as an operator runs them."""

from __future__ import annotations

import os
import sys

from argon2 import PasswordHasher
from sqlalchemy import select

from consult119.staff.models import Shift, Staff
from tests import forkserver


def cli(database_url, *args, stdin=""):
    env = {**os.environ, "CONSULT119_DATABASE_URL": database_url, "COLUMNS": "200"}
    return forkserver.run(
        [sys.executable, "-m", "consult119.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_staff_and_roster_commands(db, database_url):
    r = cli(
        database_url,
        "staff",
        "add",
        "Kim@Example.org",
        "--name",
        "Kim Jiwoo",
        "--role",
        "doctor",
        stdin="piped-password-1\n",
    )
    assert r.returncode == 0, r.stderr
    assert "piped-password-1" not in r.stdout + r.stderr
    with db.read_session() as s:
        staff = s.scalars(select(Staff)).one()
    assert staff.email == "kim@example.org" and staff.role == "doctor"
    assert PasswordHasher().verify(staff.password_hash, "piped-password-1")

    r = cli(
        database_url,
        "staff",
        "add",
        "kim@example.org",
        "--name",
        "Again",
        "--role",
        "doctor",
        stdin="piped-password-1\n",
    )
    assert r.returncode == 1 and "staff_exists" in r.stderr
    r = cli(
        database_url,
        "staff",
        "add",
        "x@example.org",
        "--name",
        "X",
        "--role",
        "nurse",
        stdin="piped-password-1\n",
    )
    assert r.returncode == 2  # not a role: refused before anything is written

    r = cli(
        database_url,
        "roster",
        "add",
        "kim@example.org",
        "--start",
        "2025-03-01T00:00Z",
        "--end",
        "2025-03-01T21:00+09:00",
    )
    assert r.returncode == 0, r.stderr
    r = cli(
        database_url,
        "roster",
        "add",
        "kim@example.org",
        "--start",
        "2025-03-01T09:00",
        "--end",
        "2025-03-01T10:00Z",
    )
    assert r.returncode == 2 and "timezone" in r.stderr
    with db.read_session() as s:
        shift = s.scalars(select(Shift)).one()
    assert shift.ends_at.isoformat() == "2025-03-01T12:00:00+00:00"  # stored in UTC

    shown = cli(database_url, "roster", "show", "--at", "2025-03-01T06:00Z")
    assert shown.returncode == 0 and "Kim Jiwoo" in shown.stdout
    empty = cli(database_url, "roster", "show", "--at", "2025-03-02T06:00Z")
    assert "Nobody is on shift" in empty.stdout

    listed = cli(database_url, "staff", "list")
    assert "kim@example.org" in listed.stdout
    r = cli(database_url, "staff", "role", "kim@example.org", "emt")
    assert r.returncode == 0 and "now emt (was doctor)" in r.stdout, r.stdout + r.stderr
    assert "already emt" in cli(database_url, "staff", "role", "kim@example.org", "emt").stdout
    assert cli(database_url, "staff", "role", "kim@example.org", "surgeon").returncode == 2
    assert cli(database_url, "staff", "role", "ghost@example.org", "emt").returncode == 1
    with db.read_session() as s:
        assert s.scalars(select(Staff.role)).one() == "emt"
    assert cli(database_url, "staff", "disable", "kim@example.org").returncode == 0
    assert "kim@example.org" not in cli(database_url, "staff", "list").stdout
    assert "disabled" in cli(database_url, "staff", "list", "--all").stdout
    assert cli(database_url, "staff", "disable", "ghost@example.org").returncode == 1


def test_every_command_explains_itself(database_url):
    for args in (
        ("staff", "add"),
        ("staff", "list"),
        ("staff", "disable"),
        ("staff", "role"),
        ("roster", "add"),
        ("roster", "show"),
    ):
        r = cli(database_url, *args, "--help")
        assert r.returncode == 0 and "Usage" in r.stdout, args
