"""Canned replies in the console, in a real browser: kept as data, filled in for the open case
by the server, the traveller's language first."""

from __future__ import annotations

from playwright.sync_api import expect

from consult119.db import utcnow
from consult119.i18n import emergency_numbers
from consult119.replies import service
from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import post_chat, sign_in
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]


def test_an_emt_inserts_a_reply_filled_in_for_an_english_travellers_case(live_server, db, page):
    with db.unit_of_work() as session:  # the test database was emptied, replies with it
        service.seed_defaults(session, now=utcnow())
    emt = make_staff(db, "emt", on_duty=True)
    case = post_chat(
        live_server,
        sender_id="en-1",
        message_id="en-m1",
        text="My friend fell and hurt his head",
        locale="en-US",
        country="US",
    )
    sign_in(page, live_server, emt)
    page.locator(f'.ticket[data-case-number="{case["case_number"]}"]').click()
    expect(page.locator("#messages")).to_contain_text("hurt his head")

    canned = page.locator("#canned")
    # English (the traveller's language) is the first group, with its replies' titles.
    expect(canned.locator("optgroup").first).to_have_attribute("lang", "en")
    expect(canned.locator("optgroup").first.locator("option").first).to_have_text(
        "Ask for the patient's details"
    )
    canned.select_option(label="Contact us again")
    box = page.locator("#reply-text")
    expect(box).to_have_value(
        "If the symptoms do not improve or get worse, contact us again at any time "
        f"(case {case['case_number']}); we answer 24 hours a day."
    )
    expect(box).to_have_attribute("lang", "en")
    # A second pick is appended on its own line, with the case country's number.
    canned.select_option(label="Call the emergency number now")
    number = emergency_numbers("US").ambulance
    expect(box).to_have_value(
        f"If the symptoms do not improve or get worse, contact us again at any time "
        f"(case {case['case_number']}); we answer 24 hours a day.\n"
        f"This may be life-threatening. Call {number} now and ask for an ambulance, then tell "
        "us how it goes."
    )
    assert not [m for m in page.console_messages if m.startswith("pageerror")]
