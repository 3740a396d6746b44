"""Channel share over a real server: counting rules, the Seoul year boundary, bad input, roles."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx

from tests.factories import make_staff
from tests.reports.conftest import run_cli

KST = ZoneInfo("Asia/Seoul")


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST).astimezone(UTC)


def get(server, headers, path="/api/v1/reports/channel-share", **params):
    return httpx.get(f"{server.url}{path}", params=params, headers=headers, timeout=30)


def test_counting_rules_and_the_seoul_new_year(live_server, db, add_cases):
    # 00:30 on 1 January in Seoul is still 31 December in UTC: it belongs to the new year.
    add_cases(kst(2024, 1, 1, 0, 30), "kakao")
    add_cases(kst(2023, 12, 31, 23, 59), "kakao")
    add_cases(kst(2024, 6, 1, 12, 0), "smtp", n=2)
    add_cases(kst(2024, 6, 2, 9, 0), "phone")
    # Reopened: one consultation. Merged away into another case: none.
    add_cases(kst(2024, 7, 1, 9, 0), "line", reopen_count=2)
    survivor = add_cases(kst(2024, 7, 2, 9, 0), "kakao")[0]
    add_cases(kst(2024, 7, 2, 9, 5), "smtp", status="merged", merged_into_id=survivor)
    add_cases(kst(2025, 1, 1, 0, 0), "kakao")  # the first instant of 2025: not in 2024
    add_cases(kst(2023, 5, 1, 0, 0), "phone")

    headers = make_staff(db, "manager").headers(live_server.url)
    r = get(live_server, headers, start="2024-01-01", end="2025-01-01", by="source")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"timezone", "by", "period", "previous", "change_pp"}
    assert body["timezone"] == "Asia/Seoul" and body["by"] == "source"
    period = body["period"]
    assert period["start"] == "2024-01-01" and period["end"] == "2025-01-01"
    assert period["total"] == 6
    counts = {row["key"]: row["count"] for row in period["rows"]}
    assert counts == {"kakao": 2, "smtp": 2, "phone": 1, "line": 1}
    shares = {row["key"]: row["share"] for row in period["rows"]}
    assert shares == {"kakao": 33.3, "smtp": 33.3, "phone": 16.7, "line": 16.7}

    previous = body["previous"]
    assert previous["start"] == "2023-01-01" and previous["end"] == "2024-01-01"
    assert previous["total"] == 2
    assert {row["key"]: row["count"] for row in previous["rows"]} == {
        "kakao": 1,
        "smtp": 0,
        "phone": 1,
        "line": 0,
    }
    assert body["change_pp"] == {"kakao": -16.7, "smtp": 33.3, "phone": -33.3, "line": 16.7}

    by_channel = get(live_server, headers, start="2024-01-01", end="2025-01-01").json()
    assert {row["key"]: row["count"] for row in by_channel["period"]["rows"]} == {
        "chat": 3,
        "email": 2,
        "phone": 1,
    }
    assert by_channel["by"] == "channel"


def test_compare_previous_period_and_none(live_server, db, add_cases):
    add_cases(kst(2024, 3, 15, 10, 0), "kakao", n=3)
    add_cases(kst(2024, 2, 15, 10, 0), "smtp")
    headers = make_staff(db, "admin").headers(live_server.url)
    r = get(live_server, headers, start="2024-03-01", end="2024-04-01", compare="previous_period")
    body = r.json()
    assert body["previous"]["start"] == "2024-01-30" and body["previous"]["end"] == "2024-03-01"
    assert body["previous"]["total"] == 1
    assert body["change_pp"] == {"chat": 100.0, "email": -100.0}

    r = get(live_server, headers, start="2024-03-01", end="2024-04-01", compare="none")
    assert r.json()["previous"] is None and r.json()["change_pp"] == {}


def test_an_empty_period_has_zero_totals(live_server, db):
    headers = make_staff(db, "manager").headers(live_server.url)
    body = get(live_server, headers, start="2019-01-01", end="2020-01-01").json()
    assert body["period"] == {"start": "2019-01-01", "end": "2020-01-01", "total": 0, "rows": []}


BAD_INPUT = [
    ({"start": "2024-13-01", "end": "2025-01-01"}, "invalid_date"),
    ({"start": "yesterday", "end": "2025-01-01"}, "invalid_date"),
    ({"start": "2024-01-01", "end": "2024/12/31"}, "invalid_date"),
    ({"start": "2024-01-01", "end": "2023-01-01"}, "invalid_period"),
    ({"start": "2024-01-01", "end": "2024-01-01"}, "invalid_period"),
    ({"start": "0001-01-01", "end": "0002-01-01"}, "invalid_date"),
    ({"start": "9999-01-01", "end": "9999-12-31"}, "invalid_date"),
    ({"start": "2010-01-01", "end": "2020-01-02"}, "period_too_long"),
    ({"start": "2024-01-01", "end": "2025-01-01", "by": "country"}, "unknown_by"),
    ({"start": "2024-01-01", "end": "2025-01-01", "format": "pdf"}, "unknown_format"),
    ({"start": "2024-01-01", "end": "2025-01-01", "compare": "last_week"}, "unknown_compare"),
    ({"end": "2025-01-01"}, "invalid_field"),
]


def test_bad_input_is_a_clear_422(live_server, db):
    headers = make_staff(db, "manager").headers(live_server.url)
    for params, code in BAD_INPUT:
        r = get(live_server, headers, **params)
        assert r.status_code == 422, (params, r.text)
        detail = r.json()["detail"]
        assert detail["code"] == code, (params, detail)
        assert detail["message"]
    other = [
        ("/api/v1/reports/monthly", {"year": "twenty"}, "invalid_date"),
        ("/api/v1/reports/monthly", {"year": "0"}, "invalid_date"),
        ("/api/v1/reports/monthly", {"year": "99999999999999999999"}, "invalid_date"),
        ("/api/v1/reports/monthly", {"year": "2024", "by": "planet"}, "unknown_by"),
        (
            "/api/v1/reports/breakdown",
            {"start": "2024-01-01", "end": "2025-01-01", "dimension": "name"},
            "unknown_dimension",
        ),
        (
            "/api/v1/reports/response-times",
            {"start": "2024-01-01", "end": "2025-01-01", "by": "mood"},
            "unknown_by",
        ),
        ("/api/v1/reports/sla", {"start": "2024-01-01", "end": "2024-01-01"}, "invalid_period"),
        ("/api/v1/reports/cases", {"start": "2024-01-01", "end": "2036-01-01"}, "period_too_long"),
        ("/api/v1/reports/workbook", {"start": "x", "end": "2025-01-01"}, "invalid_date"),
    ]
    for path, params, code in other:
        r = get(live_server, headers, path, **params)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"]["code"] == code


def test_ten_years_is_the_longest_period(live_server, db):
    headers = make_staff(db, "manager").headers(live_server.url)
    assert get(live_server, headers, start="2015-01-01", end="2025-01-01").status_code == 200


PATHS = [
    "/api/v1/reports/channel-share?start=2024-01-01&end=2025-01-01",
    "/api/v1/reports/monthly?year=2024",
    "/api/v1/reports/response-times?start=2024-01-01&end=2025-01-01",
    "/api/v1/reports/sla?start=2024-01-01&end=2025-01-01",
    "/api/v1/reports/breakdown?start=2024-01-01&end=2025-01-01",
    "/api/v1/reports/workload?start=2024-01-01&end=2025-01-01",
    "/api/v1/reports/workbook?start=2024-01-01&end=2025-01-01",
    "/api/v1/reports/cases?start=2024-01-01&end=2025-01-01",
]


def test_managers_and_admins_only(live_server, db):
    headers = {
        role: make_staff(db, role).headers(live_server.url)
        for role in ("doctor", "emt", "manager", "admin")
    }
    for path in PATHS:
        url = f"{live_server.url}{path}"
        assert httpx.get(url, timeout=30).status_code == 401
        bad = httpx.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=30)
        assert bad.status_code == 401
        for role in ("doctor", "emt"):
            r = httpx.get(url, headers=headers[role], timeout=30)
            assert r.status_code == 403, (path, role, r.text)
            assert r.json()["detail"]["code"] == "forbidden_role"
        for role in ("manager", "admin"):
            r = httpx.get(url, headers=headers[role], timeout=30)
            assert r.status_code == 200, (path, role, r.text)


def test_cli_bad_input_exits_with_a_message(database_url, db):
    for args, needle in [
        (["--year", "2024", "--by", "planet"], "unknown_by"),
        (["--year", "2024", "--format", "pdf"], "unknown_format"),
        (["--start", "2024-01-01", "--end", "2023-01-01"], "invalid_period"),
        (["--start", "2024-02-30", "--end", "2025-01-01"], "invalid_date"),
        (["--start", "2000-01-01", "--end", "2020-01-01"], "period_too_long"),
        ([], "--year"),
    ]:
        r = run_cli(database_url, "report", "channel-share", *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert needle in r.stderr, (args, r.stderr)
