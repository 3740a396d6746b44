"""The manager reports in a real browser: the published 2024 figures from the demo data."""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests import forkserver
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import sign_in
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]


def test_reports_refuse_staff_who_are_not_managers(live_server, db, new_page):
    page = new_page(locale="en-US")
    doctor = make_staff(db, "doctor")
    sign_in(page, live_server, doctor, "/reports/")
    expect(page.locator("#signin-error")).to_have_text("Reports are for managers only.")
    expect(page.locator("#reports")).to_be_hidden()


def test_reports_show_the_2024_figures_from_the_demo_data(live_server, db, database_url, new_page):
    env = {
        **os.environ,
        "CONSULT119_DATABASE_URL": database_url,
        "CONSULT119_SECRET_KEY": TEST_SECRET,
    }
    forkserver.run(
        [sys.executable, "-m", "consult119.cli", "demo", "--no-serve"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    manager = make_staff(db, "manager")
    page = new_page(locale="en-US", accept_downloads=True)
    sign_in(page, live_server, manager, "/reports/")
    expect(page.locator("#reports")).to_be_visible()
    page.select_option("#year", "2024")
    page.check("input[name=by][value=source]")

    kakao = page.locator('#share-table tr[data-key="kakao"]')
    expect(kakao.locator(".count")).to_have_text("3,062")
    expect(kakao.locator(".share")).to_have_text("62.5%")
    expect(kakao.locator(".change")).to_have_text("+11.9 pp")
    expect(page.locator("#share-table .total")).to_have_text("4,901")
    expect(page.locator('#share-chart g.bar.current[data-key="kakao"]')).to_have_count(1)

    page.check("input[name=by][value=channel]")
    chat = page.locator('#share-table tr[data-key="chat"]')
    expect(chat.locator(".count")).to_have_text("3,093")  # KakaoTalk 3,062 + LINE 31
    expect(page.locator('#share-table tr[data-key="email"] .share')).to_have_text("27.3%")
    expect(page.locator('#share-table tr[data-key="phone"] .share')).to_have_text("9.6%")

    expect(page.locator("#monthly-chart g.month")).to_have_count(12)
    expect(page.locator('#location-table tr[data-key="sea"] .count')).to_have_text("2,586")
    expect(page.locator('#location-table tr[data-key="land"] .count')).to_have_text("2,308")
    expect(page.locator('#location-table tr[data-key="air"] .count')).to_have_text("7")
    expect(page.locator("#times-table tbody tr")).to_have_count(5)

    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    assert re.search(r"kakao|chat", Path(download.path()).read_text(encoding="utf-8-sig"))
    with page.expect_download() as info:
        page.click("#download-xlsx")
    assert info.value.suggested_filename.endswith(".xlsx")
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"


def _build_demo(database_url: str) -> None:
    env = {
        **os.environ,
        "CONSULT119_DATABASE_URL": database_url,
        "CONSULT119_SECRET_KEY": TEST_SECRET,
    }
    forkserver.run(
        [sys.executable, "-m", "consult119.cli", "demo", "--no-serve"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def test_reports_lead_with_the_headline_and_print_to_a4(
    live_server, db, database_url, new_page, tmp_path
):
    from pypdf import PdfReader

    _build_demo(database_url)
    manager = make_staff(db, "manager")
    page = new_page(locale="ko-KR")
    sign_in(page, live_server, manager, "/reports/")
    this_year = datetime.now(ZoneInfo("Asia/Seoul")).year
    # Only years with cases, and the last complete one first: not an empty or half year.
    expect(page.locator("#year")).to_have_value(str(this_year - 1))
    expect(page.locator("#year option")).to_have_text([str(y) for y in range(this_year, 2020, -1)])
    page.select_option("#year", "2024")
    headline = page.locator("#headline li")
    expect(headline.first).to_have_text(
        "카카오톡 4,901건 중 3,062건(62.5%), 2023년보다 11.9%p 증가"
    )
    expect(page.locator("#headline-title")).to_have_text("재외국민 119 응급의료상담 실적 2024년")
    expect(page.locator('#location-table tr[data-key="sea"] th')).to_have_text("해상")

    page.click("#lang")
    expect(headline.first).to_have_text("KakaoTalk 3,062 of 4,901 (62.5%), up 11.9 points on 2023")
    expect(headline).to_have_count(4)
    expect(page.locator("#total-line")).to_have_text("4,901 consultations (4,135 in 2023, +766)")
    expect(page.locator('#location-table tr[data-key="sea"] th')).to_have_text("Sea")

    # A bad range: one error, in the page's language, and no figures left beside it.
    page.check("input[name=mode][value=range]")
    page.fill("#start", "2024-05-01")
    page.fill("#end", "2024-04-01")
    page.click("#period button[type=submit]")
    expect(page.locator("#period-error")).to_have_text(
        "The end date must be after the start date (the end date is not included)."
    )
    expect(page.locator("#figures")).to_be_hidden()
    page.fill("#start", "2000-01-01")
    page.fill("#end", "2020-01-01")  # the server refuses over ten years: its message, once
    page.click("#period button[type=submit]")
    expect(page.locator("#period-error")).to_have_text(re.compile(r"at most 10 years"))
    expect(page.locator("#figures")).to_be_hidden()
    expect(page.locator(".error:visible")).to_have_count(1)

    page.check("input[name=mode][value=year]")
    page.select_option("#year", "2024")
    expect(page.locator("#figures")).to_be_visible()
    expect(headline.first).to_have_text(re.compile("^KakaoTalk 3,062 of 4,901"))
    expect(page.locator("#period-error")).to_have_text("")

    # Printed: a clean A4 document that carries the headline and every table.
    path = tmp_path / "report.pdf"
    page.pdf(path=str(path), format="A4")
    reader = PdfReader(str(path))
    assert 1 <= len(reader.pages) <= 3, len(reader.pages)
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595) < 2 and abs(float(box.height) - 842) < 2  # A4, points
    text = " ".join(p.extract_text() for p in reader.pages)
    flat = " ".join(text.split())
    assert "Emergency medical consultations of Koreans abroad, 2024" in flat
    assert "KakaoTalk 3,062 of 4,901 (62.5%), up 11.9 points on 2023" in flat
    for heading in ("By source", "By the patient's location", "By region", "By sex"):
        assert heading in flat, heading
    assert "Download" not in flat and "Sign out" not in flat  # no buttons on paper
