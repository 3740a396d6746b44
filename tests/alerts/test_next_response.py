"""Clocks for every wait: a traveller's message after a staff reply starts a next-response
clock with the case's target; ``sla.warning``/``sla.breached`` say which clock (``kind``); the
next staff reply stops it; a breach is a ``next_response_breached`` alert, once per wait."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from consult119.alerts.models import Alert
from consult119.config import Settings
from consult119.realtime.models import Event
from consult119.staff.models import Staff
from consult119.tickets import service as tickets
from consult119.tickets.models import Ticket
from consult119.triage import scheduler
from tests.factories import make_staff, make_ticket
from tests.triage.conftest import T0

MIN = timedelta(minutes=1)


def sla_events(db) -> list[tuple[str, str]]:
    with db.read_session() as s:
        rows = s.scalars(
            select(Event).where(Event.name.in_(["sla.warning", "sla.breached"])).order_by(Event.id)
        )
        return [(e.name, e.data["kind"]) for e in rows]


def ticket(db, ticket_id: int) -> Ticket:
    with db.read_session() as s:
        return s.get(Ticket, ticket_id)


def reply(db, ticket_id: int, staff_id: int, now) -> None:
    with db.unit_of_work() as s:
        tickets.add_message(s, ticket_id, staff=s.get(Staff, staff_id), text="네", now=now)


def next_alerts(db) -> list[Alert]:
    with db.read_session() as s:
        stmt = select(Alert).where(Alert.kind == "next_response_breached").order_by(Alert.id)
        return list(s.scalars(stmt))


def test_the_next_response_clock_runs_from_the_travellers_message_to_the_next_reply(db):
    doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
    emt = make_staff(db, "emt", on_duty=True, now=T0).id
    case = make_ticket(db, "배가 아파요", now=T0, sender_id="nr-1")  # untriaged: rank 2, 10 min
    # A traveller writing again before anyone answered: the first-response clock only.
    make_ticket(db, "아직 아파요", now=T0 + MIN, sender_id="nr-1")
    assert ticket(db, case).next_response_due_at is None
    reply(db, case, doctor, T0 + 2 * MIN)
    scheduler.tick(db, now=T0 + 30 * MIN)
    assert sla_events(db) == []  # answered in time: no first-response alarm

    make_ticket(db, "열이 나요", now=T0 + 40 * MIN, sender_id="nr-1")
    t = ticket(db, case)
    assert t.next_response_since == T0 + 40 * MIN
    assert t.next_response_due_at == T0 + 50 * MIN  # the case's target, 10 min at rank 2
    # A second message does not restart the clock.
    make_ticket(db, "많이 나요", now=T0 + 45 * MIN, sender_id="nr-1")
    assert ticket(db, case).next_response_due_at == T0 + 50 * MIN

    scheduler.tick(db, now=T0 + 48 * MIN)  # 80 % of the target
    scheduler.tick(db, now=T0 + 50 * MIN)
    scheduler.tick(db, now=T0 + 51 * MIN)
    assert sla_events(db) == [("sla.warning", "next_response"), ("sla.breached", "next_response")]
    [alert] = next_alerts(db)
    assert alert.ticket_id == case and alert.state == "open"
    assert alert.data["due_at"] == (T0 + 50 * MIN).isoformat()

    reply(db, case, emt, T0 + 52 * MIN)  # any staff reply stops the clock and answers it
    t = ticket(db, case)
    assert (t.next_response_since, t.next_response_due_at, t.next_response_breached_at) == (
        None,
        None,
        None,
    )
    assert next_alerts(db)[0].state == "resolved"

    # The next wait is a new cause: its own clock, its own alert.
    make_ticket(db, "또 질문이 있어요", now=T0 + 60 * MIN, sender_id="nr-1")
    scheduler.tick(db, now=T0 + 71 * MIN)
    assert [a.state for a in next_alerts(db)] == ["resolved", "open"]
    assert sla_events(db)[-1] == ("sla.breached", "next_response")


def test_first_response_alarms_carry_their_kind(db):
    make_ticket(db, "배가 아파요", now=T0)
    scheduler.tick(db, now=T0 + 9 * MIN)
    scheduler.tick(db, now=T0 + 10 * MIN)
    assert sla_events(db) == [("sla.warning", "first_response"), ("sla.breached", "first_response")]
    with db.read_session() as s:
        breach = s.scalars(select(Event).where(Event.name == "sla.breached")).one()
    # The fields the event had before the clock had a kind stay as they were.
    assert {"level", "due_at", "target_seconds", "assignee_id", "ticket"} <= set(breach.data)


def test_the_target_setting_is_json_per_level(monkeypatch):
    monkeypatch.setenv("CONSULT119_SLA_TARGET_SECONDS", '{"1":0,"2":60,"3":120,"4":240,"5":480}')
    assert Settings().sla_target_seconds == {1: 0, 2: 60, 3: 120, 4: 240, 5: 480}
    assert Settings(_env_file=None).sla_target_seconds[2] == 60
    monkeypatch.delenv("CONSULT119_SLA_TARGET_SECONDS")
    assert Settings().sla_target_seconds == {1: 0, 2: 600, 3: 1800, 4: 3600, 5: 7200}
    for bad in ('{"1":0,"2":60}', '{"1":-1,"2":60,"3":120,"4":240,"5":480}'):
        monkeypatch.setenv("CONSULT119_SLA_TARGET_SECONDS", bad)
        with pytest.raises(ValidationError):
            Settings()


def test_a_server_runs_its_clocks_on_the_configured_targets(start_server, db):
    server = start_server(
        CONSULT119_SLA_TARGET_SECONDS='{"1":0,"2":60,"3":120,"4":240,"5":480}',
        CONSULT119_SCHEDULER_INTERVAL_SECONDS="3600",
    )
    emt = make_staff(db, "emt", on_duty=True)
    r = httpx.post(
        f"{server.url}/api/v1/intake/chat",
        json={"source": "telegram", "sender_id": "tg-t", "message_id": "tg-t-1", "text": "질문"},
        timeout=20,
    )
    assert r.status_code == 201, r.text
    case = r.json()["ticket_id"]
    t = ticket(db, case)
    assert t.sla_due_at - t.created_at == timedelta(seconds=60)
    body = httpx.get(f"{server.url}/api/v1/tickets/{case}", headers=emt.headers(server.url))
    assert body.status_code == 200
