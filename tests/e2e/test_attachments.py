"""A photo from the traveller's phone to the doctor's screen, in real browsers, live."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.attachments import images
from tests.e2e.conftest import SQLITE_ONLY
from tests.e2e.helpers import keep_screenshot, sign_in
from tests.factories import make_staff

pytestmark = [SQLITE_ONLY]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_a_traveller_sends_a_photo_and_the_doctor_sees_it_live(live_server, db, new_page, tmp_path):
    doctor = make_staff(db, "doctor", on_duty=True)

    phone = new_page(locale="ko-KR", timezone_id="Asia/Tokyo", **PHONE)
    phone.goto(f"{live_server.url}/chat/")
    phone.click("#skip")
    expect(phone.locator("#conversation")).to_be_visible()
    phone.fill("#text", "넘어져서 발목이 부었어요")
    phone.press("#text", "Enter")
    expect(phone.locator("#case-number")).to_have_text(re.compile(r"^C119-\d{4}-\d{6}$"))
    case_number = phone.locator("#case-number").inner_text()
    # The camera button is there for a phone: a file input that asks for the camera.
    expect(phone.locator("#camera")).to_have_attribute("capture", "environment")
    expect(phone.locator("#file")).to_have_attribute("accept", "image/*,application/pdf")

    console = new_page(locale="ko-KR", viewport={"width": 1280, "height": 900})
    sign_in(console, live_server, doctor)
    console.locator(f'.ticket[data-case-number="{case_number}"]').click()
    expect(console.locator(".message.inbound")).to_have_count(1)

    photo = tmp_path / "ankle.jpg"
    photo.write_bytes(images.photo("JPEG", size=(640, 320)))
    phone.set_input_files("#file", str(photo))
    expect(phone.locator(".bubble.me img.preview")).to_be_visible()
    expect(phone.locator(".bubble.me .meta").last).to_contain_text("전달됨")
    # The newest message is in view, not under the text box.
    last = phone.locator(".bubble.me").last
    box, composer = last.bounding_box(), phone.locator("#composer").bounding_box()
    assert box["y"] + box["height"] <= composer["y"] + 1

    # The doctor's open case shows the thumbnail without a reload ...
    thumb = console.locator(".attachment-thumb img").first
    expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    expect(thumb).to_have_js_property("naturalWidth", 320)
    # A 2:1 landscape photo keeps a landscape box (96 px tall, twice as wide), not a square crop.
    expect(thumb).to_have_attribute("width", "192")
    assert thumb.bounding_box()["width"] > thumb.bounding_box()["height"]
    # ... and opens it over the case, to zoom and rotate.
    console.locator(".attachment-thumb").first.click()
    viewer = console.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(viewer.locator(".viewer-image")).to_have_js_property("naturalWidth", 640)
    expect(viewer.locator(".viewer-caption")).to_contain_text("ankle.jpg")
    console.click("#viewer-rotate")
    expect(viewer.locator(".viewer-image")).to_have_attribute(
        "style", re.compile(r"rotate\(90deg\)")
    )
    console.click("#viewer-zoom-in")
    expect(viewer.locator(".viewer-image")).to_have_attribute(
        "style", re.compile(r"scale\(1\.25\)")
    )
    console.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(console.locator(".message.inbound")).to_have_count(2)  # still on the case


def test_a_doctor_attaches_a_photo_and_a_pdf_and_the_traveller_sees_them(
    live_server, db, new_page, tmp_path
):
    doctor = make_staff(db, "doctor", on_duty=True)
    phone = new_page(locale="ko-KR", timezone_id="Asia/Tokyo", **PHONE)
    phone.goto(f"{live_server.url}/chat/")
    phone.click("#skip")
    phone.fill("#text", "먹는 약 목록을 보내 주세요")
    phone.press("#text", "Enter")
    expect(phone.locator("#case-number")).to_have_text(re.compile(r"^C119-\d{4}-\d{6}$"))
    case_number = phone.locator("#case-number").inner_text()

    console = new_page(locale="ko-KR", viewport={"width": 1440, "height": 900})
    sign_in(console, live_server, doctor)
    console.locator(f'.ticket[data-case-number="{case_number}"]').click()
    expect(console.locator(".attach-button")).to_have_text("파일 첨부")
    photo, letter = tmp_path / "복용법.png", tmp_path / "안내문.pdf"
    photo.write_bytes(images.photo("PNG", size=(480, 240)))
    letter.write_bytes(images.pdf())
    console.set_input_files("#reply-file", [str(photo), str(letter)])
    expect(console.locator(".reply-file[data-attachment-id]")).to_have_count(2)
    console.fill("#reply-text", "약 복용법과 안내문입니다.")
    keep_screenshot(console, "files-console-1440")
    console.click("#reply-form button[type=submit]")
    expect(console.locator(".message.outbound .attachment-thumb img")).to_have_attribute(
        "src", re.compile(r"^blob:")
    )
    expect(console.locator(".reply-file")).to_have_count(0)  # sent: the box is empty again

    staff = phone.locator(".bubble.staff").last
    expect(staff.locator("img.preview")).to_have_js_property("naturalWidth", 480)
    pdf = staff.locator("a.file", has_text="안내문.pdf")
    expect(pdf).to_have_text("PDF · 안내문.pdf")
    expect(pdf).to_have_attribute("href", re.compile(r"^blob:"))
    expect(staff).to_contain_text("약 복용법과 안내문입니다.")
    keep_screenshot(phone, "files-chat-390")

    # On a phone-sized console the attach button is there too.
    console.set_viewport_size({"width": 390, "height": 844})
    expect(console.locator(".attach-button")).to_be_visible()
    keep_screenshot(console, "files-console-390")
    # An English console says it in English.
    en = new_page(locale="en-US", viewport={"width": 1440, "height": 900})
    sign_in(en, live_server, doctor)
    en.locator(f'.ticket[data-case-number="{case_number}"]').click()
    expect(en.locator(".attach-button")).to_have_text("Attach a file")
