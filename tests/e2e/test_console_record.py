# ruff: noqa: F811 (the module fixtures imported from tests.tickets.live are parameters)
"""The case record in the console, in a real browser against one live server per module: the
editable record seen live by a colleague, a stale save that keeps the input, search, resolving
as a decision, and a manager sent to the reports."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import post_chat, sign_in
from tests.factories import make_staff
from tests.tickets.live import mdb, server  # noqa: F401 (the module's database and server)

pytestmark = [SQLITE_ONLY]

#: Set to a directory to keep desktop and phone screenshots of the console.
SHOTS = os.environ.get("CONSULT119_SHOTS")
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def people(mdb, server):
    return {
        "emt": make_staff(mdb, "emt", name="EMT Park", on_duty=True),
        "doctor": make_staff(mdb, "doctor", name="Dr Kim", on_duty=True),
        "manager": make_staff(mdb, "manager", name="Manager Lee", on_duty=True),
    }


def new_case(server, text: str) -> dict:
    n = next(_ids)
    return post_chat(server, sender_id=f"rec-{n}", message_id=f"rec-m{n}", text=text)


def api(server, who, method: str, path: str, **kw) -> httpx.Response:
    return httpx.request(
        method, f"{server.url}{path}", headers=who.headers(server.url), timeout=10, **kw
    )


def open_in_console(page, server, who, case: dict) -> None:
    sign_in(page, server, who)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    page.locator(f'.ticket[data-case-number="{case["case_number"]}"]').click()
    expect(page.locator("#case .case-number")).to_have_text(case["case_number"])


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", (1366, 800)), ("phone", (390, 844))):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.screenshot(path=f"{SHOTS}/{name}-{label}.png", full_page=label == "phone")
    page.set_viewport_size({"width": 1366, "height": 800})


def test_an_emt_fills_the_record_and_a_doctor_sees_it_live(server, people, new_page):
    case = new_case(server, "아이가 열이 나고 계속 토해요")
    emt = new_page(locale="en-US", viewport={"width": 1366, "height": 800})
    doctor = new_page(locale="ko-KR", viewport={"width": 1366, "height": 800})
    open_in_console(doctor, server, people["doctor"], case)
    open_in_console(emt, server, people["emt"], case)

    # The doctor is writing the plan while the EMT saves: it must survive the live update.
    doctor.fill("#rec-plan", "수액 고려")

    for label in ("Age", "Sex", "Allergies", "Country", "Time zone", "Chief complaint", "Plan"):
        expect(emt.get_by_label(label, exact=True)).to_be_visible()
    emt.fill("#rec-patient_age", "4")
    emt.select_option("#rec-patient_sex", "female")
    emt.fill("#rec-allergies", "penicillin")
    emt.fill("#rec-country", "jp")
    emt.fill("#rec-timezone", "Asia/Tokyo")
    emt.select_option("#rec-location_type", "land")
    emt.fill("#rec-chief_complaint", "fever and vomiting since last night")
    emt.click("#record-save")
    expect(emt.locator("#toast")).to_have_text("Record saved.")
    expect(emt.locator("#rec-country")).to_have_value("JP")

    expect(doctor.locator("#rec-patient_age")).to_have_value("4")
    expect(doctor.locator("#rec-patient_sex")).to_have_value("female")
    expect(doctor.locator("#rec-allergies")).to_have_value("penicillin")
    expect(doctor.locator("#rec-timezone")).to_have_value("Asia/Tokyo")
    expect(doctor.locator("#rec-chief_complaint")).to_have_value(
        "fever and vomiting since last night"
    )
    expect(doctor.locator("#rec-plan")).to_have_value("수액 고려")
    # Local time now shows with its zone, Korea time beside it.
    expect(doctor.locator(".facts")).to_contain_text("JST")
    expect(doctor.locator(".facts")).to_contain_text("KST")

    stored = api(server, people["doctor"], "GET", f"/api/v1/tickets/{case['ticket_id']}").json()
    assert (stored["patient_age"], stored["patient_sex"], stored["country"]) == (4, "female", "JP")
    assert stored["plan"] is None  # the doctor's typing was never sent

    # The timeline says who edited, in plain words, with the zone.
    emt.click("#timeline summary")
    timeline = emt.locator("#timeline .timeline-list")
    expect(timeline).to_contain_text("EMT Park")
    expect(timeline).to_contain_text("Edited the record")
    expect(timeline).to_contain_text("Allergies")
    expect(timeline.locator("time").first).to_have_text(
        re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d KST$")
    )
    # The queue row: name, age/sex, country, preview and case number on one row.
    row = emt.locator(f'.ticket[data-case-number="{case["case_number"]}"]')
    expect(row.locator(".who")).to_contain_text("4 female · JP")
    expect(row.locator(".preview")).to_have_text("아이가 열이 나고 계속 토해요")
    shoot(emt, "record")
    shoot(doctor, "record-ko")


def test_a_stale_save_keeps_the_input_and_shows_what_changed(server, people, new_page):
    case = new_case(server, "허리가 너무 아파요")
    page = new_page(locale="en-US")
    open_in_console(page, server, people["emt"], case)

    page.fill("#rec-medication", "aspirin 100 mg")
    # Meanwhile the doctor saves another medication from elsewhere.
    version = api(server, people["doctor"], "GET", f"/api/v1/tickets/{case['ticket_id']}").json()[
        "version"
    ]
    r = api(
        server,
        people["doctor"],
        "PATCH",
        f"/api/v1/tickets/{case['ticket_id']}",
        json={"version": version, "medication": "ibuprofen 400 mg"},
    )
    assert r.status_code == 200, r.text
    field = page.locator('.record-field[data-field="medication"]')
    expect(field.locator(".changed-meanwhile")).to_contain_text("ibuprofen 400 mg")
    expect(page.locator("#rec-medication")).to_have_value("aspirin 100 mg")

    page.click("#record-save")
    conflict = page.locator("#record-conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Someone else saved this record meanwhile")
    changed = conflict.locator('li[data-field="medication"]')
    expect(changed.locator(".conflict-field")).to_contain_text("Medication")
    expect(changed.locator(".theirs")).to_have_text("ibuprofen 400 mg")
    expect(changed.locator(".yours")).to_have_text("aspirin 100 mg")
    expect(page.locator("#rec-medication")).to_have_value("aspirin 100 mg")
    assert "stale_version" not in page.locator("body").inner_text()
    shoot(page, "conflict")

    page.click("#record-save")  # "Save mine again", over the new version
    expect(conflict).to_be_hidden()
    stored = api(server, people["emt"], "GET", f"/api/v1/tickets/{case['ticket_id']}").json()
    assert stored["medication"] == "aspirin 100 mg"


def test_search_finds_a_case_by_a_korean_word(server, people, new_page):
    hit = new_case(server, "어제부터 설사가 멈추지 않아요\n물도 못 마셔요")
    new_case(server, "발목을 삐었어요")
    finished = new_case(server, "설사 때문에 연락했어요")
    r = api(
        server,
        people["emt"],
        "POST",
        f"/api/v1/tickets/{finished['ticket_id']}/status",
        json={"status": "resolved", "reason": "duplicate"},
    )
    assert r.status_code == 200, r.text
    page = new_page(locale="ko-KR")
    sign_in(page, server, people["doctor"])
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    all_open = page.locator("#tab-all_open")
    expect(all_open).to_have_attribute("aria-selected", "true")
    open_count = page.locator(".ticket").count()

    page.fill("#search-q", "설")
    expect(page.locator("#search-status")).to_have_text(
        "두 글자 이상 입력하세요 (한 글자로는 검색하지 않습니다)."
    )
    expect(page.locator(".ticket")).to_have_count(open_count)

    page.fill("#search-q", "설사")
    expect(page.locator("#search-status")).to_have_text("검색 결과 1건")
    expect(page.locator(".ticket")).to_have_count(1)
    expect(page.locator(".ticket")).to_have_attribute("data-case-number", hit["case_number"])
    expect(page.locator(".ticket .preview")).to_have_text("어제부터 설사가 멈추지 않아요")
    expect(all_open).to_have_attribute("aria-selected", "false")

    page.check("#search-finished")
    expect(page.locator("#search-status")).to_have_text("검색 결과 2건")
    expect(page.locator(f'.ticket[data-case-number="{finished["case_number"]}"]')).to_be_visible()
    shoot(page, "search")
    page.click("#lang")  # the line under the box follows the language
    expect(page.locator("#search-status")).to_have_text("2 found")

    page.click("#search-clear")
    expect(page.locator("#search-q")).to_have_value("")
    expect(all_open).to_have_attribute("aria-selected", "true")
    expect(page.locator(".ticket")).to_have_count(open_count)


def test_a_broad_search_shows_its_count_as_capped(mdb, server, people, new_page):
    from consult119.tickets.search import COUNT_CAP
    from tests.tickets.test_search import many_cases

    many_cases(mdb, COUNT_CAP + 5, "넓은검색어", finished=True)
    page = new_page(locale="ko-KR")
    sign_in(page, server, people["doctor"])
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    page.check("#search-finished")
    page.fill("#search-q", "넓은검색어")
    expect(page.locator("#search-status")).to_have_text("검색 결과 1,000+건")
    expect(page.locator(".ticket")).to_have_count(200)  # the first page the console asks for
    page.click("#lang")
    expect(page.locator("#search-status")).to_have_text("1,000+ found")


def test_tabs_count_live_and_filter_the_queue(server, people, new_page):
    page = new_page(locale="en-US")
    sign_in(page, server, people["doctor"])
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    mine = page.locator("#tab-mine .tab-count")
    before = int(mine.inner_text())
    case = new_case(server, "my ear hurts after the flight")
    assert api(
        server, people["doctor"], "POST", f"/api/v1/tickets/{case['ticket_id']}/claim"
    ).is_success
    expect(mine).to_have_text(str(before + 1))
    page.click("#tab-mine")
    expect(page.locator("#tab-mine")).to_have_attribute("aria-selected", "true")
    row = page.locator(f'.ticket[data-case-number="{case["case_number"]}"]')
    expect(row).to_be_visible()
    assert page.locator(".ticket").count() == before + 1
    page.click("#tab-unassigned")
    expect(row).to_have_count(0)


def test_resolving_an_urgent_case_without_a_reply_needs_a_reason(server, people, new_page):
    case = new_case(server, "숨이 조금 차요")
    r = api(
        server,
        people["emt"],
        "POST",
        f"/api/v1/tickets/{case['ticket_id']}/triage",
        json={"acuity": 2, "category": "medical_consultation"},
    )
    assert r.status_code == 200, r.text
    page = new_page(locale="en-US")
    open_in_console(page, server, people["doctor"], case)
    expect(page.locator("#case .sla")).not_to_have_text("answered")

    page.select_option("#case-status", "resolved")
    page.click("#status-form button[type=submit]")
    dialog = page.locator("#resolve-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("KTAS 2 Emergent")
    expect(dialog.locator("input[name=reason]")).to_have_count(4)
    expect(dialog).to_contain_text("Handled by phone")
    expect(dialog).to_contain_text("The traveller could not be reached")

    page.click("#resolve-confirm")  # no reason chosen
    error = page.locator("#resolve-error")
    expect(error).to_contain_text("No reply reached the traveller")
    assert "no_response" not in error.inner_text()
    shoot(page, "resolve")
    expect(dialog).to_be_visible()
    stored = api(server, people["doctor"], "GET", f"/api/v1/tickets/{case['ticket_id']}").json()
    assert stored["status"] not in ("resolved", "closed")

    page.click("#resolve-cancel")
    expect(dialog).to_be_hidden()
    stored = api(server, people["doctor"], "GET", f"/api/v1/tickets/{case['ticket_id']}").json()
    assert stored["status"] not in ("resolved", "closed")

    page.select_option("#case-status", "resolved")
    page.click("#status-form button[type=submit]")
    page.check("input[name=reason][value=handled_by_phone]")
    page.click("#resolve-confirm")
    expect(dialog).to_be_hidden()
    expect(page.locator("#case .status")).to_have_text("Resolved")
    # Closed without a reply: never "answered".
    expect(page.locator("#case .sla")).to_have_text("closed without a reply")


def test_the_reply_box_counts_down_and_never_cuts(server, people, new_page):
    case = new_case(server, "두통이 있어요")
    page = new_page(locale="en-US")
    open_in_console(page, server, people["doctor"], case)
    expect(page.locator("#reply-count")).to_have_text("5,000 characters left")
    page.fill("#reply-text", "물을 충분히 드세요")
    expect(page.locator("#reply-count")).to_have_text("4,990 characters left")
    long = "a" * 5003
    page.fill("#reply-text", long)
    expect(page.locator("#reply-text")).to_have_value(long)  # not cut by the browser
    expect(page.locator("#reply-count")).to_have_text("3 characters over — shorten it to send")
    page.press("#reply-text", "Control+Enter")
    expect(page.locator("#toast")).to_contain_text("at most 5,000 characters")
    expect(page.locator("#reply-text")).to_have_value(long)


def test_a_manager_is_pointed_to_the_reports(server, people, new_page):
    page = new_page(locale="en-US")
    sign_in(page, server, people["manager"])
    note = page.locator("#manager-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Reports are on another page")
    link = page.locator("#manager-reports")
    expect(link).to_have_attribute("href", "/reports/")
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("#sign-out")).to_be_visible()
    shoot(page, "manager")
    link.click()
    expect(page).to_have_url(re.compile(r"/reports/$"))


def test_unsaved_record_edits_wait_for_their_case(server, people, new_page):
    first = new_case(server, "벌에 쏘였어요")
    second = new_case(server, "배가 아파요")
    page = new_page(locale="en-US")
    open_in_console(page, server, people["emt"], first)
    page.fill("#rec-allergies", "bee stings")
    page.locator(f'.ticket[data-case-number="{second["case_number"]}"]').click()
    expect(page.locator("#case .case-number")).to_have_text(second["case_number"])
    expect(page.locator("#rec-allergies")).to_have_value("")
    page.locator(f'.ticket[data-case-number="{first["case_number"]}"]').click()
    expect(page.locator("#case .case-number")).to_have_text(first["case_number"])
    expect(page.locator("#rec-allergies")).to_have_value("bee stings")
    page.click("#record-save")
    expect(page.locator("#toast")).to_have_text("Record saved.")
    stored = api(server, people["emt"], "GET", f"/api/v1/tickets/{first['ticket_id']}").json()
    assert stored["allergies"] == "bee stings"
