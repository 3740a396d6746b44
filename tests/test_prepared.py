"""Prepared statements on the DB-API cursor store exactly what SQLAlchemy would store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, text

from consult119.db import Prepared, literal_in
from consult119.tickets import repository as repo
from consult119.tickets.models import Contact, Message, Ticket

SEOUL_NOON = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=9)))


def _ticket(session) -> int:
    contact_id = repo.insert_returning_id(
        session, Contact, {"created_at": SEOUL_NOON, "updated_at": SEOUL_NOON}
    )
    values = {
        "case_number": "C119-2026-000001",
        "year": 2026,
        "seq": 1,
        "channel": "kakao",
        "source": "kakao",
        "contact_id": contact_id,
        "status": "new",
        "priority": 2,
        "created_at": SEOUL_NOON,
        "updated_at": SEOUL_NOON,
        "last_message_at": SEOUL_NOON,
    }
    return repo.insert_returning_id(session, Ticket, values)


@pytest.mark.parametrize("meta", [None, {"kind": "텍스트", "n": 1}])
def test_an_insert_reads_back_as_the_orm_insert_does(db, meta):
    with db.unit_of_work() as session:
        ticket_id = _ticket(session)
        row = {
            "ticket_id": ticket_id,
            "direction": "inbound",
            "channel": "kakao",
            "source": "kakao",
            "text": "배가 아파요",
            "created_at": SEOUL_NOON,
            "meta": meta,
        }
        fast_id = repo.insert_returning_id(session, Message, {**row, "external_id": "fast"})
        core_id = session.execute(
            insert(Message.__table__).returning(Message.__table__.c.id),
            {**row, "external_id": "core"},
        ).scalar_one()
    with db.read_session() as session:
        fast, core = session.get(Message, fast_id), session.get(Message, core_id)
        raw = session.execute(
            text("SELECT created_at, meta FROM messages WHERE id IN (:a, :b) ORDER BY id"),
            {"a": fast_id, "b": core_id},
        ).all()
        ticket = session.get(Ticket, ticket_id)
    assert fast.created_at == core.created_at == SEOUL_NOON.astimezone(UTC)
    assert fast.meta == core.meta == meta
    assert raw[0] == raw[1]  # byte for byte the same in the database
    # Columns left out get their Python-side defaults, as an ORM insert gives them.
    assert (ticket.version, ticket.reopen_count, ticket.assignment_accepted) == (1, 0, False)


def test_bound_defaults_limits_and_literal_lists(db):
    with db.unit_of_work() as session:
        _ticket(session)
    stmt = Prepared(
        select(Ticket.case_number)
        .where(literal_in(Ticket.status, ["new", "triaged"]), Ticket.priority == 2)
        .limit(bindparam("n"))
    )
    with db.unit_of_work() as session:
        assert stmt.first(session, {"n": 5}) == ("C119-2026-000001",)
        assert stmt.scalar(session, {"n": 0}) is None


def test_what_cannot_be_prepared_is_refused(db):
    with pytest.raises(ValueError, match="plain code"):
        literal_in(Ticket.status, ["new', 'x"])
    expanding = Prepared(select(Ticket.id).where(Ticket.status.in_(["new", "triaged"])))
    with db.unit_of_work() as session, pytest.raises(ValueError, match="literal_in"):
        expanding.first(session, {})


def test_a_column_with_a_computed_default_must_be_given(db):
    from consult119.realtime.models import Event  # data: a new dict per row

    with db.unit_of_work() as session, pytest.raises(ValueError, match="computed default"):
        repo.insert_returning_id(session, Event, {"name": "x", "at": SEOUL_NOON})
