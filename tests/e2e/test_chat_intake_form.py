"""The web chat's optional form in a real browser: answers fill the case as self-reported, and
skipping is one tap straight to the chat."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import SQLITE_ONLY
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
#: Where screenshots go when a person wants to look at the form (unset: none are taken).
SHOTS = os.environ.get("CONSULT119_SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def case_detail(server, staff, case_number: str) -> dict:
    headers = staff.headers(server.url)
    items = httpx.get(f"{server.url}/api/v1/tickets", headers=headers, timeout=10).json()["items"]
    ticket = next(t for t in items if t["case_number"] == case_number)
    r = httpx.get(f"{server.url}/api/v1/tickets/{ticket['id']}", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def send_first_message(page, text: str) -> str:
    expect(page.locator("#conversation")).to_be_visible()
    page.fill("#text", text)
    page.press("#text", "Enter")
    expect(page.locator("#case-number")).to_have_text(re.compile(r"^C119-\d{4}-\d{6}$"))
    return page.locator("#case-number").inner_text()


def test_the_form_fills_the_case_as_self_reported(live_server, db, new_page):
    doctor = make_staff(db, "doctor", on_duty=True)
    page = new_page(locale="ko-KR", timezone_id="Asia/Tokyo", **PHONE)
    page.goto(f"{live_server.url}/chat/")
    # The emergency advice stays in view above the form.
    expect(page.locator(".danger-line")).to_be_visible()
    expect(page.locator("#skip")).to_be_visible()
    expect(page.locator("#country")).to_have_value("JP")
    expect(page.locator("#vessel-field")).to_be_hidden()
    shot(page, "form-phone-ko")

    page.fill("#start [name=name]", "김하늘")
    page.fill("#start [name=patient_age]", "34")
    page.select_option("#purpose", "travel")
    page.fill("#start [name=contact]", "+81 90 1234 5678")
    page.fill("#start [name=symptoms_onset]", "오늘 새벽 2시")
    page.check("#start input[name=location_type][value=sea]")
    expect(page.locator("#vessel-field")).to_be_visible()
    page.fill("#start [name=vessel_or_flight]", "MV Hanbada")
    shot(page, "form-phone-ko-filled")
    page.click("#start button[type=submit]")

    case_number = send_first_message(page, "배 위에서 넘어져 머리를 다쳤어요")
    detail = case_detail(live_server, doctor, case_number)
    assert detail["patient_age"] == 34
    assert detail["purpose_of_stay"] == "travel"
    assert detail["symptoms_onset"] == "오늘 새벽 2시"
    assert (detail["location_type"], detail["vessel_or_flight"]) == ("sea", "MV Hanbada")
    assert detail["country"] == "JP"
    assert set(detail["self_reported"]) == {
        "country",
        "location_type",
        "patient_age",
        "purpose_of_stay",
        "symptoms_onset",
        "vessel_or_flight",
    }


def test_skip_is_one_tap_to_the_chat(live_server, db, new_page):
    doctor = make_staff(db, "doctor", on_duty=True)
    page = new_page(locale="en-US", timezone_id="Europe/Paris", **PHONE)
    page.goto(f"{live_server.url}/chat/")
    expect(page.locator("#skip")).to_have_text("Skip the questions — write to a doctor now")
    page.fill("#start [name=patient_age]", "200")  # typed, then skipped: never sent
    page.click("#skip")
    expect(page.locator("#conversation")).to_be_visible()
    expect(page.locator(".danger-line")).to_be_visible()
    expect(page.locator("#text")).to_be_focused()
    case_number = send_first_message(page, "My daughter has a high fever")
    detail = case_detail(live_server, doctor, case_number)
    # Nothing was answered: nothing is marked; the suggested country still names the number.
    assert detail["self_reported"] == [] and detail["patient_age"] is None
    assert detail["country"] == "FR"


def test_a_bad_answer_points_at_its_field(live_server, new_page):
    page = new_page(locale="en-US", timezone_id="Asia/Tokyo", **DESKTOP)
    page.goto(f"{live_server.url}/chat/")
    shot(page, "form-desktop-en")
    page.fill("#start [name=contact]", "12")
    page.click("#start button[type=submit]")
    expect(page.locator("#start-error")).to_contain_text("Phone or e-mail")
    expect(page.locator("#start [name=contact]")).to_have_attribute("aria-invalid", "true")
    shot(page, "form-desktop-en-error")
    # Skip still works from there, in one tap.
    page.click("#skip")
    expect(page.locator("#conversation")).to_be_visible()
