"""The triage console in a real browser against a live server."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import post_chat, sign_in
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]


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


def test_a_case_posted_from_outside_appears_without_a_reload(live_server, db, page):
    doctor = make_staff(db, "doctor", on_duty=True)
    sign_in(page, live_server, doctor)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    page.evaluate("() => { window.__sameDocument = true; }")

    first = post_chat(live_server, sender_id="t1", message_id="m1", text="I have a mild cough")
    second = post_chat(live_server, sender_id="t2", message_id="m2", text="rash on my arm")
    rows = page.locator(".ticket")
    expect(rows).to_have_count(2)
    # Same rank: the one waiting longest first.
    expect(rows.nth(0)).to_have_attribute("data-case-number", first["case_number"])
    expect(rows.nth(1)).to_have_attribute("data-case-number", second["case_number"])
    expect(page.locator("#queue-count")).to_have_text("(2)")
    assert page.evaluate("() => window.__sameDocument") is True
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")


def test_a_red_flag_case_jumps_the_queue_and_raises_the_alert(live_server, db, page):
    doctor = make_staff(db, "doctor", on_duty=True)
    sign_in(page, live_server, doctor)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    post_chat(live_server, sender_id="t1", message_id="m1", text="I have a mild cough")
    urgent = post_chat(
        live_server, sender_id="t2", message_id="m2", text="He is unconscious and having a seizure"
    )
    red = page.locator(f'.ticket[data-case-number="{urgent["case_number"]}"]')
    expect(red).to_be_visible()
    expect(page.locator(".ticket").first).to_have_attribute(
        "data-case-number", urgent["case_number"]
    )
    expect(red).to_have_class(re.compile("red-flag"))
    expect(red.locator(".flags")).to_contain_text("⚑")
    expect(page.locator("#alert-banner")).to_be_visible()
    expect(page.locator("#alert-banner")).to_contain_text(urgent["case_number"])
    expect(red.locator(".sla")).to_have_attribute("data-state", re.compile("ok|warning|breached"))
    page.keyboard.press("Escape")
    expect(page.locator("#alert-banner")).to_be_hidden()


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


def test_keyboard_open_claim_and_triage(live_server, db, page):
    doctor = make_staff(db, "doctor", on_duty=True)
    case = post_chat(live_server, sender_id="t4", message_id="m4", text="I twisted my ankle")
    sign_in(page, live_server, doctor)
    row = page.locator(f'.ticket[data-case-number="{case["case_number"]}"]')
    expect(row).to_be_visible()
    page.locator("body").focus()
    page.keyboard.press("Enter")  # opens the selected (first) case
    expect(page.locator("#case .case-number")).to_have_text(case["case_number"])
    page.keyboard.press("c")  # claim
    expect(page.locator("#claim")).to_be_disabled()

    page.keyboard.press("t")  # focus the triage form
    expect(page.locator("#case-acuity")).to_be_focused()
    page.select_option("#case-acuity", "4")
    page.select_option("#case-category", "first_aid")
    page.select_option("#case-disposition", "self_care")
    page.click("#triage-form button[type=submit]")
    expect(row.locator(".ktas")).to_have_text("4")
    expect(row.locator(".ktas")).to_have_class(re.compile("ktas-green"))

    ticket = httpx.get(
        f"{live_server.url}/api/v1/tickets/{case['ticket_id']}",
        headers=doctor.headers(live_server.url),
        timeout=10,
    ).json()
    assert ticket["assignee_id"] == doctor.id
    assert (ticket["acuity"], ticket["category"], ticket["disposition"]) == (
        4,
        "first_aid",
        "self_care",
    )


def test_the_console_state_equals_a_fresh_snapshot_after_live_events(live_server, db, page):
    """Zulip's check, in the browser with the console's own modules: a snapshot, plus the
    events that followed applied by ``state.js``, equals a snapshot taken afterwards."""
    doctor = make_staff(db, "doctor", on_duty=True)
    post_chat(live_server, sender_id="s1", message_id="s1", text="fever since yesterday")
    page.goto(f"{live_server.url}/console/")
    token = doctor.token(live_server.url)
    page.evaluate(
        """async (token) => {
            const s = await import("/console/state.js");
            window.__s = s;
            window.__frames = [];
            const ws = new WebSocket(`ws://${location.host}/ws/console`);
            window.__ws = ws;
            ws.onopen = () => ws.send(JSON.stringify({type: "auth", token}));
            ws.onmessage = (m) => window.__frames.push(JSON.parse(m.data));
        }""",
        token,
    )
    page.wait_for_function("() => window.__frames.some((f) => f.type === 'ready')")
    case = post_chat(live_server, sender_id="s2", message_id="s2", text="chest pain, sweating")
    post_chat(live_server, sender_id="s1", message_id="s3", text="now 39.5 degrees")
    headers = doctor.headers(live_server.url)
    assert httpx.post(
        f"{live_server.url}/api/v1/tickets/{case['ticket_id']}/claim", headers=headers, timeout=10
    ).is_success
    page.wait_for_function(
        """(id) => window.__frames.some((f) => f.type === 'event' && f.name === 'ticket.assigned'
                                        && f.ticket_id === id)""",
        arg=case["ticket_id"],
    )
    result = page.evaluate(
        """async (token) => {
            const s = window.__s;
            const frames = window.__frames;
            const snapshot = frames.find((f) => f.type === "snapshot");
            let state = s.applySnapshot(snapshot);
            for (const f of frames.filter((f) => f.type === "event")) state = s.applyEvent(state, f);
            const fresh = await new Promise((resolve) => {
                const ws = new WebSocket(`ws://${location.host}/ws/console`);
                ws.onopen = () => ws.send(JSON.stringify({type: "auth", token}));
                ws.onmessage = (m) => {
                    const f = JSON.parse(m.data);
                    if (f.type === "snapshot") { resolve(f); ws.close(); }
                };
            });
            const after = s.applySnapshot(fresh);
            const view = (st) => s.queue(st).map((t) => [t.id, t.status, t.assignee_id, t.version]);
            return {replayed: view(state), fresh: view(after),
                    lastReplayed: state.lastEventId, lastFresh: after.lastEventId};
        }""",
        token,
    )
    assert result["replayed"] == result["fresh"]
    assert len(result["fresh"]) == 2
    assert result["lastReplayed"] == result["lastFresh"]


def test_the_connection_indicator_shows_the_drop_and_the_resume(live_server, db, page, monkeypatch):
    import tests.conftest as root

    doctor = make_staff(db, "doctor", on_duty=True)
    sign_in(page, live_server, doctor)
    indicator = page.locator("#connection")
    expect(indicator).to_have_attribute("data-state", "live")

    live_server.stop()
    expect(indicator).to_have_attribute("data-state", "reconnecting")

    # The same HTTP port again, as a restarted server behind the same address would be (the
    # SMTP listener, started next, gets a fresh port).
    real_free_port = root.free_port
    ports = iter([live_server.port])
    monkeypatch.setattr(root, "free_port", lambda: next(ports, None) or real_free_port())
    live_server.start(live_server.log_path)
    expect(indicator).to_have_attribute("data-state", "live", timeout=20_000)
    case = post_chat(live_server, sender_id="r1", message_id="r1", text="after the restart")
    expect(page.locator(f'.ticket[data-case-number="{case["case_number"]}"]')).to_be_visible()


def test_a_live_message_does_not_wipe_the_reply_being_typed(live_server, db, page):
    doctor = make_staff(db, "doctor", on_duty=True)
    case = post_chat(live_server, sender_id="d1", message_id="d1", text="my child has a fever")
    sign_in(page, live_server, doctor)
    page.locator(f'.ticket[data-case-number="{case["case_number"]}"]').click()
    expect(page.locator("#messages .message.inbound")).to_have_count(1)
    page.click("#reply-text")
    page.keyboard.type("How old is your child")

    post_chat(live_server, sender_id="d1", message_id="d2", text="she is 3 and very sleepy")
    expect(page.locator("#messages .message.inbound")).to_have_count(2)
    expect(page.locator("#messages")).to_contain_text("she is 3 and very sleepy")
    expect(page.locator("#reply-text")).to_have_value("How old is your child")
    expect(page.locator("#reply-text")).to_be_focused()
    page.keyboard.type("?")
    expect(page.locator("#reply-text")).to_have_value("How old is your child?")
