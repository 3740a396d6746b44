"""The scheduler's ``followup_due`` and the handoff note across a shift's end, at times the
test chooses (no live server here: its own scheduler would act at the real time)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from consult119.alerts.models import Alert
from consult119.followups import service as followups
from consult119.realtime.models import Event
from consult119.staff.models import Staff
from consult119.tickets import service as tickets
from consult119.tickets.models import Ticket
from consult119.triage import scheduler
from tests.factories import make_staff, make_ticket
from tests.triage.conftest import T0


def _alerts(db):
    with db.read_session() as s:
        return list(s.scalars(select(Alert).where(Alert.kind == "followup_due").order_by(Alert.id)))


def _events(db, name):
    with db.read_session() as s:
        return list(s.scalars(select(Event).where(Event.name == name).order_by(Event.id)))


def _desk_followup(db, ticket_id, staff_id, due_at, now):
    with db.unit_of_work() as s:
        staff = s.get(Staff, staff_id)
        return followups.create(s, ticket_id, staff=staff, due_at=due_at, note="확인", now=now).id


def test_scheduler_raises_followup_due_once_and_done_resolves_it(db):
    doctor = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
    case = make_ticket(db, now=T0)
    with db.unit_of_work() as s:
        tickets.claim(s, case, staff=s.get(Staff, doctor), now=T0)
    fid = _desk_followup(db, case, doctor, T0 + timedelta(minutes=10), T0)
    scheduler.tick(db, now=T0 + timedelta(minutes=9))
    assert _alerts(db) == []
    report = scheduler.tick(db, now=T0 + timedelta(minutes=10))
    assert report.followups_due == [fid]
    assert scheduler.tick(db, now=T0 + timedelta(minutes=11)).followups_due == []
    [alert] = _alerts(db)
    assert alert.staff_id == doctor and alert.ticket_id == case and alert.state == "open"
    assert alert.data["followup_id"] == fid
    with db.unit_of_work() as s:
        followups.done(s, fid, staff=s.get(Staff, doctor), now=T0 + timedelta(minutes=12))
    [alert] = _alerts(db)
    assert alert.state == "resolved" and alert.resolved_by == doctor


def test_holder_off_duty_fans_out_to_every_doctor_on_duty(db):
    holder = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
    case = make_ticket(db, now=T0)
    with db.unit_of_work() as s:
        tickets.claim(s, case, staff=s.get(Staff, holder), now=T0)
    fid = _desk_followup(db, case, holder, T0 + timedelta(minutes=5), T0)
    later = T0 + timedelta(hours=12)  # the holder's shift (11 h) is over
    with db.unit_of_work() as s:
        assert followups.raise_due(s, fid, now=later)
    [alert] = _alerts(db)
    assert alert.staff_id is None and alert.role == "doctor"


def test_handoff_note_shows_after_a_shift_end_for_the_next_doctor(db):
    leaving = make_staff(db, "doctor", on_duty=True, now=T0, presence="available").id
    case = make_ticket(db, now=T0)
    with db.unit_of_work() as s:
        tickets.claim(s, case, staff=s.get(Staff, leaving), now=T0)
    with db.unit_of_work() as s:
        followups.write_handoff(
            s, case, staff=s.get(Staff, leaving), note="혈압 재확인 필요", now=T0
        )
    with db.read_session() as s:
        t = s.get(Ticket, case)
        assert t.assignee_id == leaving, (t.status, t.assignee_id, t.assignment_accepted)
    [noted] = _events(db, "ticket.handoff_noted")
    assert noted.data["handoff"]["note"] == "혈압 재확인 필요"
    nxt = make_staff(db, "doctor", on_duty=True, now=T0 + timedelta(hours=12), presence="available")
    report = scheduler.tick(db, now=T0 + timedelta(hours=12))
    assert case in report.handed_over
    with db.read_session() as s:
        note = followups.latest_handoff(s, case)
        assert note is not None and note.created_by == leaving
        assert s.get(Ticket, case).assignee_id == nxt.id
