"""Alerts on the console in a real browser: the list stays until acknowledged, a hidden tab
gets a browser notification, and the sound repeats until someone acknowledges."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import post_chat, sign_in
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]


#: Headless Chromium shows every page as visible (another tab in front hides nothing), so the
#: test switches the page's visibility the way a background tab reports it: ``document.hidden``,
#: ``visibilityState`` and a ``visibilitychange`` event.
HIDDEN_TAB = """
(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, "hidden", { get: () => hidden, configurable: true });
  Object.defineProperty(Document.prototype, "visibilityState", {
    get: () => (hidden ? "hidden" : "visible"),
    configurable: true,
  });
  globalThis.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


def sound_plays(page) -> int:
    return page.evaluate("globalThis.__alertSoundPlays")


def wait_until(page, expression: str, timeout_s: float = 20) -> None:
    """Poll ``expression`` in the page (``wait_for_function`` evaluates a string, which the
    page's Content-Security-Policy forbids; ``evaluate`` goes through the debugger)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(100)


def test_a_hidden_console_is_notified_and_rings_until_acknowledged(live_server, db, new_page):
    doctor = make_staff(db, "doctor", on_duty=True)
    page = new_page(permissions=["notifications"])
    page.add_init_script(HIDDEN_TAB)
    sign_in(page, live_server, doctor)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    assert page.evaluate("Notification.permission") == "granted"
    # The doctor looks at another tab: the console's tab is hidden.
    page.evaluate("__setHidden(true)")
    assert page.evaluate("document.hidden") is True

    urgent = post_chat(live_server, sender_id="al-t", message_id="al-m", text="가슴이 아파요")
    item = page.locator("#alerts .alert-item[data-kind=red_flag]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(urgent["case_number"])
    # Listed above the colleagues, with its level and the count of open alerts in the heading.
    expect(item.locator(".ktas")).to_have_text("2")
    expect(page.locator("#alerts-count")).to_have_text("1")
    assert page.evaluate(
        "document.querySelector('.alerts-box').compareDocumentPosition(document.getElementById('staff'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    wait_until(page, "globalThis.__alertNotifications >= 1")
    # The sound keeps going while nobody acknowledges: the page counts every repeat.
    wait_until(page, "globalThis.__alertSoundPlays >= 3")

    page.evaluate("__setHidden(false)")
    item.locator("button.alert-ack").click()
    expect(item).to_have_class(re.compile("acknowledged"))
    expect(item.locator(".alert-acked")).to_be_visible()
    stopped = sound_plays(page)
    page.wait_for_timeout(4_000)  # longer than one repeat: none may come
    assert sound_plays(page) == stopped
    # Acknowledged is not answered: the alert stays in the list until the reply.
    expect(item).to_have_count(1)
