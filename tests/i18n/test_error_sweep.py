"""Refusals across the app speak the reader's language with their specific sentence.

Over a live server, for a sample of routes: Korean is Korean (not the generic sentence of the
code, not English), English is the specific English sentence, and the code never changes.
Staff routes fall back to the signed-in staff member's profile locale. A static check keeps
every refusal raised in the package translatable.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import update

import consult119
from consult119.errors import STANDARD_MESSAGES
from consult119.staff.models import Staff
from tests.factories import make_staff

HANGUL = re.compile(r"[\uac00-\ud7a3]")
PACKAGE = Path(consult119.__file__).resolve().parent


def open_case(server, sender: str) -> dict:
    r = httpx.post(
        f"{server.url}/api/v1/intake/chat",
        json={
            "source": "kakao",
            "sender_id": sender,
            "message_id": f"{sender}-1",
            "text": "배가 아파요",
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()


def refusal(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail["code"] == code, detail
    return detail["message"]


def assert_korean(message: str, code: str, english: str) -> None:
    """Korean, specific: not the code's generic sentence, not the English one."""
    assert HANGUL.search(message), message
    assert message != english
    standard = STANDARD_MESSAGES.get(code)
    if standard is not None:
        assert message != standard.render("ko"), f"{code}: only the generic sentence"


def both(send, status: int, code: str) -> tuple[str, str]:
    """``send(headers)`` with Accept-Language ko and en; the two messages, checked."""
    ko = send({"Accept-Language": "ko-KR,ko;q=0.9"})
    en = send({"Accept-Language": "en-GB,en;q=0.8"})
    ko_text, en_text = refusal(ko, status, code), refusal(en, status, code)
    assert ko.headers["content-language"] == "ko"
    assert en.headers["content-language"] == "en"
    assert not HANGUL.search(en_text), en_text
    assert_korean(ko_text, code, en_text)
    return ko_text, en_text


def test_staff_routes_refuse_in_both_languages(module_server, db):
    doctor = make_staff(db, "doctor", name="Dr Han", on_duty=True)
    other = make_staff(db, "doctor", name="Dr Seo", on_duty=True)
    emt = make_staff(db, "emt", on_duty=True)
    manager = make_staff(db, "manager")
    url = module_server.url
    case = open_case(module_server, "sweep-1")
    tid, number = case["ticket_id"], case["case_number"]
    emt_auth = emt.headers(url)

    def triage(acuity):
        return lambda h: httpx.post(
            f"{url}/api/v1/tickets/{tid}/triage",
            json={"acuity": acuity, "category": "first_aid"},
            headers={**emt_auth, **h},
            timeout=10,
        )

    ko, en = both(triage(9), 422, "invalid_acuity")
    assert en == "Acuity is a KTAS level from 1 to 5."
    assert ko == "중증도는 KTAS 1~5등급 중 하나여야 합니다."

    # A claim conflict names the case in both languages.
    held = httpx.post(f"{url}/api/v1/tickets/{tid}/claim", headers=other.headers(url), timeout=10)
    assert held.status_code == 200, held.text
    doctor_auth = doctor.headers(url)

    def claim(h):
        return httpx.post(
            f"{url}/api/v1/tickets/{tid}/claim", headers={**doctor_auth, **h}, timeout=10
        )

    ko, en = both(claim, 409, "ticket_taken")
    assert en == f"Case {number} is held by another doctor."
    assert ko == f"상담 {number}은(는) 다른 의사가 맡고 있습니다."

    # A forbidden transition names both statuses in the reader's words.
    def reopen_new(h):
        return httpx.post(
            f"{url}/api/v1/tickets/{tid}/status",
            json={"status": "new"},
            headers={**emt_auth, **h},
            timeout=10,
        )

    ko, en = both(reopen_new, 409, "transition_forbidden")
    assert "new" in en and "신규" in ko

    # A report whose end comes before its start.
    manager_auth = manager.headers(url)

    def backwards(h):
        return httpx.get(
            f"{url}/api/v1/reports/channel-share",
            params={"start": "2024-03-01", "end": "2024-01-01"},
            headers={**manager_auth, **h},
            timeout=10,
        )

    ko, en = both(backwards, 422, "invalid_period")
    assert en == "end (2024-01-01) must be after start (2024-03-01); end is exclusive."
    assert "2024-01-01" in ko and "2024-03-01" in ko

    # A role refusal lists the roles it needs.
    def wrong_role(h):
        return httpx.get(
            f"{url}/api/v1/reports/channel-share",
            params={"year": "2024"},
            headers={**emt_auth, **h},
            timeout=10,
        )

    ko, en = both(wrong_role, 403, "forbidden_role")
    assert en == "This needs one of these roles: admin, manager."


def test_intake_refusals_in_both_languages(module_server):
    url = f"{module_server.url}/api/v1/intake/kakao"

    def kakao(body):
        return lambda h: httpx.post(url, json=body, headers=h, timeout=10)

    # A Kakao payload without the utterance: the field is named, the reason translated.
    ko, en = both(kakao({"userRequest": {"user": {"id": "u1"}}}), 422, "invalid_field")
    assert en == "userRequest.utterance: This field is required."
    assert ko == "userRequest.utterance: 필수 항목입니다."

    def too_big(h):
        return httpx.post(
            url,
            content=b"{" + b" " * 70_000 + b"}",
            headers={"Content-Type": "application/json", **h},
            timeout=10,
        )

    ko, en = both(too_big, 413, "body_too_large")
    assert re.fullmatch(r"The body is over [\d,]+ bytes\.", en), en
    assert re.fullmatch(r"본문이 [\d,]+바이트를 넘습니다\.", ko), ko

    def no_type(h):
        return httpx.post(url, content=b"{}", headers={"Content-Type": "", **h}, timeout=10)

    ko, en = both(no_type, 415, "unsupported_media_type")
    assert en == "Send application/json; the request names no content type."


def test_web_chat_error_frames_speak_the_session_language(module_server):
    async def errors(locale):
        r = httpx.post(
            f"{module_server.url}/api/v1/webchat/sessions", json={"locale": locale}, timeout=10
        )
        assert r.status_code == 201, r.text
        async with websockets.connect(f"{module_server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": r.json()["token"]}))
            frames = []
            for frame in (
                "not json",
                json.dumps({"type": "message", "text": " ", "client_id": "x"}),
            ):
                await ws.send(frame)
                while (reply := json.loads(await asyncio.wait_for(ws.recv(), 15)))[
                    "type"
                ] != "error":
                    pass
                frames.append((reply["code"], reply["message"]))
            return frames

    assert asyncio.run(errors("en")) == [
        ("invalid_json", "The frame is not valid JSON."),
        ("invalid_field", "text: Must not be empty."),
    ]
    assert asyncio.run(errors("ko-KR")) == [
        ("invalid_json", "프레임이 올바른 JSON이 아닙니다."),
        ("invalid_field", "text: 비어 있으면 안 됩니다."),
    ]


def test_kakao_quick_replies_follow_lang(module_server):
    def skill(lang):
        body = {
            "userRequest": {"utterance": "도와주세요", "user": {"id": f"qr-{lang}"}, "lang": lang}
        }
        r = httpx.post(f"{module_server.url}/api/v1/intake/kakao", json=body, timeout=10)
        assert r.status_code == 200, r.text
        return [q["label"] for q in r.json()["template"]["quickReplies"]]

    # A new case's first answer asks where the patient is, before the usual four.
    assert skill("en") == [
        "On land",
        "At sea (ship)",
        "In the air",
        "Age and sex",
        "Symptoms began",
        "Medicines",
        "Send a photo",
    ]
    assert skill("ko") == [
        "육상(땅 위)",
        "해상(선박)",
        "항공(기내)",
        "나이·성별",
        "증상 시작 시각",
        "복용 중인 약",
        "사진 보내기",
    ]


def test_staff_profile_locale_when_the_request_names_none(module_server, db):
    emt = make_staff(db, "emt", on_duty=True)
    with db.unit_of_work() as session:
        session.execute(update(Staff).where(Staff.id == emt.id).values(locale="en"))
    auth = emt.headers(module_server.url)
    tid = open_case(module_server, "sweep-profile")["ticket_id"]
    url = f"{module_server.url}/api/v1/tickets/{tid}/triage"
    body = {"acuity": 0, "category": "first_aid"}

    profile = httpx.post(url, json=body, headers=auth, timeout=10)
    assert refusal(profile, 422, "invalid_acuity") == "Acuity is a KTAS level from 1 to 5."
    assert profile.headers["content-language"] == "en"
    # What the request says comes first.
    asked = httpx.post(url, json=body, headers={**auth, "Accept-Language": "ko"}, timeout=10)
    assert refusal(asked, 422, "invalid_acuity") == "중증도는 KTAS 1~5등급 중 하나여야 합니다."
    # Without a signed-in staff member there is no profile: Korean.
    anonymous = httpx.post(url, json=body, timeout=10)
    assert (
        refusal(anonymous, 401, "not_authenticated")
        == "먼저 로그인하세요: bearer 토큰이 필요합니다."
    )


#: Exceptions whose second argument is a message a person reads.
ERROR_CLASSES = {
    "DomainError", "Invalid", "Conflict", "NotFound", "Forbidden", "Unauthorized",
    "PayloadTooLarge", "UnsupportedMediaType", "RateLimited", "ChannelNotConfigured",
}  # fmt: skip
#: Areas whose refusals are translated in their own change.
NOT_SWEPT = ("realtime", "console")


def test_every_refusal_is_raised_with_a_translatable_text():
    """A plain or f-string message would reach Korean readers as English or a generic line."""
    plain = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in NOT_SWEPT or rel.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id in ERROR_CLASSES and len(node.args) >= 2:
                message = node.args[1]
                if isinstance(message, ast.Constant | ast.JoinedStr):
                    plain.append(f"{rel}:{node.lineno}")
    assert not plain, f"wrap these messages with lazy_gettext: {plain}"


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_quick_reply_labels_fit_kakao(locale):
    from consult119.channels.kakao.routes import quick_replies

    for label, _said, _prompt in quick_replies(locale):
        assert 0 < len(label) <= 14, label
    from consult119.channels.kakao.routes import country_replies, location_replies

    for _code, label, _said, _prompt in [*location_replies(locale), *country_replies(locale)]:
        assert 0 < len(label) <= 14, label
