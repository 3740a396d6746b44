"""Exports read back: CSV and XLSX of the channel share, the workbook, the per-case CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from openpyxl import load_workbook
from sqlalchemy import select

from consult119.audit.models import AuditEntry
from consult119.reports.exports import CASE_COLUMNS
from tests.factories import make_staff

KST = ZoneInfo("Asia/Seoul")
YEAR_2024 = {"start": "2024-01-01", "end": "2025-01-01"}


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST).astimezone(UTC)


def seed(add_cases):
    t = kst(2024, 1, 1, 0, 30)
    add_cases(
        t,
        "kakao",
        n=3,
        acuity=3,
        category="first_aid",
        location_type="sea",
        country="SG",
        patient_age=41,
        patient_sex="M",
        first_response_at=t + timedelta(minutes=6),
        resolved_at=t + timedelta(minutes=50),
    )
    add_cases(kst(2024, 6, 1), "smtp", location_type="land", country="JP")
    add_cases(kst(2023, 6, 1), "kakao", n=2)
    add_cases(kst(2023, 6, 1), "phone", n=2)
    add_cases(kst(2024, 7, 1), "smtp", status="merged")


def test_channel_share_csv_and_xlsx_round_trip(live_server, db, add_cases):
    seed(add_cases)
    headers = make_staff(db, "manager").headers(live_server.url)
    url = f"{live_server.url}/api/v1/reports/channel-share"
    report = httpx.get(url, params=YEAR_2024, headers=headers, timeout=30).json()
    expected = [
        [
            row["key"],
            row["count"],
            row["share"],
            prev["count"],
            prev["share"],
            report["change_pp"][row["key"]],
        ]
        for row, prev in zip(report["period"]["rows"], report["previous"]["rows"], strict=True)
    ]
    assert [r[0] for r in expected] == ["chat", "email", "phone"]

    r = httpx.get(url, params={**YEAR_2024, "format": "csv"}, headers=headers, timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == [
        "channel",
        "count",
        "share_pct",
        "previous_count",
        "previous_share_pct",
        "change_pp",
    ]
    parsed = [
        [k, int(c), float(s), int(pc), float(ps), float(ch)] for k, c, s, pc, ps, ch in rows[1:-1]
    ]
    assert parsed == expected
    assert rows[-1][:2] == ["total", "4"] and rows[-1][3] == "4"

    r = httpx.get(url, params={**YEAR_2024, "format": "xlsx"}, headers=headers, timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Channel share"]
    values = [list(row) for row in book["Channel share"].iter_rows(values_only=True)]
    assert values[0] == rows[0]
    assert values[1:-1] == expected
    assert values[-1][:2] == ["total", 4]


def test_workbook_has_a_sheet_per_report(live_server, db, add_cases):
    seed(add_cases)
    headers = make_staff(db, "admin").headers(live_server.url)
    r = httpx.get(
        f"{live_server.url}/api/v1/reports/workbook", params=YEAR_2024, headers=headers, timeout=30
    )
    assert r.status_code == 200, r.text
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [
        "Channel share",
        "Source share",
        "Monthly",
        "Response times",
        "SLA",
        "location_type",
        "country",
        "category",
        "age_band",
        "Workload",
    ]
    monthly = [list(row) for row in book["Monthly"].iter_rows(values_only=True)]
    assert monthly[0] == ["month", "chat", "email", "total"]
    assert monthly[1] == ["2024-01", 3, 0, 3]
    assert sum(row[-1] for row in monthly[1:]) == 4
    location = {
        row[0]: row[1] for row in book["location_type"].iter_rows(min_row=2, values_only=True)
    }
    assert location == {"sea": 3, "land": 1, "total": 4}


def test_cases_csv_is_pseudonymised_and_logged(live_server, db, add_cases):
    seed(add_cases)
    manager = make_staff(db, "manager")
    r = httpx.get(
        f"{live_server.url}/api/v1/reports/cases",
        params=YEAR_2024,
        headers=manager.headers(live_server.url),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == CASE_COLUMNS
    assert len(rows) == 4  # the merged-away case is not a consultation
    assert len({row["case_ref"] for row in rows}) == 4
    assert all(len(row["case_ref"]) == 16 and "C119" not in row["case_ref"] for row in rows)
    first = rows[0]
    assert first["created_date"] == "2024-01-01" and first["year"] == "2024"
    assert (first["channel"], first["source"], first["acuity"], first["age_band"]) == (
        "chat",
        "kakao",
        "3",
        "40-49",
    )
    assert (first["first_response_minutes"], first["resolution_minutes"]) == ("6.0", "50.0")
    assert "C119-" not in r.text  # no case numbers, hence nothing to look a person up by
    again = httpx.get(
        f"{live_server.url}/api/v1/reports/cases",
        params=YEAR_2024,
        headers=manager.headers(live_server.url),
        timeout=30,
    )
    assert [row["case_ref"] for row in csv.DictReader(io.StringIO(again.text))] == [
        row["case_ref"] for row in rows
    ]  # stable pseudonyms
    with db.read_session() as s:
        entries = list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == "report.cases_export"))
        )
    assert len(entries) == 2 and entries[0].staff_id == manager.id
    assert entries[0].detail == {"start": "2024-01-01", "end": "2025-01-01"}


def test_labelled_exports_in_both_languages(live_server, db, add_cases):
    seed(add_cases)
    headers = make_staff(db, "manager").headers(live_server.url)
    url = f"{live_server.url}/api/v1/reports/channel-share"
    expected = {
        "en": {
            "title": "Consultations by source, 2024",
            "period": ["Period", "2024 (2024-01-01 – 2024-12-31)"],
            "compared": ["Compared with", "2023 (2023-01-01 – 2023-12-31)"],
            "zone": ["Time zone", "Asia/Seoul"],
            "made": "Made",
            "header": [
                "Code",
                "Source",
                "Cases 2024",
                "Share 2024 (%)",
                "Cases 2023",
                "Share 2023 (%)",
                "Change (points)",
            ],
            "kakao": "KakaoTalk",
            "smtp": "E-mail",
            "total": "Total",
        },
        "ko": {
            "title": "세부 경로별 상담 건수, 2024",
            "period": ["기간", "2024 (2024-01-01 – 2024-12-31)"],
            "compared": ["비교 기간", "2023 (2023-01-01 – 2023-12-31)"],
            "zone": ["시간대", "Asia/Seoul"],
            "made": "작성 시각",
            "header": [
                "코드",
                "세부 경로",
                "2024 건수",
                "2024 비율(%)",
                "2023 건수",
                "2023 비율(%)",
                "증감(%p)",
            ],
            "kakao": "카카오톡",
            "smtp": "이메일",
            "total": "합계",
        },
    }
    params = {**YEAR_2024, "by": "source"}
    for lang, want in expected.items():
        r = httpx.get(url, params={**params, "format": "csv", "lang": lang}, headers=headers)
        assert r.status_code == 200, r.text
        assert 'filename="source-share-2024.csv"' in r.headers["content-disposition"]
        assert r.content.startswith(b"\xef\xbb\xbf")  # Excel reads Hangul right only with a BOM
        lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert lines[0] == [want["title"]]
        assert lines[1] == want["period"] and lines[2] == want["compared"]
        assert lines[3] == want["zone"]
        assert lines[4][0] == want["made"] and lines[4][1].endswith("(Asia/Seoul)")
        at = lines.index(want["header"])
        table = {row[0]: row for row in lines[at + 1 :]}
        assert table["kakao"][:3] == ["kakao", want["kakao"], "3"]
        assert table["smtp"][:3] == ["smtp", want["smtp"], "1"]
        assert table["phone"][4] == "2"  # 2023's phone cases, none in 2024
        assert table["total"][:3] == ["total", want["total"], "4"]

        r = httpx.get(url, params={**params, "format": "xlsx", "lang": lang}, headers=headers)
        assert 'filename="source-share-2024.xlsx"' in r.headers["content-disposition"]
        book = load_workbook(io.BytesIO(r.content))
        sheet = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        assert sheet[0][0] == want["title"]
        assert sheet[1][:2] == want["period"] and sheet[3][:2] == want["zone"]
        at = next(i for i, row in enumerate(sheet) if row[: len(want["header"])] == want["header"])
        assert sheet[at + 1][:4] == ["kakao", want["kakao"], 3, 75.0]

    a_month = {"start": "2024-03-01", "end": "2024-04-01", "format": "csv", "lang": "en"}
    r = httpx.get(url, params=a_month, headers=headers)
    assert 'filename="channel-share-2024-03-01_2024-03-31.csv"' in r.headers["content-disposition"]
    bad = httpx.get(url, params={**params, "format": "csv", "lang": "fr"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "unknown_lang"


def test_every_report_on_the_page_downloads_labelled_and_the_workbook_holds_them(
    live_server, db, add_cases
):
    seed(add_cases)
    headers = make_staff(db, "manager").headers(live_server.url)
    base = f"{live_server.url}/api/v1/reports"
    for path, params, title in [
        ("monthly", {"year": 2024}, "월별 상담 건수, 2024"),
        ("sla", YEAR_2024, "KTAS 단계별 의사 응답 목표 준수, 2024"),
        ("response-times", YEAR_2024, "첫 응답·해결까지 걸린 시간, 2024"),
        ("breakdown", {**YEAR_2024, "dimension": "country"}, "국가별 상담 건수, 2024"),
    ]:
        for fmt in ("csv", "xlsx"):
            r = httpx.get(
                f"{base}/{path}", params={**params, "format": fmt, "lang": "ko"}, headers=headers
            )
            assert r.status_code == 200, (path, r.text)
            if fmt == "csv":
                first = next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
            else:
                first = next(load_workbook(io.BytesIO(r.content)).worksheets[0].values)
            assert first[0] == title, (path, fmt)
    r = httpx.get(f"{base}/workbook", params={**YEAR_2024, "lang": "en"}, headers=headers)
    assert r.status_code == 200, r.text
    assert 'filename="reports-2024.xlsx"' in r.headers["content-disposition"]
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
        "Months",
        "Response times",
        "Target times",
    ]
    for sheet in book.worksheets:
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert values[1][0] == "Period" and values[1][1].startswith("2024 ("), sheet.title
