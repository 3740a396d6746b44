"""Fixtures for the report tests: cases written straight to the tables at chosen times."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from consult119.db import Database
from consult119.tickets.codes import SOURCE_CHANNEL, Source
from consult119.tickets.models import Contact, Ticket
from tests import forkserver

AddCases = Callable[..., list[int]]


@pytest.fixture
def live_server(module_server):
    """The module's one server: the report tests only read over plain HTTP, and a report is
    computed from the tables at each request (nothing kept in memory that the emptied tables
    could contradict)."""
    return module_server


@pytest.fixture
def add_cases(db: Database) -> AddCases:
    """``add_cases(created_at, source="kakao", n=1, **columns)`` → the new ticket ids."""
    state = {"seq": 0}

    def _add(created_at: datetime, source: str = "kakao", n: int = 1, **columns: Any) -> list[int]:
        ids = []
        with db.unit_of_work() as session:
            for _ in range(n):
                state["seq"] += 1
                contact_id = session.execute(
                    insert(Contact)
                    .values(created_at=created_at, updated_at=created_at)
                    .returning(Contact.id)
                ).scalar_one()
                values = {
                    "case_number": f"C119-T-{state['seq']:06d}",
                    "year": created_at.year,
                    "seq": state["seq"],
                    "channel": SOURCE_CHANNEL[Source(source)].value,
                    "source": source,
                    "contact_id": contact_id,
                    "status": "closed",
                    "priority": 3,
                    "created_at": created_at,
                    "updated_at": created_at,
                    **columns,
                }
                ids.append(
                    session.execute(
                        insert(Ticket).values(**values).returning(Ticket.id)
                    ).scalar_one()
                )
        return ids

    return _add


def ticket_count(db: Database) -> int:
    with db.read_session() as s:
        return s.scalar(select(func.count()).select_from(Ticket)) or 0


def run_cli(
    database_url: str, *args: str, stdin: str | None = None, cwd: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``consult119 …`` as a real process against the test database."""
    from tests.conftest import TEST_SECRET

    return forkserver.run(
        [sys.executable, "-m", "consult119.cli", *args],
        env={
            **os.environ,
            "CONSULT119_DATABASE_URL": database_url,
            "CONSULT119_SECRET_KEY": TEST_SECRET,
            "COLUMNS": "200",
            **env,
        },
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
