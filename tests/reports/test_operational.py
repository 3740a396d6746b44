"""Operational reports on both databases: months, times to answer, SLA, breakdowns, doctors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from consult119.reports import service as svc
from consult119.tickets.models import Ticket
from tests.factories import make_staff

KST = ZoneInfo("Asia/Seoul")


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST).astimezone(UTC)


def year(y: int) -> svc.Period:
    return svc.year_period(y, KST)


def test_monthly_buckets_follow_seoul_months(db, add_cases):
    add_cases(kst(2024, 1, 31, 23, 59), "kakao")
    add_cases(kst(2024, 2, 1, 0, 30), "kakao", n=2)  # still 31 January in UTC
    add_cases(kst(2024, 12, 31, 23, 0), "smtp")
    add_cases(kst(2024, 5, 5, 5, 5), "phone", status="merged")
    add_cases(kst(2025, 1, 1, 0, 0), "kakao")
    with db.read_session() as s:
        report = svc.monthly(s, 2024, KST, by="channel")
    counts = {m.month: m.counts for m in report.months}
    assert len(report.months) == 12
    assert report.keys == ["chat", "email"]
    assert counts["2024-01"] == {"chat": 1, "email": 0}
    assert counts["2024-02"] == {"chat": 2, "email": 0}
    assert counts["2024-12"] == {"chat": 0, "email": 1}
    assert counts["2024-05"] == {"chat": 0, "email": 0}
    assert sum(m.total for m in report.months) == 4


def test_response_and_resolution_percentiles(db, add_cases):
    start = kst(2024, 3, 1, 10, 0)
    for i in range(1, 11):  # first response after 1..10 minutes, resolution after 10x that
        add_cases(
            start,
            "kakao",
            acuity=3,
            first_response_at=start + timedelta(minutes=i),
            resolved_at=start + timedelta(minutes=10 * i),
        )
    add_cases(start, "smtp", acuity=4, first_response_at=start + timedelta(hours=2))
    add_cases(start, "smtp", acuity=4)  # never answered: not in the times
    with db.read_session() as s:
        by_channel = svc.response_times(s, year(2024), by="channel")
        by_acuity = svc.response_times(s, year(2024), by="acuity")
        both = svc.response_times(s, year(2024), by="channel_acuity")
    chat = next(r for r in by_channel.first_response if r.channel == "chat")
    assert (chat.cases, chat.median_minutes, chat.p90_minutes, chat.mean_minutes) == (
        10,
        5.0,
        9.0,
        5.5,
    )
    email = next(r for r in by_channel.first_response if r.channel == "email")
    assert (email.cases, email.median_minutes, email.p90_minutes) == (1, 120.0, 120.0)
    resolution = next(r for r in by_channel.resolution if r.channel == "chat")
    assert (resolution.median_minutes, resolution.p90_minutes) == (50.0, 90.0)
    assert [(r.acuity, r.cases) for r in by_acuity.first_response] == [(3, 10), (4, 1)]
    assert [(r.channel, r.acuity) for r in both.first_response] == [("chat", 3), ("email", 4)]


def test_sla_compliance_by_ktas_level(db, add_cases):
    t = kst(2024, 4, 1, 9, 0)
    now = t + timedelta(hours=1)
    due = t + timedelta(minutes=10)
    add_cases(t, "kakao", acuity=2, sla_due_at=due, first_response_at=t + timedelta(minutes=9))
    add_cases(t, "kakao", acuity=2, sla_due_at=due, first_response_at=due)  # on the dot: met
    add_cases(t, "kakao", acuity=2, sla_due_at=due, first_response_at=due + timedelta(seconds=1))
    add_cases(t, "kakao", acuity=2, sla_due_at=due)  # unanswered past due: missed
    add_cases(t, "kakao", acuity=5, sla_due_at=t + timedelta(hours=2))  # not due yet: pending
    add_cases(t, "kakao")  # untriaged: no level, not in the table
    with db.read_session() as s:
        report = svc.sla(s, year(2024), now=now)
    rows = {r.acuity: r for r in report.rows}
    assert set(rows) == {2, 5}
    assert (rows[2].cases, rows[2].met, rows[2].missed, rows[2].pending) == (4, 2, 2, 0)
    assert rows[2].compliance == 50.0 and rows[2].target_minutes == 10
    assert (rows[5].met, rows[5].missed, rows[5].pending, rows[5].compliance) == (0, 0, 1, None)


def test_breakdowns(db, add_cases):
    t = kst(2024, 8, 1, 12, 0)
    add_cases(
        t,
        "kakao",
        location_type="sea",
        country="SG",
        patient_age=34,
        patient_sex="M",
        category="first_aid",
        acuity=3,
    )
    add_cases(t, "kakao", location_type="sea", country="SG", patient_age=70, category="first_aid")
    add_cases(t, "smtp", location_type="land", country="JP", patient_age=9, category="medication")
    add_cases(t, "phone", location_type="air", patient_age=10)
    add_cases(t, "phone")
    with db.read_session() as s:

        def keys(dimension):
            report = svc.breakdown(s, year(2024), dimension=dimension)
            assert report.total == 5
            return {r.key: r.count for r in report.rows}

        assert keys("location_type") == {"sea": 2, "land": 1, "air": 1, "unknown": 1}
        assert keys("country") == {"SG": 2, "JP": 1, "unknown": 2}
        assert keys("age_band") == {"30-39": 1, "70+": 1, "0-9": 1, "10-19": 1, "unknown": 1}
        assert keys("category") == {"first_aid": 2, "medication": 1, "unknown": 2}
        assert keys("acuity") == {"3": 1, "unknown": 4}
        assert keys("sex") == {"M": 1, "unknown": 4}
        shares = svc.breakdown(s, year(2024), dimension="location_type").rows
        assert [r.share for r in shares] == [40.0, 20.0, 20.0, 20.0]


def test_workload_per_doctor(db, add_cases):
    a = make_staff(db, "doctor", name="Dr A")
    b = make_staff(db, "doctor", name="Dr B")
    make_staff(db, "emt")
    t = kst(2024, 9, 1, 12, 0)
    add_cases(
        t,
        "kakao",
        n=2,
        assignee_id=a.id,
        first_response_at=t + timedelta(minutes=4),
        resolved_at=t + timedelta(hours=1),
    )
    add_cases(
        t,
        "kakao",
        assignee_id=a.id,
        status="in_progress",
        first_response_at=t + timedelta(minutes=10),
    )
    add_cases(kst(2023, 9, 1), "kakao", assignee_id=b.id)  # another year
    with db.read_session() as s:
        report = svc.workload(s, year(2024))
    rows = {r.name: r for r in report.rows}
    assert set(rows) == {"Dr A", "Dr B"}
    assert (rows["Dr A"].cases, rows["Dr A"].resolved, rows["Dr A"].open) == (3, 2, 1)
    assert rows["Dr A"].mean_first_response_minutes == 6.0
    assert (rows["Dr B"].cases, rows["Dr B"].mean_first_response_minutes) == (0, None)


def test_a_code_outside_the_known_ones_is_still_counted(db, add_cases):
    t = kst(2024, 10, 1, 12, 0)
    add_cases(t, "kakao", n=2)
    sms = add_cases(t, "kakao")[0]
    with db.unit_of_work() as session:  # e.g. written by a newer version of the service
        session.execute(update(Ticket).where(Ticket.id == sms).values(channel="sms", source="sms"))
    with db.read_session() as s:
        by_channel = svc.channel_share(s, year(2024), by="channel")
        by_source = svc.channel_share(s, year(2024), by="source")
    assert {r.key: r.count for r in by_channel.period.rows} == {"chat": 2, "sms": 1}
    assert {r.key: r.count for r in by_source.period.rows} == {"kakao": 2, "sms": 1}
    assert by_source.period.total == 3
