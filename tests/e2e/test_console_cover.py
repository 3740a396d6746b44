"""Nobody to answer, in a real browser: the EMT's console names the no-doctor alert in words and
lists the roster's gaps beside the staff on duty; a doctor's console shows no gaps list."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import keep_screenshot, post_chat, sign_in
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]


def test_the_emt_sees_nobody_to_answer_and_the_roster_gaps(start_server, db, new_page):
    server = start_server(
        CONSULT119_SCHEDULER_INTERVAL_SECONDS="0.5",
        CONSULT119_AUTO_ASSIGN_UNTRIAGED_AFTER_SECONDS="0",
    )
    # The only doctor on the roster (until 11 h from now) is away from the console.
    make_staff(db, "doctor", on_duty=True, presence="away", name="Dr Away")
    emt = make_staff(db, "emt", on_duty=True, name="EMT Night")
    case = post_chat(server, sender_id="nb-1", message_id="nb-m1", text="가슴이 아파요")

    for lang, viewport, size in (
        ("ko-KR", {"width": 1440, "height": 900}, "1440"),
        ("en-US", {"width": 390, "height": 844}, "390"),
    ):
        page = new_page(locale=lang, viewport=viewport)
        sign_in(page, server, emt)
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        item = page.locator("#alerts .alert-item[data-kind=no_doctor_available]")
        expect(item).to_have_count(1)
        words = "응답할 수 있는 의사가 없습니다" if lang == "ko-KR" else "No doctor can answer"
        expect(item).to_contain_text(words)
        expect(item).to_contain_text(case["case_number"])
        expect(item).to_contain_text("KTAS 2")
        # The roster runs out in 11 hours: one gap listed, and its alert raised 12 h ahead.
        gaps = page.locator("#roster-gaps li.roster-gap")
        expect(page.locator("#roster-gaps-title")).to_be_visible()
        expect(gaps).to_have_count(1)
        expect(page.locator("#alerts .alert-item[data-kind=roster_gap]")).to_have_count(1)
        keep_screenshot(page, f"nobody-console-{lang[:2]}-{size}", full_page=True)


def test_a_doctor_sees_no_roster_gaps(live_server, db, new_page):
    doctor = make_staff(db, "doctor", on_duty=True)
    page = new_page()
    sign_in(page, live_server, doctor)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#roster-gaps")).to_be_hidden()
    expect(page.locator("#roster-gaps-title")).to_be_hidden()
