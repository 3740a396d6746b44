# ruff: noqa: F811 (the module fixtures imported from tests.tickets.live are parameters)
"""Follow-ups and the handoff note in the console, in a real browser: the holder adds a
follow-up, marks it done, writes a handoff note, and a colleague sees it at the top of the case.
Screenshots go to ``CONSULT119_SHOTS`` when it is set."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import keep_screenshot, post_chat, sign_in
from tests.factories import make_staff
from tests.tickets.live import mdb, server  # noqa: F401 (the module's database and server)

pytestmark = [SQLITE_ONLY]


@pytest.fixture(scope="module")
def people(mdb, server):
    return {
        "doctor": make_staff(mdb, "doctor", name="Dr Kim", on_duty=True),
        "colleague": make_staff(mdb, "doctor", name="Dr Choi", on_duty=True),
    }


def open_case(page, server, who, case):
    sign_in(page, server, who)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    page.locator(f'.ticket[data-case-number="{case["case_number"]}"]').click()
    expect(page.locator("#case .case-number")).to_have_text(case["case_number"])


def shoot(page, name):
    if not os.environ.get("CONSULT119_SHOTS"):
        return
    for label, size in (("desktop", (1440, 900)), ("phone", (390, 844))):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        keep_screenshot(page, f"followups-{name}-{label}", full_page=label == "phone")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_followup_done_and_handoff_note_in_the_console(server, people, new_page):
    case = post_chat(server, sender_id="fu-1", message_id="fu-m1", text="어지럽고 토해요")
    page = new_page(locale="en-US", viewport={"width": 1440, "height": 900})
    open_case(page, server, people["doctor"], case)
    page.locator("#claim").click()
    expect(page.locator("#handoff-form")).to_be_visible()
    expect(page.locator("#followups")).to_contain_text("No follow-ups planned.")
    page.fill("#followup-note", "Check the fever again")
    page.locator("#followup-form button").click()
    item = page.locator(".followup-list li")
    expect(item).to_contain_text("Check the fever again")
    page.fill("#handoff-text", "BP recheck at 9, family informed")
    page.locator("#handoff-form button").click()
    expect(page.locator("#handoff-note")).to_contain_text("BP recheck at 9")
    expect(page.locator("#handoff-text")).to_have_value("")
    shoot(page, "en")
    item.locator(".followup-done").click()
    expect(item).to_have_class("done")

    # The colleague, reading Korean, sees the note at the top of the case.
    other = new_page(locale="ko-KR", viewport={"width": 1440, "height": 900})
    open_case(other, server, people["colleague"], case)
    expect(other.locator("#handoff-note")).to_contain_text("인계 메모")
    expect(other.locator("#handoff-note")).to_contain_text("BP recheck at 9")
    expect(other.locator("#handoff-form")).to_have_count(0)
    expect(other.locator("#followups")).to_contain_text("완료됨")
    shoot(other, "ko")
