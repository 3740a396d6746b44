"""Helpers for driving the case services at a time the test chooses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from consult119.config import AssignmentPolicy
from consult119.realtime.models import Event
from consult119.staff.models import Staff
from consult119.tickets.models import Ticket
from tests.factories import make_staff

T0 = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)  # 3 a.m. UTC: nobody's business hours


class Desk:
    """Runs service calls in their own unit of work, as a request would."""

    def __init__(self, db):
        self.db = db

    def doctor(self, *, presence="available", capacity=None, now=T0, on_duty=True):
        login = make_staff(self.db, "doctor", on_duty=on_duty, now=now, presence=presence)
        if capacity is not None:
            with self.db.unit_of_work() as s:
                s.get(Staff, login.id).capacity = capacity
        return login.id

    def staff(self, role, **kw):
        return make_staff(self.db, role, on_duty=True, now=kw.pop("now", T0), **kw).id

    def do(self, fn, ticket_id, *, actor, **kwargs):
        with self.db.unit_of_work() as s:
            staff = s.get(Staff, actor)
            names = fn.__code__.co_varnames[
                : fn.__code__.co_argcount + fn.__code__.co_kwonlyargcount
            ]
            key = "staff" if "staff" in names else "by"
            return fn(s, ticket_id, **{key: staff}, **kwargs)

    def ticket(self, ticket_id) -> Ticket:
        with self.db.read_session() as s:
            return s.get(Ticket, ticket_id)

    def events(self, *names, ticket_id=None):
        with self.db.read_session() as s:
            stmt = select(Event).order_by(Event.id)
            if names:
                stmt = stmt.where(Event.name.in_(names))
            if ticket_id is not None:
                stmt = stmt.where(Event.ticket_id == ticket_id)
            return list(s.scalars(stmt))


@pytest.fixture
def desk(db) -> Desk:
    return Desk(db)


@pytest.fixture
def policy() -> AssignmentPolicy:
    return AssignmentPolicy(
        scheduler_interval_seconds=1,
        auto_assign_untriaged_after_seconds=180,
        accept_timeout_seconds={1: 60, 2: 120, 3: 300, 4: 600, 5: 900},
    )
