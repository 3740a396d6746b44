"""The acknowledgement: case number, emergency number, expected wait, what to send — in the
traveller's language and within the channel's limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from consult119.context import AppContext
from consult119.intake.ack import WaitEstimate, acknowledgement, estimate_wait, wait_for
from consult119.intake.pipeline import take_blocking
from consult119.intake.service import InboundMessage, IntakeResult
from consult119.tickets.models import Contact, Message, Ticket
from tests.factories import make_staff

NOW = datetime(2024, 6, 1, 17, 0, tzinfo=UTC)  # 2 a.m. in Osaka
CASE = "C119-2024-000123"


def result(
    country: str | None = None,
    *,
    locale: str | None = None,
    location_type: str | None = None,
    source: str = "kakao",
    created: bool = True,
    duplicate: bool = False,
    reopened: bool = False,
    opening: bool = True,
) -> IntakeResult:
    contact = Contact(
        country=country, locale=locale, location_type=location_type, created_at=NOW, updated_at=NOW
    )
    ticket = Ticket(
        id=1,
        case_number=CASE,
        year=2024,
        seq=123,
        channel="chat",
        source=source,
        contact_id=1,
        status="new",
        priority=2,
        created_at=NOW,
        updated_at=NOW,
    )
    at = NOW if opening else NOW + timedelta(minutes=3)
    message = Message(
        id=1,
        ticket_id=1,
        direction="inbound",
        channel="chat",
        source=source,
        text="help",
        created_at=at,
    )
    return IntakeResult(
        ticket, contact, message, created=created, duplicate=duplicate, reopened=reopened
    )


WAIT = WaitEstimate(ahead=3, doctors=2)  # (3 + 1) cases × 10 min / 2 doctors = 20 min


@pytest.mark.parametrize(
    ("country", "location_type", "en_line", "ko_line"),
    [
        ("US", None, "call 911 now (emergency number, United States)", "911번(미국 긴급번호)"),
        ("JP", None, "call 119 now (ambulance, Japan; police 110)", "119번(일본 구급차)으로"),
        ("FR", None, "call 15 now (ambulance, France) or 112", "15번(프랑스 구급차) 또는 112번"),
        ("GB", None, "call 999 now (emergency number, United Kingdom)", "999번(영국 긴급번호)"),
        ("AU", None, "call 000 now (emergency number, Australia)", "000번(오스트레일리아"),
        ("JP", "sea", "tell the ship's master at once", "즉시 선장에게 알리세요"),
        ("US", "air", "tell the cabin crew at once", "즉시 승무원에게 알리세요"),
    ],
)
def test_first_acknowledgement_in_both_languages(country, location_type, en_line, ko_line):
    en = acknowledgement(result(country, location_type=location_type), "en", wait=WAIT)
    ko = acknowledgement(result(country, location_type=location_type), "ko", wait=WAIT)

    assert en.startswith(f"Received. Your case number is {CASE}.\n")
    assert en_line in en
    assert "An emergency doctor will answer in about 20 minutes." in en
    for item in (
        "the patient's age",
        "the symptoms and when they began",
        "medicines taken",
        "a photo if there is a wound",
    ):
        assert f"- {item}" in en

    assert ko.startswith(f"접수되었습니다. 상담 번호는 {CASE}입니다.\n")
    assert ko_line in ko
    assert "응급의학 전문의가 약 20분 안에 답변드립니다." in ko
    for item in ("환자 나이", "증상과 시작된 시각", "복용한 약", "상처가 있으면 사진"):
        assert f"- {item}" in ko
    assert len(en) <= 1000 and len(ko) <= 1000


def test_at_sea_the_country_number_gives_way_to_the_master():
    text = acknowledgement(result("JP", location_type="sea"), "en", wait=WAIT)
    assert "radio medical advice" in text
    assert "call 119" not in text and "ambulance" not in text


def test_locale_falls_back_to_the_contact_then_korean():
    assert acknowledgement(result("JP", locale="en"), None).startswith("Received.")
    assert acknowledgement(result("JP", locale="en"), "ja").startswith("Received.")
    assert acknowledgement(result("JP"), "xx-Nonsense").startswith("접수되었습니다.")
    assert acknowledgement(result("JP"), None).startswith("접수되었습니다.")


def test_unknown_country_gets_the_general_line():
    for country in (None, "ZZ", "Q9"):
        text = acknowledgement(result(country), "en")
        assert "If life is in danger, call the local emergency number now." in text


def test_wait_wording():
    assert "about 5 minutes" in acknowledgement(result("US"), "en", wait=WaitEstimate(0, 2))
    assert "about 1 hour" not in acknowledgement(result("US"), "en", wait=WaitEstimate(5, 1))
    assert "about 2 hours" in acknowledgement(result("US"), "en", wait=WaitEstimate(11, 1))
    assert "as soon as one is free" in acknowledgement(result("US"), "en", wait=WaitEstimate(4, 0))
    assert "as soon as possible" in acknowledgement(result("US"), "en")


def test_kakao_limit_and_a_tight_limit_keep_case_and_emergency_number():
    long_ack = acknowledgement(result("FR", source="kakao"), "en", wait=WAIT)
    assert len(long_ack) <= 1000
    # Just under the full length: the list of what to send becomes one sentence.
    compact = acknowledgement(result("FR"), "en", wait=WAIT, max_chars=len(long_ack) - 1)
    assert "Please send the patient's age" in compact and "- medicines taken" not in compact
    for limit in (200, 160):
        text = acknowledgement(result("FR"), "en", wait=WAIT, max_chars=limit)
        assert len(text) <= limit
        assert CASE in text and " 15 " in text and "112" in text
    tiny = acknowledgement(result("FR"), "en", max_chars=20)
    assert len(tiny) == 20 and tiny.endswith("…")


def test_follow_up_and_redelivery():
    follow = acknowledgement(result("JP", created=False, opening=False), "en")
    assert follow == f"Added to your case {CASE}. Life in danger? Call 119 now."
    again = acknowledgement(result("JP", created=False, duplicate=True, opening=False), "ko")
    assert (
        again
        == f"이미 접수된 메시지입니다 (상담 번호 {CASE}). 생명이 위급하면 지금 바로 119번으로 전화하세요."
    )
    reopened = acknowledgement(result("AU", created=False, reopened=True, opening=False), "en")
    assert reopened.startswith(f"Your case {CASE} is open again")
    assert "Call 000 now." in reopened
    # The first answer may never have reached the traveller: a redelivery of the opening
    # message gets the whole acknowledgement again.
    redelivered = acknowledgement(result("JP", created=False, duplicate=True), "en")
    assert redelivered.startswith("Received. Your case number is")


def test_estimate_wait_counts_the_queue_ahead_and_doctors_on_duty(db, settings):
    ctx = AppContext(settings=settings, db=db, signing_key="k" * 40, clock=lambda: NOW)
    make_staff(db, "doctor", on_duty=True, now=NOW)
    make_staff(db, "doctor", on_duty=True, now=NOW)
    make_staff(db, "doctor", on_duty=False, now=NOW)  # off duty: not counted
    make_staff(db, "emt", on_duty=True, now=NOW)  # not a doctor
    results = [
        take_blocking(
            ctx,
            InboundMessage(
                source="kakao", sender_id=f"s{i}", external_id=f"m{i}", text="help", country="JP"
            ),
        ).result
        for i in range(4)
    ]
    with db.read_session() as session:
        first = estimate_wait(session, now=NOW, ticket=results[0].ticket)
        last = estimate_wait(session, now=NOW, ticket=results[3].ticket)
        everyone = estimate_wait(session, now=NOW)
    assert first == WaitEstimate(ahead=0, doctors=2)
    assert last == WaitEstimate(ahead=3, doctors=2)
    assert everyone == WaitEstimate(ahead=4, doctors=2)
    assert last.minutes == 20 and first.minutes == 5

    follow = take_blocking(
        ctx,
        InboundMessage(
            source="kakao", sender_id="s3", external_id="m3b", text="more", country="JP"
        ),
    ).result
    with db.read_session() as session:
        text = acknowledgement(results[3], "en", wait=wait_for(session, results[3], now=NOW))
        assert wait_for(session, follow, now=NOW) is None  # a follow-up gets no wait line
    assert "about 20 minutes" in text and "call 119 now" in text
    assert acknowledgement(follow, "en").startswith("Added to your case")


def test_estimate_wait_stops_counting_at_the_cap(db, settings, monkeypatch):
    from consult119.intake import ack

    monkeypatch.setattr(ack, "AHEAD_CAP", 3)
    ctx = AppContext(settings=settings, db=db, signing_key="k" * 40, clock=lambda: NOW)
    make_staff(db, "doctor", on_duty=True, now=NOW)
    results = [
        take_blocking(
            ctx, InboundMessage(source="kakao", sender_id=f"c{i}", external_id=f"c{i}", text="hi")
        ).result
        for i in range(6)
    ]
    with db.read_session() as session:
        assert estimate_wait(session, now=NOW, ticket=results[5].ticket).ahead == 3
        assert estimate_wait(session, now=NOW, ticket=results[2].ticket).ahead == 2


def test_chat_intake_replies_in_the_travellers_language(live_server, db):
    make_staff(db, "doctor", on_duty=True)
    url = f"{live_server.url}/api/v1/intake/chat"
    base = {"source": "kakao", "text": "가슴이 아파요", "country": "JP"}
    ko = httpx.post(
        url, json={**base, "sender_id": "a", "message_id": "a1", "locale": "ko"}, timeout=10
    )
    en = httpx.post(
        url,
        json={**base, "sender_id": "b", "message_id": "b1", "locale": "en-US", "country": "au"},
        timeout=10,
    )
    unknown = httpx.post(
        url,
        json={
            **base,
            "sender_id": "c",
            "message_id": "c1",
            "locale": "xx",
            "country": "Atlantis",
            "timezone": "Not/AZone",
        },
        timeout=10,
    )
    assert ko.status_code == en.status_code == unknown.status_code == 201, (
        ko.text,
        en.text,
        unknown.text,
    )
    ko_text, en_text, unknown_text = (r.json()["reply"]["text"] for r in (ko, en, unknown))
    assert ko.json()["case_number"] in ko_text and "119번(일본 구급차)" in ko_text
    assert "약 10분" in ko_text  # one doctor, no one ahead
    assert en.json()["case_number"] in en_text and "call 000 now" in en_text
    assert "about 20 minutes" in en_text  # one case ahead, one doctor
    assert unknown_text.startswith("접수되었습니다.") and "현지 응급번호" in unknown_text
    follow = httpx.post(url, json={**base, "sender_id": "b", "message_id": "b2"}, timeout=10)
    assert follow.status_code == 200
    assert follow.json()["reply"]["text"].startswith("Added to your case")
