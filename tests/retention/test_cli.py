"""``consult119 retention`` as an operator runs it, on the real clock."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from consult119.audit.models import AuditEntry
from consult119.db import utcnow
from consult119.staff.models import Staff
from consult119.tickets import service as cases
from consult119.tickets.models import Message, Ticket
from tests import forkserver
from tests.factories import make_staff
from tests.retention.helpers import receive


def cli(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CONSULT119_DATABASE_URL": database_url, "COLUMNS": "200", **env}
    return forkserver.run(
        [sys.executable, "-m", "consult119.cli", "retention", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_show_dry_run_and_purge(db, database_url):
    long_ago = utcnow() - timedelta(days=3660)
    emt = make_staff(db, "emt")
    old = receive(db, "cli-traveller", "목이 아파요", long_ago)
    with db.unit_of_work() as session:
        cases.change_status(session, old, to="closed", by=session.get(Staff, emt.id), now=long_ago)
    current = receive(db, "cli-current", "열이 나요", utcnow())

    shown = cli(database_url, "show")
    assert shown.returncode == 0, shown.stderr
    assert "CONSULT119_RETENTION_CASE_DAYS" in shown.stdout and "3,650" in shown.stdout

    dry = cli(database_url, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout
    with db.read_session() as session:
        assert session.get(Ticket, old).purged_at is None
        assert session.scalars(select(AuditEntry)).all() == []

    done = cli(database_url, "purge")
    assert done.returncode == 0, done.stderr
    assert "Purged" in done.stdout and "access log" in done.stdout
    with db.read_session() as session:
        assert session.get(Ticket, old).purged_at is not None
        assert session.scalars(select(Message).where(Message.ticket_id == old)).all() == []
        assert session.get(Ticket, current).purged_at is None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).one()
    assert entry.detail["by"] == getpass.getuser()
    assert entry.detail["counts"]["cases"] == 1 and entry.detail["finished"] is True


def test_an_access_log_kept_under_two_years_is_refused(db, database_url):
    refused = cli(database_url, "purge", CONSULT119_RETENTION_AUDIT_DAYS="365")
    assert refused.returncode == 2
    assert "CONSULT119_RETENTION_AUDIT_DAYS" in refused.stderr and "730" in refused.stderr
    with db.read_session() as session:
        assert session.scalars(select(AuditEntry)).all() == []
