"""Nobody to answer: ``no_doctor_available``, cases of a doctor gone offline handed back after
the presence grace, the roster's gaps and the ``roster_gap`` alert — with a chosen clock, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from consult119.alerts.models import Alert
from consult119.config import AssignmentPolicy, Settings
from consult119.staff import service as staff_service
from consult119.staff.models import Staff
from consult119.tickets import service
from consult119.triage import scheduler
from tests.factories import add_shift, make_staff, make_ticket
from tests.triage.conftest import T0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Cases here wait unheld for minutes: their ``unclaimed_critical`` alerts are tested in
    tests/alerts/test_unclaimed_critical.py, not counted among the cover alerts here."""
    return settings.model_copy(update={"unclaimed_critical_seconds": 24 * 3600})


MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def alerts(db, kind: str) -> list[Alert]:
    with db.read_session() as s:
        return list(s.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)))


def presence(desk, staff_id: int, status: str, at: datetime) -> None:
    with desk.db.unit_of_work() as s:
        staff_service.set_presence(s, s.get(Staff, staff_id), status, now=at)


def triage(desk, tid, actor, acuity, at):
    return desk.do(
        service.triage, tid, actor=actor, acuity=acuity, category="medical_consultation", now=at
    )


def resolved_reasons(desk, alert_id: int) -> list[str]:
    return [
        e.data["reason"] for e in desk.events("alert.resolved") if e.data["alert"]["id"] == alert_id
    ]


# ---- no_doctor_available ------------------------------------------------------------------


def test_no_doctor_available_is_one_alert_per_episode_resolved_when_a_doctor_is_back(desk, policy):
    doctor = desk.doctor(presence="away")
    emt = desk.staff("emt")
    first = make_ticket(desk.db, now=T0)
    triage(desk, first, emt, 2, T0 + MIN)  # triaged: it needs a doctor now; nobody takes it
    second = make_ticket(desk.db, now=T0 + MIN)

    report = scheduler.tick(desk.db, now=T0 + 2 * MIN, policy=policy)
    [alert] = alerts(desk.db, "no_doctor_available")
    assert report.cover_raised.count(alert.id) == 1
    assert (alert.state, alert.ticket_id, alert.role, alert.staff_id) == ("open", None, "emt", None)
    assert alert.level == 2
    assert alert.data["waiting"] == 1 and alert.data["doctors_on_duty"] == 1
    assert alert.data["case_numbers"] == [desk.ticket(first).case_number]

    # Ticking again, and a second case waiting past the untriaged wait: still one alert.
    scheduler.tick(desk.db, now=T0 + 2 * MIN, policy=policy)
    scheduler.tick(desk.db, now=T0 + 5 * MIN, policy=policy)
    assert [a.id for a in alerts(desk.db, "no_doctor_available")] == [alert.id]
    assert [e.data["alert"]["id"] for e in desk.events("alert.raised")].count(alert.id) == 1

    # The doctor is back at the console: the next tick gives them the cases and resolves it.
    presence(desk, doctor, "available", T0 + 6 * MIN)
    scheduler.tick(desk.db, now=T0 + 6 * MIN, policy=policy)
    [done] = alerts(desk.db, "no_doctor_available")
    assert done.state == "resolved" and done.resolved_at is not None
    assert desk.ticket(first).assignee_id == doctor and desk.ticket(second).assignee_id == doctor
    assert resolved_reasons(desk, alert.id) == ["no_case_waiting"]
    scheduler.tick(desk.db, now=T0 + 7 * MIN, policy=policy)
    assert len(desk.events("alert.resolved")) == 1

    # A new episode: the doctor goes offline, a new triaged case waits: a new alert (within
    # the presence grace, before the doctor's own cases come back to the queue).
    presence(desk, doctor, "offline", T0 + 8 * MIN)
    third = make_ticket(desk.db, now=T0 + 8 * MIN)
    triage(desk, third, emt, 3, T0 + 8 * MIN)
    scheduler.tick(desk.db, now=T0 + 8 * MIN + timedelta(seconds=30), policy=policy)
    episodes = alerts(desk.db, "no_doctor_available")
    assert [a.state for a in episodes] == ["resolved", "open"]
    # (the first two timed out unaccepted meanwhile and wait again too)
    assert desk.ticket(third).case_number in episodes[1].data["case_numbers"]


def test_no_doctor_on_duty_at_all_raises_it_and_a_shift_for_an_available_doctor_resolves_it(
    desk, policy
):
    emt = desk.staff("emt")
    doctor = make_staff(desk.db, "doctor", presence="available").id  # not on the roster now
    case = make_ticket(desk.db, now=T0)
    triage(desk, case, emt, 1, T0 + MIN)
    scheduler.tick(desk.db, now=T0 + 2 * MIN, policy=policy)
    [alert] = alerts(desk.db, "no_doctor_available")
    assert alert.state == "open" and alert.level == 1 and alert.data["doctors_on_duty"] == 0

    # A doctor who is on duty but already has no room still answers "is anybody there".
    with desk.db.unit_of_work() as s:
        s.get(Staff, doctor).capacity = 0
        staff_service.add_shift(
            s, s.get(Staff, doctor), starts_at=T0, ends_at=T0 + 8 * HOUR, now=T0 + 3 * MIN
        )
    scheduler.tick(desk.db, now=T0 + 3 * MIN, policy=policy)
    [alert] = alerts(desk.db, "no_doctor_available")
    assert alert.state == "resolved" and desk.ticket(case).assignee_id is None
    assert resolved_reasons(desk, alert.id) == ["doctor_available"]


def test_a_waiting_case_with_an_available_doctor_raises_nothing(desk, policy):
    desk.doctor(presence="busy", capacity=0)
    emt = desk.staff("emt")
    triage(desk, make_ticket(desk.db, now=T0), emt, 2, T0 + MIN)
    scheduler.tick(desk.db, now=T0 + 2 * MIN, policy=policy)
    assert alerts(desk.db, "no_doctor_available") == []


# ---- offline past the presence grace ------------------------------------------------------


@pytest.fixture
def patient() -> AssignmentPolicy:
    """Assignments wait an hour to be accepted: only the offline rule moves a case here."""
    return AssignmentPolicy(
        scheduler_interval_seconds=1,
        auto_assign_untriaged_after_seconds=180,
        accept_timeout_seconds={lvl: 3600 for lvl in range(1, 6)},
    )


def test_a_doctor_offline_past_the_grace_hands_back_ktas_1_to_3_cases(desk, patient):
    grace = timedelta(seconds=desk.db.settings.presence_grace_seconds)
    emt = desk.staff("emt")
    leaving = desk.doctor()
    urgent, minor = make_ticket(desk.db, now=T0), make_ticket(desk.db, now=T0)
    triage(desk, urgent, emt, 2, T0 + MIN)
    triage(desk, minor, emt, 4, T0 + MIN)
    assert desk.ticket(urgent).assignee_id == leaving == desk.ticket(minor).assignee_id
    other = desk.doctor(now=T0 + 2 * MIN)

    gone = T0 + 3 * MIN
    presence(desk, leaving, "offline", gone)
    report = scheduler.tick(desk.db, now=gone + grace - timedelta(seconds=1), policy=patient)
    assert report.handed_back == [] and desk.ticket(urgent).assignee_id == leaving

    report = scheduler.tick(desk.db, now=gone + grace, policy=patient)
    assert report.handed_back == [urgent]
    assert desk.ticket(urgent).assignee_id == other
    assert desk.ticket(minor).assignee_id == leaving  # KTAS 4 waits for them
    last = desk.events("ticket.assigned", ticket_id=urgent)[-1]
    assert (last.data["reason"], last.data["handover_reason"]) == ("handover", "offline")
    assert last.data["previous_assignee_id"] == leaving
    assert scheduler.tick(desk.db, now=gone + grace + MIN, policy=patient).handed_back == []


def test_back_within_the_grace_keeps_the_cases_and_nobody_free_returns_them_to_the_queue(
    desk, patient
):
    grace = timedelta(seconds=desk.db.settings.presence_grace_seconds)
    emt = desk.staff("emt")
    doctor = desk.doctor()
    case = make_ticket(desk.db, now=T0)
    triage(desk, case, emt, 1, T0 + MIN)
    presence(desk, doctor, "offline", T0 + 2 * MIN)
    presence(desk, doctor, "available", T0 + 2 * MIN + grace / 2)
    assert scheduler.tick(desk.db, now=T0 + 2 * MIN + grace, policy=patient).handed_back == []
    assert desk.ticket(case).assignee_id == doctor

    presence(desk, doctor, "offline", T0 + 10 * MIN)
    report = scheduler.tick(desk.db, now=T0 + 10 * MIN + grace, policy=patient)
    assert report.handed_back == [case]
    assert desk.ticket(case).assignee_id is None and desk.ticket(case).status == "triaged"
    last = desk.events("ticket.assigned", ticket_id=case)[-1]
    assert (last.data["assignee_id"], last.data["handover_reason"]) == (None, "offline")
    # Nobody left to answer: the EMT is told in the same tick.
    assert [a.state for a in alerts(desk.db, "no_doctor_available")] == ["open"]


def test_a_shift_end_handover_says_why(desk, policy):
    emt = desk.staff("emt")
    doctor = desk.doctor()  # on duty until T0 + 11 h
    case = make_ticket(desk.db, now=T0)
    triage(desk, case, emt, 3, T0 + MIN)
    scheduler.tick(desk.db, now=T0 + 11 * HOUR, policy=policy)
    last = desk.events("ticket.assigned", ticket_id=case)[-1]
    assert (last.data["reason"], last.data["handover_reason"]) == ("handover", "off_duty")
    assert doctor == last.data["previous_assignee_id"]


# ---- roster gaps --------------------------------------------------------------------------

DAY = datetime(2025, 3, 1, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(days=day, hours=hour, minutes=minute)


def test_roster_gaps_merge_across_shifts_and_midnight(desk):
    d1, d2, d3, d4 = (make_staff(desk.db, "doctor").id for _ in range(4))
    gone = make_staff(desk.db, "doctor").id
    emt = make_staff(desk.db, "emt").id
    add_shift(desk.db, d1, at(0, 19), at(0, 22))
    add_shift(desk.db, d2, at(0, 22), at(0, 23))  # back to back with d1: no gap between
    add_shift(desk.db, gone, at(0, 23, 30), at(1, 1))  # a disabled doctor covers nothing
    add_shift(desk.db, emt, at(1, 0), at(1, 1))  # nor does an EMT
    add_shift(desk.db, d3, at(1, 2), at(1, 12))
    add_shift(desk.db, d4, at(1, 8), at(1, 10))
    add_shift(desk.db, d1, at(1, 13), at(1, 21))
    with desk.db.unit_of_work() as s:
        staff_service.disable_staff(s, s.get(Staff, gone), now=at(0, 12))

    with desk.db.read_session() as s:
        gaps = staff_service.roster_gaps(s, at(0, 20), at(1, 20))
        thin = staff_service.roster_gaps(s, at(0, 20), at(1, 20), min_doctors=2)
        ahead = staff_service.roster_gaps(s, at(1, 15), at(1, 23))
    # 23:00 to 02:00 across midnight is one gap, whatever shifts of others fall in it.
    assert [(g.start, g.end, g.doctors_on_duty) for g in gaps] == [
        (at(0, 23), at(1, 2), 0),
        (at(1, 12), at(1, 13), 0),
    ]
    assert [(g.start, g.end, g.doctors_on_duty) for g in thin] == [
        (at(0, 20), at(0, 23), 1),  # d1 then d2: one doctor throughout, one period
        (at(0, 23), at(1, 2), 0),
        (at(1, 2), at(1, 8), 1),
        (at(1, 10), at(1, 12), 1),
        (at(1, 12), at(1, 13), 0),
        (at(1, 13), at(1, 20), 1),
    ]
    assert [(g.start, g.end) for g in ahead] == [(at(1, 21), at(1, 23))]  # clipped to the window


def test_a_roster_gap_alert_is_raised_once_12_hours_ahead_and_resolved_by_a_shift(desk, policy):
    first, second = make_staff(desk.db, "doctor").id, make_staff(desk.db, "doctor").id
    add_shift(desk.db, first, T0 - HOUR, T0 + 4 * HOUR)
    add_shift(desk.db, first, T0 + 6 * HOUR + 30 * MIN, T0 + 20 * HOUR)

    report = scheduler.tick(desk.db, now=T0, policy=policy)
    [alert] = alerts(desk.db, "roster_gap")
    assert report.cover_raised == [alert.id]
    assert (alert.state, alert.ticket_id, alert.role, alert.level) == ("open", None, "admin", None)
    assert alert.data == {
        "hour": (T0 + 4 * HOUR).isoformat(),
        "start": (T0 + 4 * HOUR).isoformat(),
        "end": (T0 + 6 * HOUR + 30 * MIN).isoformat(),
        "open_ended": False,
    }
    # Ticking twice (and on into the gap) raises nothing twice.
    for minutes in (0, 1, 60, 4 * 60 + 10):
        report = scheduler.tick(desk.db, now=T0 + minutes * MIN, policy=policy)
        assert report.cover_raised == [] and report.cover_resolved == []
    assert len(alerts(desk.db, "roster_gap")) == 1

    # The gap after 20:00 is more than 12 h ahead at first; it is raised when it comes closer.
    report = scheduler.tick(desk.db, now=T0 + 8 * HOUR + MIN, policy=policy)
    later = alerts(desk.db, "roster_gap")[-1]
    assert report.cover_raised == [later.id] and later.data["hour"] == (T0 + 20 * HOUR).isoformat()
    assert later.data["open_ended"] is True

    # A shift covering a gap resolves its alert at the next tick.
    with desk.db.unit_of_work() as s:
        staff_service.add_shift(
            s, s.get(Staff, second), starts_at=T0 + 19 * HOUR, ends_at=T0 + 30 * HOUR
        )
    report = scheduler.tick(desk.db, now=T0 + 8 * HOUR + 2 * MIN, policy=policy)
    assert report.cover_resolved == [later.id]
    assert resolved_reasons(desk, later.id) == ["covered"]
    assert [a.state for a in alerts(desk.db, "roster_gap")] == ["resolved", "resolved"]
    assert resolved_reasons(desk, alert.id) == ["covered"]  # that gap is over: a doctor is on
    scheduler.tick(desk.db, now=T0 + 8 * HOUR + 3 * MIN, policy=policy)
    assert len(desk.events("alert.raised")) == 2 and len(desk.events("alert.resolved")) == 2
