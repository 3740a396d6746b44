"""The published 2022–2024 figures in the annual report, over the API and the CLI, from the
demo data. A module of its own: the demo's live cases are work for a server's scheduler, so
this test has a server of its own, stopped before the demo is wiped (the other report tests
share one server, which must never see them)."""

from __future__ import annotations

import json

import httpx
import pytest

from consult119.db import utcnow
from consult119.demo import build_demo, wipe
from consult119.reports import service as svc
from tests.factories import make_staff
from tests.reports.conftest import run_cli
from tests.reports.test_annual import PUBLISHED, rows


@pytest.fixture
def live_server(start_server):
    return start_server()


def test_the_published_figures_in_the_annual_report_api_and_cli(live_server, db, database_url):
    build_demo(db, now=utcnow(), password="demo-password-119")
    try:
        headers = make_staff(db, "manager").headers(live_server.url)
        url = f"{live_server.url}/api/v1/reports/annual"
        reports = {}
        for year, facts in PUBLISHED.items():
            r = httpx.get(url, params={"year": year, "lang": "en"}, headers=headers, timeout=60)
            assert r.status_code == 200, r.text
            body = reports[year] = r.json()
            assert body["total"]["count"] == facts["total"]
            assert body["period"] == {"start": f"{year}-01-01", "end": f"{year + 1}-01-01"}
            assert body["previous"]["start"] == f"{year - 1}-01-01"
            source = rows(body, "source")
            for key in ("kakao", "smtp", "phone"):
                if key in facts:
                    assert (source[key]["count"], source[key]["share"]) == facts[key], (year, key)
            assert [s["dimension"] for s in body["sections"]] == list(svc.ANNUAL_SECTIONS)
            for section in body["sections"]:  # nothing dropped: every table adds up
                assert sum(r["count"] for r in section["rows"]) == facts["total"], section
        y2024 = reports[2024]
        assert y2024["total"]["previous_count"] == 4135
        assert rows(y2024, "source")["kakao"]["change_pp"] == 11.9
        location = rows(y2024, "location_type")
        assert [k for k in location] == ["land", "sea", "air"]
        assert {k: r["count"] for k, r in location.items()} == {
            "land": 2308,
            "sea": 2586,
            "air": 7,
        }
        assert location["sea"]["share"] == 52.8 and location["land"]["share"] == 47.1
        assert rows(y2024, "category")["medical_consultation"]["share"] == 64.2
        assert sum(r["count"] for r in rows(y2024, "region").values()) == 4901
        assert y2024["headline"][0] == "KakaoTalk 3,062 of 4,901 (62.5%), up 11.9 points on 2023"

        korean = httpx.get(url, params={"year": 2024, "lang": "ko"}, headers=headers, timeout=60)
        assert korean.json()["headline"][0] == (
            "카카오톡 4,901건 중 3,062건(62.5%), 2023년보다 11.9%p 증가"
        )
        # Without lang, the reader's language (Accept-Language) speaks.
        english = httpx.get(
            url, params={"year": 2024}, headers={**headers, "Accept-Language": "en"}, timeout=60
        )
        assert english.json()["headline"] == y2024["headline"]

        cli = run_cli(database_url, "report", "annual", "--year", "2024", "--format", "json")
        assert cli.returncode == 0, cli.stderr
        printed = json.loads(cli.stdout)
        assert printed["total"] == y2024["total"]
        assert printed["sections"] == y2024["sections"]

        table = run_cli(database_url, "--lang", "en", "report", "annual", "--year", "2024")
        assert table.returncode == 0, table.stderr
        assert "KakaoTalk 3,062 of 4,901 (62.5%), up 11.9 points on 2023" in table.stdout
        assert "At sea" in table.stdout and "2,586" in table.stdout

        share = run_cli(database_url, "report", "channel-share", "--year", "2024", "--lang", "ko")
        assert share.returncode == 0, share.stderr
        assert "카카오톡 4,901건 중 3,062건(62.5%), 2023년보다 11.9%p 증가" in share.stdout
        assert "채팅" in share.stdout and "chat" not in share.stdout  # labels, not codes
        assert "증감" in share.stdout
    finally:
        live_server.stop()  # no scheduler of its acting on the live cases while they go
        wipe(db)
