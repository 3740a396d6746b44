"""Escalation: an alert on a KTAS 1–2 or red-flag case nobody acknowledged within
``CONSULT119_ESCALATE_AFTER_SECONDS`` (120 by default) becomes ``alert.escalated``, once, from
the scheduler."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consult119.alerts import service
from consult119.alerts.models import Alert, AlertKind
from consult119.config import Settings
from consult119.realtime.models import Event
from consult119.tickets.models import Ticket
from consult119.triage import scheduler
from tests.factories import make_staff, make_ticket
from tests.triage.conftest import T0

SEC = timedelta(seconds=1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These cases wait unclaimed for minutes: their ``unclaimed_critical`` alerts (and those
    alerts' own escalation) are tested in test_unclaimed_critical.py, not counted here."""
    return settings.model_copy(update={"unclaimed_critical_seconds": 24 * 3600})


def escalations(db) -> list[Event]:
    with db.read_session() as s:
        return list(s.scalars(select(Event).where(Event.name == "alert.escalated")))


def alert_of(db, ticket_id: int, kind: str) -> Alert:
    with db.read_session() as s:
        return s.scalars(
            select(Alert).where(Alert.ticket_id == ticket_id, Alert.kind == kind)
        ).one()


def test_an_unacknowledged_urgent_alert_escalates_once(db):
    case = make_ticket(db, "가슴이 아파요", now=T0)  # red flag, rank 2
    report = scheduler.tick(db, now=T0 + 119 * SEC)
    assert report.escalated == [] and escalations(db) == []
    report = scheduler.tick(db, now=T0 + 120 * SEC)
    alert = alert_of(db, case, "red_flag")
    assert report.escalated == [alert.id]
    assert alert.escalated_at == T0 + 120 * SEC and alert.state == "open"
    [event] = escalations(db)
    assert event.ticket_id == case and event.data["alert"]["id"] == alert.id
    assert event.data["alert"]["escalated_at"] is not None and event.data["after_seconds"] == 120
    assert scheduler.tick(db, now=T0 + 300 * SEC).escalated == []
    assert len(escalations(db)) == 1


def test_acknowledged_and_less_urgent_alerts_do_not_escalate(db):
    emt = make_staff(db, "emt", on_duty=True, now=T0).id
    seen = make_ticket(db, "가슴이 아파요", now=T0)
    calm = make_ticket(db, "약국이 어디인가요", now=T0)
    with db.unit_of_work() as s:
        service.acknowledge(s, alert_of(db, seen, "red_flag").id, by=emt, now=T0 + 60 * SEC)
        ticket = s.get(Ticket, calm)
        ticket.priority = 3  # a person's KTAS 3: its reopen alert is not urgent
        service.raise_for_ticket(s, AlertKind.REOPENED, ticket, 1, now=T0)
    assert scheduler.tick(db, now=T0 + 600 * SEC).escalated == []
    assert escalations(db) == []
