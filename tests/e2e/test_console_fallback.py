"""A delivery alert on the console in a real browser: its row shows the one-click fallbacks as
buttons (in the reader's language), and one click re-sends the reply by e-mail and clears it."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect
from sqlalchemy import select

from consult119.tickets.models import Contact, Message, Ticket
from tests.channels.conftest import FAST_OUTBOX, SmtpSink, wait_for
from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import keep_screenshot, post_chat, sign_in
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]


def test_a_delivery_alert_offers_its_fallbacks_and_one_click_resends(start_server, db, new_page):
    sink = SmtpSink().start()
    try:
        server = start_server(CONSULT119_SMTP_RELAY=sink.relay, **FAST_OUTBOX)
        doctor = make_staff(db, "doctor", on_duty=True, presence="available")
        emt = make_staff(db, "emt", on_duty=True)
        # Telegram has no sender here: the reply fails at its first attempt.
        case = post_chat(
            server, source="telegram", sender_id="fb-t", message_id="fb-m", text="가슴이 아파요"
        )
        with db.unit_of_work() as s:
            contact = s.get(Contact, s.get(Ticket, case["ticket_id"]).contact_id)
            contact.email = "fb-traveller@example.com"
            contact.phone_e164 = "+33612345678"
        wide = new_page(viewport={"width": 1440, "height": 900}, locale="ko-KR")
        sign_in(wide, server, doctor)
        expect(wide.locator("#connection")).to_have_attribute("data-state", "live")
        r = httpx.post(
            f"{server.url}/api/v1/tickets/{case['ticket_id']}/messages",
            json={"text": "지금 바로 112에 전화하세요."},
            headers=doctor.headers(server.url),
        )
        assert r.status_code == 201, r.text
        row = wide.locator("#alerts .alert-item[data-kind=delivery_failed]")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("답변 전달 실패")
        buttons = row.locator("button.alert-fallback")
        # No SMS provider here: e-mail and a callback task are offered, both live buttons.
        expect(buttons).to_have_count(2)
        expect(buttons.nth(0)).to_have_text("다시 보내기: 이메일")
        expect(buttons.nth(1)).to_have_text("전화 회신 작업 만들기")
        expect(buttons.nth(1)).to_be_enabled()
        keep_screenshot(wide, "delivery-console-1440")

        narrow = new_page(viewport={"width": 390, "height": 844}, locale="en-US")
        sign_in(narrow, server, emt)
        expect(narrow.locator("#connection")).to_have_attribute("data-state", "live")
        narrow_row = narrow.locator("#alerts .alert-item[data-kind=delivery_failed]")
        expect(narrow_row.locator("button.alert-fallback").first).to_have_text("Resend by e-mail")
        # The list is drawn again on events (another console's sign-in brings one), which can
        # replace the row under a two-step scroll: scroll to it in one step, in the page.
        narrow.evaluate(
            "document.querySelector('#alerts .alert-item[data-kind=delivery_failed]')"
            ".scrollIntoView({block: 'nearest'})"
        )
        keep_screenshot(narrow, "delivery-console-390")

        narrow_row.locator("button[data-action=channel]").click()
        expect(narrow_row).to_have_count(0)  # resolved: gone from the open list
        expect(row).to_have_count(0)  # and from the other console, by its event
        wait_for(lambda: sink.received, what="the e-mail fallback")
        assert sink.received[0][1] == ["fb-traveller@example.com"]
        with db.read_session() as s:
            copy = s.scalars(select(Message).where(Message.source == "smtp")).one()
        assert copy.meta["fallback_of"] is not None
    finally:
        sink.stop()
