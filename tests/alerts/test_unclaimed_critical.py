"""``unclaimed_critical``: a KTAS 1–2 (triaged or suspected) or red-flagged case nobody holds
for ``CONSULT119_UNCLAIMED_CRITICAL_SECONDS`` (60) is raised once per case by the scheduler,
and a claim or an assignment to a doctor resolves it."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from sqlalchemy import select

from consult119.alerts.models import Alert
from consult119.realtime.models import Event
from consult119.staff.models import Staff
from consult119.tickets import service as tickets
from consult119.tickets.models import Ticket
from consult119.triage import scheduler
from tests.alerts.test_alerts_live import CHEST_PAIN, post_chat
from tests.factories import make_staff, make_ticket
from tests.triage.conftest import T0

SEC = timedelta(seconds=1)
CALM = "약국이 어디인가요"


def unclaimed(db) -> list[Alert]:
    with db.read_session() as s:
        return list(
            s.scalars(select(Alert).where(Alert.kind == "unclaimed_critical").order_by(Alert.id))
        )


def raised_events(db) -> list[int]:
    with db.read_session() as s:
        return [
            e.data["alert"]["id"]
            for e in s.scalars(select(Event).where(Event.name == "alert.raised"))
            if e.data["alert"]["kind"] == "unclaimed_critical"
        ]


def test_raised_once_per_case_across_ticks(db):
    case = make_ticket(db, CHEST_PAIN, now=T0)  # red flag, suspected KTAS 2, nobody holds it
    assert scheduler.tick(db, now=T0 + 59 * SEC).unclaimed == []
    assert unclaimed(db) == []
    assert scheduler.tick(db, now=T0 + 60 * SEC).unclaimed == [case]
    assert scheduler.tick(db, now=T0 + 61 * SEC).unclaimed == []
    assert scheduler.tick(db, now=T0 + 90 * SEC).unclaimed == []
    [alert] = unclaimed(db)
    assert alert.ticket_id == case and alert.state == "open" and alert.level == 2
    assert alert.raised_at == T0 + 60 * SEC and alert.role == "doctor"
    assert alert.data["after_seconds"] == 60 and alert.data["case_number"]
    assert raised_events(db) == [alert.id]


def test_only_urgent_cases_nobody_holds(db):
    calm = make_ticket(db, CALM, now=T0)
    triaged_calm = make_ticket(db, CALM, now=T0, sender_id="t-2")  # suspected 2, triaged 4
    triaged_critical = make_ticket(db, CALM, now=T0, sender_id="t-3")
    held = make_ticket(db, CHEST_PAIN, now=T0, sender_id="t-4")
    # Away from the console, not offline: an offline holder hands the case back after the
    # presence grace, an available one is auto-assigned the triaged case.
    doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="away")
    with db.unit_of_work() as s:
        # A person's level, set as triage leaves it (without triage's own hand-off).
        for ticket_id, level in ((triaged_calm, 4), (triaged_critical, 1)):
            ticket = s.get(Ticket, ticket_id)
            ticket.acuity = ticket.priority = level
            ticket.suspected_acuity = 2
            ticket.status = "triaged"
        tickets.claim(s, held, staff=s.get(Staff, doctor.id), now=T0)
    with db.read_session() as s:
        assert s.get(Ticket, calm).suspected_acuity in (None, 3, 4, 5)
        assert not s.get(Ticket, calm).red_flags
    report = scheduler.tick(db, now=T0 + 60 * SEC, policy=_no_auto_assign(db))
    assert report.unclaimed == [triaged_critical]
    assert [a.ticket_id for a in unclaimed(db)] == [triaged_critical]


def _no_auto_assign(db):
    """The database's settings, with auto-assignment far off: a case here stays unheld."""
    return db.settings.model_copy(update={"auto_assign_untriaged_after_seconds": 10**6})


def test_an_assignment_to_a_doctor_resolves_it(db):
    case = make_ticket(db, CHEST_PAIN, now=T0)
    doctor = make_staff(db, "doctor", on_duty=True, now=T0)
    emt = make_staff(db, "emt", on_duty=True, now=T0)
    scheduler.tick(db, now=T0 + 60 * SEC)
    [alert] = unclaimed(db)
    with db.unit_of_work() as s:
        tickets.assign(s, case, staff_id=doctor.id, by=s.get(Staff, emt.id), now=T0 + 70 * SEC)
    [alert] = unclaimed(db)
    assert alert.state == "resolved" and alert.resolved_by == emt.id
    assert scheduler.tick(db, now=T0 + 200 * SEC).unclaimed == []  # once per case


def test_a_claim_over_http_resolves_it(start_server, db):
    server = start_server(
        CONSULT119_UNCLAIMED_CRITICAL_SECONDS="1",
        CONSULT119_SCHEDULER_INTERVAL_SECONDS="0.2",
        CONSULT119_ESCALATE_AFTER_SECONDS="3600",
    )
    doctor = make_staff(db, "doctor", on_duty=True)
    h = doctor.headers(server.url)
    case = post_chat(server, "unclaimed-1", "unclaimed-1-a", CHEST_PAIN)["ticket_id"]

    def open_unclaimed() -> list[dict]:
        r = httpx.get(
            f"{server.url}/api/v1/alerts",
            params={"state": "open", "kind": "unclaimed_critical"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        return r.json()["items"]

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not open_unclaimed():
        time.sleep(0.2)
    [item] = open_unclaimed()
    assert item["ticket_id"] == case and item["level"] == 2
    r = httpx.post(f"{server.url}/api/v1/tickets/{case}/claim", headers=h)
    assert r.status_code == 200, r.text
    assert open_unclaimed() == []
    with db.read_session() as s:
        [resolved] = [
            e
            for e in s.scalars(select(Event).where(Event.name == "alert.resolved"))
            if e.data["alert"]["id"] == item["id"]
        ]
    assert resolved.data["reason"] == "claim" and resolved.actor_id == doctor.id
    time.sleep(1.0)  # several more ticks: the case is held, nothing is raised again
    assert [a.id for a in unclaimed(db)] == [item["id"]]
