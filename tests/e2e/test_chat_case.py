"""The traveller's chat page and its case, in a real browser on a phone-sized screen: a
traveller whose country is unknown is asked for it before any emergency number is shown, and
the page says when the case is resolved and how to reach the team again."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import SQLITE_ONLY
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def ticket_of(server, headers, case_number: str) -> dict:
    items = httpx.get(f"{server.url}/api/v1/tickets", headers=headers, timeout=10).json()["items"]
    ticket = next(t for t in items if t["case_number"] == case_number)
    r = httpx.get(f"{server.url}/api/v1/tickets/{ticket['id']}", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def first_message(page, text: str) -> str:
    page.fill("#text", text)
    page.press("#text", "Enter")
    expect(page.locator("#case-number")).to_have_text(re.compile(r"^C119-\d{4}-\d{6}$"))
    return page.locator("#case-number").inner_text()


def test_unknown_country_is_asked_then_resolution_is_shown(live_server, db, new_page):
    doctor = make_staff(db, "doctor", on_duty=True)
    headers = doctor.headers(live_server.url)
    # A device on UTC suggests no country, and the traveller skips the form.
    page = new_page(locale="en-US", timezone_id="UTC", **PHONE)
    page.goto(f"{live_server.url}/chat/")
    page.click("#skip")
    case_number = first_message(page, "My husband has chest pain")

    ask = page.locator("#ask-country")
    expect(ask).to_be_visible()
    expect(ask.locator("label")).to_have_text("Which country are you in?")
    expect(page.locator("#emergency")).to_be_hidden()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.select_option("#ask-country-select", "JP")
    page.click("#ask-country button[type=submit]")
    expect(page.locator("#emergency-number")).to_have_text("119")
    expect(page.locator("#emergency-number")).to_have_attribute("href", "tel:119")
    expect(ask).to_be_hidden()
    detail = ticket_of(live_server, headers, case_number)
    assert detail["country"] == "JP" and "country" in detail["self_reported"]

    # The doctor answers and resolves the case: the page says so, and how to come back.
    reply = httpx.post(
        f"{live_server.url}/api/v1/tickets/{detail['id']}/messages",
        json={"text": "It sounds muscular; call 119 if it spreads to the arm."},
        headers=headers,
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    expect(page.locator(".bubble.staff").last).to_contain_text("It sounds muscular")
    ended = page.locator("#case-ended")
    expect(ended).to_be_hidden()
    r = httpx.post(
        f"{live_server.url}/api/v1/tickets/{detail['id']}/status",
        json={"status": "resolved"},
        headers=headers,
        timeout=10,
    )
    assert r.status_code == 200, r.text
    expect(ended).to_be_visible()
    expect(ended).to_contain_text(f"Your case {case_number} has been resolved")
    expect(ended).to_contain_text("just write here")
    # Nobody is about to answer a resolved case: the status line stops promising it.
    expect(page.locator("#status")).to_have_text("Connected")
    # A reload (the socket says hello again) still says so, in Korean too.
    page.reload()
    expect(ended).to_contain_text(f"Your case {case_number} has been resolved")
    page.click(".langs [data-locale=ko]")
    expect(ended).to_contain_text(f"상담 {case_number}이(가) 완료되었습니다")

    # Writing again reopens the case: the note goes.
    page.fill("#text", "통증이 다시 시작됐어요")
    page.press("#text", "Enter")
    expect(ended).to_be_hidden()
    expect(page.locator("#status")).to_have_text("연결됨 — 의료진이 곧 답변합니다.")
    assert ticket_of(live_server, headers, case_number)["status"] != "resolved"


def test_at_sea_no_country_is_asked(live_server, db, new_page):
    page = new_page(locale="ko-KR", timezone_id="UTC", **PHONE)
    page.goto(f"{live_server.url}/chat/")
    page.check("#start input[name=location_type][value=sea]")
    page.click("#start button[type=submit]")
    first_message(page, "선원이 갑판에서 넘어졌어요")
    expect(page.locator(".danger-line")).to_contain_text("선장")
    # The case frame has arrived (its country is unknown) and still nothing is asked.
    expect(page.locator(".bubble.system")).to_contain_text("선장")
    expect(page.locator("#case-banner")).to_have_attribute("data-case-status", "new")
    expect(page.locator("#ask-country")).to_be_hidden()
    expect(page.locator("#emergency")).to_be_hidden()


def test_the_question_is_in_korean(live_server, new_page):
    page = new_page(locale="ko-KR", timezone_id="UTC", **PHONE)
    page.goto(f"{live_server.url}/chat/")
    page.click("#skip")
    first_message(page, "아이가 열이 나요")
    expect(page.locator("#ask-country label")).to_have_text("지금 어느 나라에 계신가요?")
    expect(page.locator("#ask-country-select option[value=JP]")).to_have_text("일본")
    expect(page.locator("#emergency")).to_be_hidden()
