"""Alerts raised once per cause by the actions that cause them, resolved by the actions that
answer them, each change an event in the same transaction — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from consult119.alerts import service
from consult119.alerts.models import Alert, AlertKind
from consult119.realtime.models import Event
from consult119.staff.models import Staff
from consult119.tickets import service as tickets
from consult119.tickets.models import Ticket
from consult119.triage import scheduler
from tests.factories import make_staff, make_ticket
from tests.triage.conftest import T0

CHEST_PAIN = "가슴이 아파요"  # red flag chest_pain, suspected KTAS 2
NOT_BREATHING = "아이가 숨을 안 쉬어요"  # cardiac_arrest, suspected KTAS 1


def alerts(db, **where) -> list[Alert]:
    with db.read_session() as s:
        stmt = select(Alert).order_by(Alert.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Alert, key) == value)
        return list(s.scalars(stmt))


def events(db, name: str) -> list[Event]:
    with db.read_session() as s:
        return list(s.scalars(select(Event).where(Event.name == name).order_by(Event.id)))


def reply(db, ticket_id: int, staff_id: int, *, now, internal: bool = False) -> None:
    with db.unit_of_work() as s:
        staff = s.get(Staff, staff_id)
        tickets.add_message(
            s, ticket_id, staff=staff, text="119에 전화하세요", internal=internal, now=now
        )


def test_a_red_flag_case_raises_one_alert_with_its_event(db):
    case = make_ticket(db, CHEST_PAIN, now=T0, sender_id="rf-1")
    [alert] = alerts(db, kind="red_flag")
    assert alert.ticket_id == case and alert.state == "open" and alert.level == 2
    assert alert.role == "doctor" and alert.acknowledged_at is None
    assert alert.data["red_flags"] == ["chest_pain"]
    [raised] = events(db, "alert.raised")
    assert raised.ticket_id == case
    assert raised.data["alert"]["id"] == alert.id and raised.data["alert"]["kind"] == "red_flag"

    # The same flag again on the same case: the cause is raised already.
    make_ticket(db, "아직도 " + CHEST_PAIN, now=T0 + timedelta(minutes=1), sender_id="rf-1")
    assert len(alerts(db, kind="red_flag")) == 1
    # A flag the case did not have: a new cause.
    make_ticket(db, NOT_BREATHING, now=T0 + timedelta(minutes=2), sender_id="rf-1")
    flagged = alerts(db, kind="red_flag")
    assert [a.data["red_flags"] for a in flagged] == [
        ["chest_pain"],
        ["cardiac_arrest", "breathing_difficulty"],
    ]
    assert flagged[1].level == 1
    assert len(events(db, "alert.raised")) == 2


def test_a_case_without_red_flags_raises_nothing(db):
    make_ticket(db, "여권을 잃어버렸어요", now=T0)
    assert alerts(db) == []


def test_a_doctor_reply_resolves_the_cases_alerts_an_internal_note_does_not(db):
    doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
    case = make_ticket(db, CHEST_PAIN, now=T0)
    other = make_ticket(db, CHEST_PAIN, now=T0)
    reply(db, case, doctor, now=T0 + timedelta(seconds=30), internal=True)
    assert alerts(db, ticket_id=case)[0].state == "open"
    reply(db, case, doctor, now=T0 + timedelta(minutes=1))
    [alert] = alerts(db, ticket_id=case)
    assert alert.state == "resolved" and alert.resolved_by == doctor
    assert alert.resolved_at == T0 + timedelta(minutes=1)
    [resolved] = events(db, "alert.resolved")
    assert resolved.data["alert"]["id"] == alert.id and resolved.data["reason"] == "reply"
    assert alerts(db, ticket_id=other)[0].state == "open"  # another case's alert stays


def test_an_emt_reply_answers_a_reopen_but_not_a_red_flag(db):
    emt = make_staff(db, "emt", on_duty=True, now=T0).id
    case = make_ticket(db, CHEST_PAIN, now=T0, sender_id="emt-1")
    service_raise = service.raise_for_ticket
    with db.unit_of_work() as s:
        service_raise(s, AlertKind.REOPENED, s.get(Ticket, case), 1, now=T0)
    reply(db, case, emt, now=T0 + timedelta(minutes=1))
    states = {a.kind: a.state for a in alerts(db, ticket_id=case)}
    assert states == {"red_flag": "open", "reopened": "resolved"}


def test_a_breached_clock_raises_sla_breached_once(db):
    case = make_ticket(db, NOT_BREATHING, now=T0)  # KTAS 1: the target is immediate
    scheduler.tick(db, now=T0 + timedelta(seconds=1))
    scheduler.tick(db, now=T0 + timedelta(seconds=2))
    [alert] = alerts(db, kind="sla_breached")
    assert alert.ticket_id == case and alert.level == 1
    assert alert.data["due_at"] == T0.isoformat()
    assert (
        len([e for e in events(db, "alert.raised") if e.data["alert"]["kind"] == "sla_breached"])
        == 1
    )


def test_a_travellers_message_on_a_resolved_case_raises_reopened(db):
    doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
    case = make_ticket(db, "배가 아파요", now=T0, sender_id="back-1")
    reply(db, case, doctor, now=T0 + timedelta(minutes=1))
    with db.unit_of_work() as s:
        tickets.change_status(
            s, case, to="resolved", by=s.get(Staff, doctor), now=T0 + timedelta(minutes=2)
        )
    assert alerts(db) == []
    make_ticket(db, "다시 아파요!", now=T0 + timedelta(hours=1), sender_id="back-1")
    [alert] = alerts(db)
    assert alert.kind == "reopened" and alert.ticket_id == case and alert.staff_id == doctor
    assert alert.data["reopen_count"] == 1
    # A person's reopen is that person acting: no alert.
    reply(db, case, doctor, now=T0 + timedelta(hours=1, minutes=1))
    assert alerts(db)[0].state == "resolved"
    with db.unit_of_work() as s:
        by = s.get(Staff, doctor)
        tickets.change_status(s, case, to="resolved", by=by, now=T0 + timedelta(hours=2))
        tickets.change_status(s, case, to="in_progress", by=by, now=T0 + timedelta(hours=3))
    assert len(alerts(db)) == 1


def test_claim_resolves_unclaimed_critical_and_resolving_the_case_resolves_the_rest(db):
    doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
    case = make_ticket(db, CHEST_PAIN, now=T0)
    with db.unit_of_work() as s:
        service.raise_for_ticket(s, AlertKind.UNCLAIMED_CRITICAL, s.get(Ticket, case), now=T0)
    with db.unit_of_work() as s:
        tickets.claim(s, case, staff=s.get(Staff, doctor), now=T0 + timedelta(minutes=1))
    states = {a.kind: a.state for a in alerts(db, ticket_id=case)}
    assert states == {"red_flag": "open", "unclaimed_critical": "resolved"}
    with db.unit_of_work() as s:
        tickets.change_status(
            s,
            case,
            to="resolved",
            by=s.get(Staff, doctor),
            now=T0 + timedelta(minutes=2),
            reason="handled_by_phone",
        )
    assert {a.state for a in alerts(db, ticket_id=case)} == {"resolved"}


def test_acknowledge_once(db):
    doctor = make_staff(db, "doctor", on_duty=True, now=T0).id
    emt = make_staff(db, "emt", on_duty=True, now=T0).id
    make_ticket(db, CHEST_PAIN, now=T0)
    [alert] = alerts(db)
    with db.unit_of_work() as s:
        service.acknowledge(s, alert.id, by=doctor, now=T0 + timedelta(seconds=20))
    with db.unit_of_work() as s:
        again = service.acknowledge(s, alert.id, by=emt, now=T0 + timedelta(seconds=40))
        assert again.acknowledged_by == doctor
    [acked] = alerts(db)
    assert acked.acknowledged_by == doctor and acked.state == "open"
    assert acked.acknowledged_at == T0 + timedelta(seconds=20)
    assert len(events(db, "alert.acknowledged")) == 1


def test_two_writers_raising_one_cause_at_once_make_one_alert(db):
    """The first transaction holds its new row uncommitted while the second inserts the same
    cause: on PostgreSQL the second waits on the unique index, then does nothing."""
    case = make_ticket(db, "배가 아파요", now=T0)
    inside, outcome = threading.Event(), {}

    def raise_it(name: str, hold: bool) -> None:
        try:
            with db.unit_of_work() as s:
                got = service.raise_alert(
                    s, AlertKind.NO_DOCTOR_AVAILABLE, cause="no_doctor:race", ticket_id=case, now=T0
                )
                outcome[name] = got is not None
                if hold:
                    inside.set()
                    threading.Event().wait(0.5)  # the other writer runs into the row meanwhile
        except Exception as exc:  # noqa: BLE001 - the test reports what escaped
            outcome[name] = type(exc).__name__

    first = threading.Thread(target=raise_it, args=("first", True))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=raise_it, args=("second", False))
    second.start()
    first.join(20)
    second.join(20)
    assert outcome == {"first": True, "second": False}
    assert len(alerts(db, cause="no_doctor:race")) == 1
    assert len(events(db, "alert.raised")) == 1
