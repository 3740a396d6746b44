"""Shifts that begin and end are announced once each (duty.started / duty.ended)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from consult119.staff import service as staff_service
from consult119.staff.models import Shift, Staff
from consult119.triage import scheduler
from tests.factories import add_shift, make_staff
from tests.triage.conftest import T0

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def duty(desk):
    return [
        (e.name, e.data["staff_id"], e.data["staff"]["on_duty"])
        for e in desk.events("duty.started", "duty.ended")
    ]


def test_a_shift_is_announced_when_it_begins_and_when_it_ends(desk, policy):
    doctor = make_staff(desk.db, "doctor").id
    add_shift(desk.db, doctor, T0 + 10 * MIN, T0 + HOUR)

    assert scheduler.tick(desk.db, now=T0, policy=policy).duty_started == []
    report = scheduler.tick(desk.db, now=T0 + 10 * MIN, policy=policy)
    assert (report.duty_started, report.duty_ended) == ([doctor], [])
    assert scheduler.tick(desk.db, now=T0 + 11 * MIN, policy=policy).duty_started == []
    report = scheduler.tick(desk.db, now=T0 + HOUR, policy=policy)
    assert (report.duty_started, report.duty_ended) == ([], [doctor])
    assert not scheduler.tick(desk.db, now=T0 + HOUR + MIN, policy=policy).duty_ended

    assert duty(desk) == [("duty.started", doctor, True), ("duty.ended", doctor, False)]
    started = desk.events("duty.started")[0].data["staff"]
    assert (started["id"], started["role"]) == (doctor, "doctor")


def test_back_to_back_shifts_keep_a_doctor_on_duty_without_a_gap(desk, policy):
    doctor = make_staff(desk.db, "doctor").id
    add_shift(desk.db, doctor, T0, T0 + HOUR)
    add_shift(desk.db, doctor, T0 + HOUR, T0 + 2 * HOUR)
    scheduler.tick(desk.db, now=T0, policy=policy)
    report = scheduler.tick(desk.db, now=T0 + HOUR, policy=policy)
    # The first shift ended, but the second has begun: no "ended" in between.
    assert (report.duty_started, report.duty_ended) == ([doctor], [])
    assert duty(desk) == [("duty.started", doctor, True), ("duty.started", doctor, True)]


def test_a_shift_that_began_and_ended_between_ticks_says_nothing(desk, policy):
    doctor = make_staff(desk.db, "doctor").id
    add_shift(desk.db, doctor, T0 + MIN, T0 + 2 * MIN)
    report = scheduler.tick(desk.db, now=T0 + HOUR, policy=policy)
    assert (report.duty_started, report.duty_ended) == ([], [])
    assert duty(desk) == []
    with desk.db.read_session() as s:
        shift = s.query(Shift).one()
        assert shift.started_seen_at is not None and shift.handed_over_at is not None


def test_a_shift_added_for_the_current_hour_is_announced_at_once(desk, policy):
    doctor = make_staff(desk.db, "doctor").id
    with desk.db.unit_of_work() as s:
        staff_service.add_shift(
            s, s.get(Staff, doctor), starts_at=T0 - MIN, ends_at=T0 + HOUR, now=T0
        )
    assert duty(desk) == [("duty.started", doctor, True)]
    assert scheduler.tick(desk.db, now=T0 + MIN, policy=policy).duty_started == []
    assert len(duty(desk)) == 1


def test_ticks_running_at_once_announce_each_change_once(desk, policy):
    doctors = [make_staff(desk.db, "doctor").id for _ in range(4)]
    for d in doctors:
        add_shift(desk.db, d, T0, T0 + HOUR)
    for at in (T0 + MIN, T0 + HOUR + MIN):
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda _: scheduler.tick(desk.db, now=at, policy=policy), range(4)))
    names = [name for name, _, _ in duty(desk)]
    assert sorted(names) == ["duty.ended"] * 4 + ["duty.started"] * 4
