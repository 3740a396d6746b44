"""The triage console in a real browser against a live server."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import post_chat, sign_in
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]

NEEDS_CONSOLE_WS = pytest.mark.xfail(
    reason="needs /ws/console (snapshot/ready/event frames) from the real-time console work",
    strict=False,
)
NEEDS_TICKET_API = pytest.mark.xfail(
    reason="needs GET /api/v1/tickets/{id} and POST /tickets/{id}/messages from the staff work",
    strict=False,
)


def test_sign_in_keeps_the_token_out_of_urls_and_local_storage(live_server, db, page):
    doctor = make_staff(db, "doctor", name="Dr Kim", on_duty=True)
    page.goto(f"{live_server.url}/console/")
    expect(page.locator("#signin")).to_be_visible()

    page.fill("#signin [name=username]", doctor.email)
    page.fill("#signin [name=password]", "wrong password")
    page.click("#signin button[type=submit]")
    expect(page.locator("#signin-error")).to_have_text(re.compile(r"\S"))
    expect(page.locator("#workspace")).to_be_hidden()

    sign_in(page, live_server, doctor)
    expect(page.locator("#workspace")).to_be_visible()
    expect(page.locator("#me")).to_contain_text(re.compile("의사|Doctor"))
    expect(page.locator("#connection")).to_have_attribute(
        "data-state", re.compile("connecting|live|reconnecting|resyncing")
    )
    storage = page.evaluate(
        "() => ({session: {...sessionStorage}, local: {...localStorage}, url: location.href})"
    )
    token = storage["session"].get("consult119.staff-token")
    assert token and token.count(".") == 2
    assert token not in str(storage["local"])
    assert token not in storage["url"]

    # Signing out forgets the token.
    page.click("#sign-out")
    expect(page.locator("#signin")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('consult119.staff-token')") is None


def test_language_switch_on_the_console(live_server, new_page):
    page = new_page(locale="ko-KR")
    page.goto(f"{live_server.url}/console/")
    expect(page.locator("#signin h2")).to_have_text("직원 로그인")
    page.click("#lang")
    expect(page.locator("#signin h2")).to_have_text("Staff sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()  # the choice is remembered
    expect(page.locator("#signin h2")).to_have_text("Staff sign-in")
    page.click("#lang")
    expect(page.locator("#signin h2")).to_have_text("직원 로그인")


@NEEDS_CONSOLE_WS
def test_a_case_posted_from_outside_appears_without_a_reload(live_server, db, page):
    doctor = make_staff(db, "doctor", on_duty=True)
    sign_in(page, live_server, doctor)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    page.evaluate("() => { window.__sameDocument = true; }")

    routine = post_chat(live_server, sender_id="t1", message_id="m1", text="I have a mild cough")
    urgent = post_chat(
        live_server,
        sender_id="t2",
        message_id="m2",
        text="My father has chest pain and cannot breathe",
    )
    first = page.locator(f'.ticket[data-case-number="{routine["case_number"]}"]')
    expect(first).to_be_visible()
    expect(page.locator(f'.ticket[data-case-number="{urgent["case_number"]}"]')).to_be_visible()
    assert page.evaluate("() => window.__sameDocument") is True
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")


@NEEDS_CONSOLE_WS
@NEEDS_TICKET_API
def test_reply_from_the_console_reaches_the_api_and_traveller_text_stays_text(
    live_server, db, page
):
    doctor = make_staff(db, "doctor", on_duty=True)
    hostile = '<img src=x onerror="window.__pwned=1">help, my hand is bleeding'
    case = post_chat(live_server, sender_id="t3", message_id="m3", text=hostile)
    sign_in(page, live_server, doctor)
    row = page.locator(f'.ticket[data-case-number="{case["case_number"]}"]')
    row.click()
    conversation = page.locator("#messages")
    expect(conversation).to_contain_text("<img src=x")
    assert conversation.locator("img").count() == 0
    assert page.evaluate("() => window.__pwned") is None

    page.fill("#reply-text", "Press firmly on the wound with a clean cloth.")
    page.press("#reply-text", "Control+Enter")
    expect(page.locator("#messages .message.outbound")).to_contain_text("Press firmly")

    detail = httpx.get(
        f"{live_server.url}/api/v1/tickets/{case['ticket_id']}",
        headers=doctor.headers(live_server.url),
        timeout=10,
    ).json()
    outbound = [m for m in detail["messages"] if m["direction"] == "outbound"]
    assert [m["text"] for m in outbound] == ["Press firmly on the wound with a clean cloth."]
