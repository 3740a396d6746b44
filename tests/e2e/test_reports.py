"""The manager reports in a real browser: the published 2024 figures from the demo data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

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
    subprocess.run(
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
