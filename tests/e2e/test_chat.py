"""The traveller's web chat in a real browser (a phone-sized screen) against a live server."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import SQLITE_ONLY
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_language_switch_and_country_from_the_timezone(live_server, new_page):
    page = new_page(locale="ko-KR", timezone_id="Asia/Tokyo", **PHONE)
    page.goto(f"{live_server.url}/chat/")
    expect(page.locator("#start")).to_be_visible()
    expect(page.locator("h1")).to_have_text("재외국민 119 응급의료상담")
    expect(page.locator("#country")).to_have_value("JP")
    expect(page.locator("#country option:checked")).to_have_text("일본")
    expect(page.locator("#country-hint")).to_contain_text("Asia/Tokyo")

    page.click(".langs [data-locale=en]")
    expect(page.locator("h1")).to_have_text("Emergency medical consultation for Koreans abroad")
    expect(page.locator("#start button[type=submit]")).to_have_text("Start consultation")
    expect(page.locator("#country option:checked")).to_have_text("Japan")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".langs [data-locale=en]")).to_have_attribute("aria-pressed", "true")

    # Usable on a phone: nothing wider than the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_chat_round_trip_with_a_doctor(live_server, db, new_page):
    doctor = make_staff(db, "doctor", on_duty=True)
    page = new_page(locale="en-US", timezone_id="Europe/Paris", **PHONE)
    page.goto(f"{live_server.url}/chat/")
    expect(page.locator("#country")).to_have_value("FR")
    page.fill("#start [name=name]", "Minji")
    page.click("#start button[type=submit]")
    expect(page.locator("#conversation")).to_be_visible()

    page.fill("#text", "My son fell and his wrist is swollen <b>badly</b>")
    page.press("#text", "Enter")
    expect(page.locator(".bubble.me").last).to_contain_text("<b>badly</b>")
    expect(page.locator("#case-number")).to_have_text(re.compile(r"^C119-\d{4}-\d{6}$"))
    expect(page.locator(".bubble.me .meta").last).to_contain_text("delivered")
    case_number = page.locator("#case-number").inner_text()

    headers = doctor.headers(live_server.url)
    tickets = httpx.get(f"{live_server.url}/api/v1/tickets", headers=headers, timeout=10).json()
    ticket = next(t for t in tickets["items"] if t["case_number"] == case_number)
    assert ticket["source"] == "webchat" and ticket["country"] == "FR"
    reply = httpx.post(
        f"{live_server.url}/api/v1/tickets/{ticket['id']}/messages",
        json={"text": "Keep the wrist still and raised; go to an emergency department today."},
        headers=headers,
        timeout=10,
    )
    assert reply.status_code in (200, 201), reply.text
    expect(page.locator(".bubble.staff").last).to_contain_text("Keep the wrist still")

    # A reload keeps the conversation (same session, same case).
    page.reload()
    expect(page.locator("#case-number")).to_have_text(case_number)
    expect(page.locator(".bubble.staff").last).to_contain_text("Keep the wrist still")
