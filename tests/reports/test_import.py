"""Import of historical cases: all or nothing, every bad row reported, no double import."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from consult119.db import utcnow
from consult119.reports import service as svc
from consult119.reports.importer import import_cases
from consult119.tickets.models import CaseCounter, Message, Ticket
from tests.reports.conftest import run_cli, ticket_count

KST = ZoneInfo("Asia/Seoul")

GOOD = """ref,created_at,source,status,acuity,category,location_type,country,patient_age,patient_sex,first_response_at,resolved_at
old-1,2020-01-01T00:30:00,kakao,closed,3,first_aid,sea,SG,45,M,2020-01-01T00:41:00,2020-01-01T01:30:00
old-2,2019-12-31T23:59:00+09:00,smtp,closed,,,land,JP,,,,
old-3,2020-03-05T10:00:00Z,phone,resolved,5,medication,land,VN,8,F,2020-03-05T10:01:00Z,2020-03-05T10:20:00Z
old-4,2020-07-01 09:00,line,,,,,,,,,
"""


def test_a_good_file_is_imported_whole(db):
    report = import_cases(db, GOOD, now=utcnow(), file_name="old.csv")
    assert report.ok and report.rows == 4 and report.imported == 4
    with db.read_session() as s:
        tickets = {t.case_number: t for t in s.scalars(select(Ticket))}
        share = svc.channel_share(s, svc.year_period(2020, KST), by="source")
        counters = {c.year: c.last_seq for c in s.scalars(select(CaseCounter))}
        notes = s.scalar(
            select(func.count()).select_from(Message).where(Message.source == "import")
        )
    # 00:30 on 1 January 2020 in Seoul is a 2020 case even though it is 2019 in UTC.
    assert sorted(tickets) == [
        "C119-2019-000001",
        "C119-2020-000001",
        "C119-2020-000002",
        "C119-2020-000003",
    ]
    first = tickets["C119-2020-000001"]
    assert first.created_at == datetime(2019, 12, 31, 15, 30, tzinfo=UTC)
    assert (first.channel, first.acuity, first.country, first.patient_age) == ("chat", 3, "SG", 45)
    assert first.status == "closed" and first.first_response_at is not None
    assert tickets["C119-2020-000002"].status == "resolved"
    assert tickets["C119-2020-000003"].status == "closed"  # the default
    assert share.period.total == 3 and share.previous.total == 1
    assert counters == {2019: 1, 2020: 3}
    assert notes == 4


def test_bad_rows_change_nothing_and_are_all_reported(db):
    bad = GOOD + (
        "old-5,0001-01-01T00:00:00,kakao,,,,,,,,,\n"
        "old-6,2020-01-02T00:00:00,fax,,9,surgery,moon,KOR,200,X,,\n"
        "old-1,2020-01-03T00:00:00,kakao,,,,,,,,,\n"
        ",2020-01-04T00:00:00,kakao,,,,,,,,2020-01-03T00:00:00,\n"
    )
    report = import_cases(db, bad, now=utcnow())
    assert not report.ok and report.imported == 0 and report.rows == 8
    by_line = {}
    for e in report.errors:
        by_line.setdefault(e.line, set()).add(e.column)
    assert by_line == {
        6: {"created_at"},
        7: {
            "source",
            "acuity",
            "category",
            "location_type",
            "country",
            "patient_age",
            "patient_sex",
        },
        8: {"ref"},
        9: {"ref"},
    }
    assert any("repeats line 2" in e.message for e in report.errors)
    assert ticket_count(db) == 0
    with db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(CaseCounter)) == 0


def test_a_file_cannot_be_imported_twice(db):
    assert import_cases(db, GOOD, now=utcnow()).ok
    again = import_cases(db, GOOD, now=utcnow())
    assert not again.ok and {e.line for e in again.errors} == {2, 3, 4, 5}
    assert all("imported before" in e.message for e in again.errors)
    assert ticket_count(db) == 4


def test_header_problems(db):
    report = import_cases(db, "ref,source,colour\nx,kakao,red\n", now=utcnow())
    assert [(e.line, e.column, e.message) for e in report.errors] == [
        (1, "created_at", "required column missing"),
        (1, "colour", "unknown column"),
    ]
    assert not import_cases(db, "ref,created_at,source\n", now=utcnow()).ok


def test_the_import_command(db, database_url, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "old-9,2020-01-02T00:00:00,fax,,,,,,,,,\n", encoding="utf-8")

    r = run_cli(database_url, "import", "cases", str(bad))
    assert r.returncode == 1
    assert "nothing was imported" in r.stderr and "unknown source 'fax'" in r.stderr
    assert ticket_count(db) == 0

    r = run_cli(database_url, "import", "cases", str(good))
    assert r.returncode == 0, r.stderr
    assert "Imported 4 cases" in r.stdout
    assert ticket_count(db) == 4
