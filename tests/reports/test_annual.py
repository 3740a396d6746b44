"""The yearly report as the service publishes it, over the API and the CLI, on both databases:
the published 2022–2024 figures from the demo data, "not recorded" counted and shown, the
years a report offers, and the headline in both languages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
from openpyxl import load_workbook

from tests.factories import make_staff
from tests.reports.test_exports import kst

#: FACTS.md: totals, KakaoTalk's count and share, and the change in points on the year before.
PUBLISHED = {
    2022: {"total": 3811, "kakao": (1521, 39.9), "smtp": (1490, 39.1), "phone": (774, 20.3)},
    2023: {"total": 4135, "kakao": (2092, 50.6)},
    2024: {"total": 4901, "kakao": (3062, 62.5), "smtp": (1338, 27.3), "phone": (470, 9.6)},
}


def rows(report: dict, dimension: str) -> dict[str, dict]:
    section = next(s for s in report["sections"] if s["dimension"] == dimension)
    return {r["key"]: r for r in section["rows"]}


def test_a_case_without_location_type_or_country_is_not_recorded_never_dropped(
    live_server, db, add_cases
):
    add_cases(kst(2024, 3, 1, 9), "kakao", location_type="sea", country="SG", category="first_aid")
    add_cases(kst(2024, 3, 2, 9), "line")  # nothing recorded beyond its channel
    add_cases(kst(2024, 3, 3, 9), "smtp", country="XX", patient_sex="U", patient_age=34)
    add_cases(kst(2023, 3, 3, 9), "phone", location_type="land", patient_sex="F")
    headers = make_staff(db, "admin").headers(live_server.url)
    r = httpx.get(
        f"{live_server.url}/api/v1/reports/annual",
        params={"year": "2024"},
        headers=headers,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == {"count": 3, "previous_count": 1, "change": 2, "change_pct": 200.0}
    location = rows(body, "location_type")
    assert list(location) == ["land", "sea", "air", "not_recorded"]
    assert location["not_recorded"]["count"] == 2 and location["sea"]["count"] == 1
    assert location["land"]["previous_count"] == 1 and location["land"]["change_pp"] == -100.0
    assert {k: v["count"] for k, v in rows(body, "country").items()} == {
        "SG": 1,
        "XX": 1,
        "not_recorded": 1,
    }
    assert {k: v["count"] for k, v in rows(body, "region").items()} == {
        "southeast_asia": 1,
        "other": 1,
        "not_recorded": 1,
    }
    sex = rows(body, "sex")
    assert (sex["unknown"]["count"], sex["not_recorded"]["count"]) == (1, 2)
    assert sex["female"]["previous_count"] == 1
    age = rows(body, "age_band")
    assert age["30-39"]["count"] == 1 and age["not_recorded"]["count"] == 2
    category = rows(body, "category")
    assert category["first_aid"]["count"] == 1 and category["not_recorded"]["count"] == 2


def test_a_custom_period_is_compared_with_the_same_days_a_year_before(live_server, db, add_cases):
    add_cases(kst(2024, 3, 10, 9), "kakao", n=3)
    add_cases(kst(2023, 3, 10, 9), "kakao")
    add_cases(kst(2023, 3, 11, 9), "smtp")
    headers = make_staff(db, "manager").headers(live_server.url)
    body = httpx.get(
        f"{live_server.url}/api/v1/reports/annual",
        params={"start": "2024-03-01", "end": "2024-04-01", "lang": "en"},
        headers=headers,
        timeout=30,
    ).json()
    assert body["year"] is None
    assert body["previous"] == {"start": "2023-03-01", "end": "2023-04-01"}
    assert body["headline"] == [
        "KakaoTalk 3 of 3 (100.0%), up 50.0 points on 2023-03-01 – 2023-03-31"
    ]


def test_years_offered_are_those_with_cases_and_the_report_opens_on_the_last_complete(
    live_server, db, add_cases
):
    headers = make_staff(db, "manager").headers(live_server.url)
    url = f"{live_server.url}/api/v1/reports/years"
    assert httpx.get(url, headers=headers, timeout=30).json()["years"] == []
    this_year = datetime.now(UTC).astimezone(ZoneInfo("Asia/Seoul")).year
    add_cases(kst(2021, 5, 1), "kakao", n=2)
    add_cases(kst(2024, 1, 1, 0, 30), "smtp")  # 31 December 2023 in UTC: a 2024 case
    add_cases(kst(2023, 6, 1), "phone", status="merged")  # not a consultation: 2023 stays empty
    body = httpx.get(url, headers=headers, timeout=30).json()
    assert body["years"] == [{"year": 2024, "total": 1}, {"year": 2021, "total": 2}]
    assert body["default"] == 2024 and body["timezone"] == "Asia/Seoul"
    add_cases(datetime.now(UTC), "kakao")
    body = httpx.get(url, headers=headers, timeout=30).json()
    assert body["years"][0] == {"year": this_year, "total": 1}
    assert body["default"] == 2024  # a year still running is offered, but not opened on
    add_cases(datetime(1850, 6, 1, tzinfo=UTC), "phone")  # a stray date: outside any report
    r = httpx.get(url, headers=headers, timeout=30)
    assert r.status_code == 200 and r.json()["years"][-1] == {"year": 2021, "total": 2}


def test_annual_bad_input_is_a_clear_422(live_server, db):
    headers = make_staff(db, "manager").headers(live_server.url)
    url = f"{live_server.url}/api/v1/reports/annual"
    for params, code in [
        ({"year": "twenty"}, "invalid_date"),
        ({"year": "0"}, "invalid_date"),
        ({"year": "2024", "start": "2024-01-01"}, "invalid_period"),
        ({}, "invalid_date"),
        ({"start": "2024-05-01", "end": "2024-04-01"}, "invalid_period"),
        ({"year": "2024", "lang": "fr"}, "unknown_lang"),
        ({"year": "2024", "format": "csv", "section": "planet"}, "unknown_section"),
        ({"year": "2024", "format": "pdf"}, "unknown_format"),
    ]:
        r = httpx.get(url, params=params, headers=headers, timeout=30)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["detail"]["code"] == code, (params, r.text)
    doctor = make_staff(db, "doctor").headers(live_server.url)
    assert httpx.get(url, params={"year": 2024}, headers=doctor, timeout=30).status_code == 403
    years = f"{live_server.url}/api/v1/reports/years"
    assert httpx.get(years, headers=doctor, timeout=30).status_code == 403
    assert httpx.get(years, timeout=30).status_code == 401


def test_the_annual_export_holds_every_table(live_server, db, add_cases):
    add_cases(kst(2024, 3, 1, 9), "kakao", n=2, location_type="sea", country="JP")
    add_cases(kst(2023, 3, 1, 9), "smtp")
    headers = make_staff(db, "manager").headers(live_server.url)
    url = f"{live_server.url}/api/v1/reports/annual"
    r = httpx.get(url, params={"year": 2024, "format": "xlsx", "lang": "en"}, headers=headers)
    assert r.status_code == 200, r.text
    assert 'filename="annual-report-2024.xlsx"' in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [
        "Summary",
        "Channel",
        "Source",
        "Patient's location",
        "Consultation type",
        "Country",
        "Region",
        "Age band",
        "Sex",
    ]
    summary = [list(row) for row in book["Summary"].iter_rows(values_only=True)]
    assert summary[0][0] == "Consultations of Koreans abroad, 2024"
    assert ["KakaoTalk 2 of 2 (100.0%), up 100.0 points on 2023"] in [r[:1] for r in summary]
    location = [list(row) for row in book["Patient's location"].iter_rows(values_only=True)]
    assert ["sea", "At sea", 2, 100.0, 0, 0.0, 100.0] in location
    assert ["not_recorded", "Not recorded", 0, 0.0, 1, 100.0, -100.0] in location

    one = httpx.get(
        url,
        params={"year": 2024, "format": "csv", "lang": "ko", "section": "location_type"},
        headers=headers,
    )
    assert 'filename="annual-location-type-2024.csv"' in one.headers["content-disposition"]
    assert one.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(one.content.decode("utf-8-sig"))))
    assert lines[0] == ["환자 위치별(육상·해상·항공) 상담 건수, 2024"]
    assert ["sea", "해상", "2", "100.0", "0", "0.0", "100.0"] in lines
