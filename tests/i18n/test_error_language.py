"""Errors keep their stable code and speak the reader's language (Accept-Language)."""

from __future__ import annotations

import httpx
import pytest

from consult119.errors import Conflict, Invalid, message_for
from consult119.i18n import lazy_gettext


def post_chat(server, body, accept_language=None, **kwargs):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    return httpx.post(
        f"{server.url}/api/v1/intake/chat", json=body, headers=headers, timeout=10, **kwargs
    )


def test_chat_intake_422_in_english_and_korean(module_server):
    too_long = {"source": "kakao", "sender_id": "u", "message_id": "m", "text": "x" * 5001}
    en = post_chat(module_server, too_long, "en-US,en;q=0.9")
    ko = post_chat(module_server, too_long, "ko-KR")
    default = post_chat(module_server, too_long)
    unknown = post_chat(module_server, too_long, "fr-FR, de;q=0.5")
    for response in (en, ko, default, unknown):
        assert response.status_code == 422
        assert response.json()["detail"]["code"] == "invalid_field"
        assert response.json()["detail"]["field"] == "text"
    assert en.json()["detail"]["message"] == "text: Must be at most 5,000 characters."
    assert en.headers["content-language"] == "en"
    assert ko.json()["detail"]["message"] == "text: 5,000자 이하여야 합니다."
    assert ko.headers["content-language"] == "ko"
    assert default.json()["detail"] == ko.json()["detail"]  # Korean when nothing is said
    assert unknown.json()["detail"] == ko.json()["detail"]

    missing = {"source": "kakao", "sender_id": "u", "message_id": "m"}
    assert post_chat(module_server, missing, "en").json()["detail"]["message"] == (
        "text: This field is required."
    )
    assert (
        post_chat(module_server, missing, "ko").json()["detail"]["message"]
        == "text: 필수 항목입니다."
    )
    bad_source = {"source": "pigeon", "sender_id": "u", "message_id": "m", "text": "hi"}
    assert (
        "Must be one of:" in post_chat(module_server, bad_source, "en").json()["detail"]["message"]
    )


def test_plain_errors_from_the_http_layer_in_both_languages(module_server):
    url = f"{module_server.url}/api/v1/intake/chat"
    for lang, expected in (
        ("en", "The body is not valid JSON."),
        ("ko", "본문이 올바른 JSON이 아닙니다."),
    ):
        r = httpx.post(
            url,
            content=b"{nope",
            headers={"Content-Type": "application/json", "Accept-Language": lang},
            timeout=10,
        )
        assert r.status_code == 422
        assert r.json()["detail"] == {"code": "invalid_json", "message": expected}
    en = httpx.post(
        url,
        content=b"hi",
        headers={"Content-Type": "text/plain", "Accept-Language": "en"},
        timeout=10,
    )
    ko = httpx.post(url, content=b"hi", headers={"Content-Type": "text/plain"}, timeout=10)
    assert en.status_code == ko.status_code == 415
    assert en.json()["detail"]["message"] == "Send application/json, not text/plain."
    assert ko.json()["detail"]["message"] == (
        "text/plain 형식은 받을 수 없습니다. application/json 형식으로 보내세요."
    )
    assert en.json()["detail"]["code"] == ko.json()["detail"]["code"] == "unsupported_media_type"
    nf = httpx.get(
        f"{module_server.url}/api/v1/nowhere", headers={"Accept-Language": "ko"}, timeout=10
    )
    assert nf.status_code == 404
    assert nf.json()["detail"] == {"code": "not_found", "message": "찾을 수 없습니다."}


def test_lazy_messages_render_per_reader():
    err = Conflict("staff_exists", lazy_gettext("This e-mail address already has an account."))
    assert err.detail("en") == {
        "code": "staff_exists",
        "message": "This e-mail address already has an account.",
    }
    assert err.detail("ko")["message"] == "이 이메일 주소로 이미 계정이 있습니다."
    assert err.detail(None)["message"] == "이 이메일 주소로 이미 계정이 있습니다."


@pytest.mark.parametrize("locale", ["en", "ko", None, "zz"])
def test_an_unknown_code_with_a_plain_message_keeps_the_message(locale):
    assert message_for("brand_new_code", "Something specific.", locale) == "Something specific."
    assert Invalid("brand_new_code", "Something specific.").text(locale) == "Something specific."
