"""Channels and their secrets: off while unset, never spoken for by the gateway, and rate
limits that a redelivery never pays for (real servers, the real limiter)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from consult119.tickets.models import Message, Ticket
from tests.channels.conftest import fixture_bytes, fixture_json
from tests.conftest import LiveServer

LINE_SECRET = "line-channel-secret-0123"
INTAKE_SECRET = "gateway-secret-4567"
STRICT = {"CONSULT119_ALLOW_UNSIGNED_CHANNELS": "false"}


def count(db, model) -> int:
    with db.read_session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def line_post(server: LiveServer, payload: dict) -> httpx.Response:
    body = json.dumps(payload).encode()
    sig = base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest())
    return httpx.post(
        f"{server.url}/api/v1/intake/line",
        content=body,
        headers={"Content-Type": "application/json", "X-Line-Signature": sig.decode()},
        timeout=30,
    )


def line_event(user: str, event_id: str, text: str) -> dict:
    return {
        "type": "message",
        "message": {"type": "text", "id": f"msg-{event_id}", "text": text},
        "webhookEventId": event_id,
        "timestamp": 1692251666727,
        "source": {"type": "user", "userId": user},
    }


def signed_chat(server: LiveServer, payload: dict) -> httpx.Response:
    body = json.dumps(payload).encode()
    sig = hmac.new(INTAKE_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(
        f"{server.url}/api/v1/intake/chat",
        content=body,
        headers={"Content-Type": "application/json", "X-Consult119-Signature": f"sha256={sig}"},
        timeout=10,
    )


def _serve(database_url: str, tmp_path_factory, name: str, **env: str) -> Iterator[LiveServer]:
    server = LiveServer(database_url, env_extra=env)
    server.start(tmp_path_factory.mktemp(name) / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict_server(database_url, tmp_path_factory) -> Iterator[LiveServer]:
    """Unsigned channels not allowed; only LINE has its secret."""
    yield from _serve(
        database_url,
        tmp_path_factory,
        "strict",
        CONSULT119_LINE_CHANNEL_SECRET=LINE_SECRET,
        **STRICT,
    )


@pytest.fixture(scope="module")
def signed_server(database_url, tmp_path_factory) -> Iterator[LiveServer]:
    """Every channel signed: gateway, Kakao (its request-id header on) and LINE."""
    yield from _serve(
        database_url,
        tmp_path_factory,
        "signed",
        CONSULT119_INTAKE_SECRET=INTAKE_SECRET,
        CONSULT119_KAKAO_SKILL_SECRET="kakao-secret",
        CONSULT119_KAKAO_REQUEST_ID_HEADER="X-Request-Id",
        CONSULT119_LINE_CHANNEL_SECRET=LINE_SECRET,
        **STRICT,
    )


# -- a channel without its secret is off --------------------------------------------------------
def test_channels_without_their_secret_are_off(strict_server, db):
    url = strict_server.url
    chat = {"source": "telegram", "sender_id": "t1", "message_id": "1", "text": "help"}
    for locale in ("en", "ko"):
        r = httpx.post(
            f"{url}/api/v1/intake/chat", json=chat, headers={"Accept-Language": locale}, timeout=10
        )
        assert r.status_code == 503, r.text
        assert r.json()["detail"]["code"] == "channel_not_configured"
        assert "CONSULT119_INTAKE_SECRET" in r.json()["detail"]["message"]
        assert r.headers["content-language"] == locale
    messages = {
        httpx.post(
            f"{url}/api/v1/intake/chat", json=chat, headers={"Accept-Language": lang}, timeout=10
        ).json()["detail"]["message"]
        for lang in ("en", "ko")
    }
    assert len(messages) == 2  # translated

    # A forged skill request carrying a traveller's user key gets nothing from Kakao.
    r = httpx.post(f"{url}/api/v1/intake/kakao", json=fixture_json("kakao_skill.json"), timeout=10)
    assert r.status_code == 503 and r.json()["detail"]["code"] == "channel_not_configured"
    assert "CONSULT119_KAKAO_SKILL_SECRET" in r.json()["detail"]["message"]
    assert "template" not in r.json()

    r = httpx.post(
        f"{url}/api/v1/intake/email",
        content=fixture_bytes("outlook_euckr.eml"),
        headers={"Content-Type": "message/rfc822"},
        timeout=10,
    )
    assert r.status_code == 503 and r.json()["detail"]["code"] == "channel_not_configured"
    call = {"call_id": "c1", "event": "missed", "caller_number": "+819012345678"}
    r = httpx.post(f"{url}/api/v1/intake/phone/events", json=call, timeout=10)
    assert r.status_code == 503 and r.json()["detail"]["code"] == "channel_not_configured"
    assert count(db, Message) == 0

    # The channel with its secret works; the web chat is no signed channel and stays open.
    r = line_post(strict_server, {"events": [line_event("U-strict", "ev-strict-1", "help")]})
    assert r.status_code == 200 and r.json()["taken"] == 1
    r = httpx.post(f"{url}/api/v1/webchat/sessions", json={}, timeout=10)
    assert r.status_code == 201
    assert count(db, Message) == 1
    assert "open unsigned" not in strict_server.log_path.read_text()


def test_gateway_refuses_sources_with_their_own_adapter(signed_server, db):
    base = {"sender_id": "U4af4980629e2b1c8a3e5c2a9f0b7d6e5", "text": "help"}
    for n, source in enumerate(("line", "kakao", "webchat")):
        r = signed_chat(signed_server, {**base, "source": source, "message_id": f"own-{n}"})
        assert r.status_code == 422, r.text
        assert r.json()["detail"]["code"] == "source_has_own_adapter"
        assert r.json()["detail"]["field"] == "source"
    assert count(db, Message) == 0
    r = signed_chat(signed_server, {**base, "source": "telegram", "message_id": "tg-1"})
    assert r.status_code == 201, r.text


def test_an_unsigned_gateway_speaks_only_for_a_channel_open_anyway(start_server, db):
    """Even in a demo with unsigned channels allowed, the gateway never takes a request the
    source's own adapter would refuse: LINE checks its secret, a web chat its session, and Kakao
    its skill secret once one is set. Only Kakao with no secret (open anyway) goes through."""
    base = {"sender_id": "U4af4980629e2b1c8a3e5c2a9f0b7d6e5", "text": "help"}
    demo = start_server(CONSULT119_LINE_CHANNEL_SECRET=LINE_SECRET)
    kakao_signed = start_server(CONSULT119_KAKAO_SKILL_SECRET="kakao-secret")
    for n, (server, source) in enumerate(
        [(demo, "line"), (demo, "webchat"), (kakao_signed, "kakao")]
    ):
        r = httpx.post(
            f"{server.url}/api/v1/intake/chat",
            json={**base, "source": source, "message_id": f"demo-{n}"},
            timeout=10,
        )
        assert r.status_code == 422, r.text
        assert r.json()["detail"]["code"] == "source_has_own_adapter"
    assert count(db, Message) == 0
    r = httpx.post(
        f"{demo.url}/api/v1/intake/chat",
        json={**base, "source": "kakao", "message_id": "demo-kakao"},
        timeout=10,
    )
    assert r.status_code == 201, r.text


def test_unsigned_channels_are_named_once_at_start(start_server, db):
    server = start_server(CONSULT119_KAKAO_SKILL_SECRET="kakao-secret")
    [line] = [x for x in server.log_path.read_text().splitlines() if "open unsigned" in x]
    assert "chat gateway (CONSULT119_INTAKE_SECRET unset)" in line
    assert "email (CONSULT119_INTAKE_SECRET unset)" in line
    assert "kakao" not in line  # it has its secret


# -- rate limits per event, and never for a redelivery ------------------------------------------
def test_line_flooding_user_costs_the_others_nothing(signed_server, db):
    flood = [line_event("U-flood", f"ev-flood-{i}", f"flood {i}") for i in range(31)]
    others = [line_event("U-calm-a", "ev-calm-a", "help"), line_event("U-calm-b", "ev-b", "hi")]
    payload = {"events": [*flood, *others]}
    for delivery in range(4):  # the first delivery, then LINE's redeliveries
        r = line_post(signed_server, payload)
        assert r.status_code == 200, (delivery, r.text)
        assert (r.json()["taken"], r.json()["skipped"]) == (32, 1)
    with db.read_session() as s:
        senders = s.scalars(select(Message.external_id).where(Message.source == "line")).all()
    assert len(senders) == 32 and {"ev-calm-a", "ev-b"} <= set(senders)
    assert "ev-flood-30" not in senders  # the 31st in one burst is the one skipped
    log = signed_server.log_path.read_text()
    assert "LINE webhook: 1 of 33 messages over their sender's rate limit, not stored" in log


def test_redeliveries_never_use_up_the_limit(signed_server, db):
    one = {"events": [line_event("U-redeliver", "ev-once", "help")]}
    assert {line_post(signed_server, one).json()["taken"] for _ in range(50)} == {1}
    fresh = {"events": [line_event("U-redeliver", f"ev-new-{i}", "more") for i in range(29)]}
    r = line_post(signed_server, fresh)
    assert (r.json()["taken"], r.json()["skipped"]) == (29, 0)  # 30 - the first one

    chat = {"source": "telegram", "sender_id": "tg-redeliver", "message_id": "m1", "text": "help"}
    assert {signed_chat(signed_server, chat).status_code for _ in range(50)} <= {200, 201}
    for i in range(29):
        r = signed_chat(signed_server, {**chat, "message_id": f"m-new-{i}"})
        assert r.status_code == 200, (i, r.text)

    skill = copy.deepcopy(fixture_json("kakao_skill.json"))
    skill["userRequest"]["user"]["id"] = "kakao-redeliver"
    headers = {"X-Consult119-Skill-Secret": "kakao-secret", "X-Request-Id": "req-once"}
    kakao = f"{signed_server.url}/api/v1/intake/kakao"
    assert {
        httpx.post(kakao, json=skill, headers=headers, timeout=10).status_code for _ in range(50)
    } == {200}
    assert count(db, Ticket) == 3
