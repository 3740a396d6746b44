"""KakaoTalk skill and LINE webhook from recorded payloads, with replies back on each."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json

import httpx
from sqlalchemy import func, select

from consult119.outbound.models import OutboxItem
from consult119.tickets.models import Message, Ticket
from tests.channels.conftest import FAST_OUTBOX, fixture_bytes, fixture_json, wait_for
from tests.factories import make_reply

KAKAO_SECRET = "kakao-skill-shared-secret"
LINE_SECRET = "line-channel-secret-0123"


def count(db, model, *where) -> int:
    with db.read_session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def skill(server, payload, *, secret=KAKAO_SECRET, **headers):
    return httpx.post(
        f"{server.url}/api/v1/intake/kakao",
        content=json.dumps(payload, ensure_ascii=False).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Consult119-Skill-Secret": secret,
            **headers,
        },
        timeout=10,
    )


def texts(response):
    return [o["simpleText"]["text"] for o in response.json()["template"]["outputs"]]


def test_kakao_skill_answers_and_delivers_waiting_replies(start_server, db):
    server = start_server(
        CONSULT119_KAKAO_SKILL_SECRET=KAKAO_SECRET,
        CONSULT119_KAKAO_REQUEST_ID_HEADER="X-Request-Id",
    )
    payload = fixture_json("kakao_skill.json")
    r = skill(server, payload)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == "2.0"
    with db.read_session() as s:
        ticket = s.scalars(select(Ticket)).one()
        message = s.scalars(select(Message)).one()
    assert (ticket.source, ticket.channel) == ("kakao", "chat")
    assert message.meta == {"plusfriend_user_key": "Xk3Lz9Qw2Rt8"}
    [ack] = texts(r)
    assert ticket.case_number in ack and len(ack) <= 1000
    labels = [q["label"] for q in body["template"]["quickReplies"]]
    # A new case is asked where the patient is first (land / sea / air), then the usual four.
    assert labels == [
        "육상(땅 위)",
        "해상(선박)",
        "항공(기내)",
        "나이·성별",
        "증상 시작 시각",
        "복용 중인 약",
        "사진 보내기",
    ]
    assert all(len(label) <= 14 for label in labels)

    # Kakao sends no message id: the same request again (a retry) makes nothing new.
    assert skill(server, payload).status_code == 200
    assert count(db, Message) == 1
    # A configured request-id header, when present, is the message id.
    assert skill(server, payload, **{"X-Request-Id": "req-1"}).status_code == 200
    assert skill(server, payload, **{"X-Request-Id": "req-1"}).status_code == 200
    assert count(db, Message) == 2

    # Staff replies wait for the traveller's next skill call (no bot event API configured).
    long_reply = "머리를 움직이지 않게 하세요. " * 80  # over 1,000 characters
    first = make_reply(db, ticket.id, "의식 수준을 계속 확인하세요.")
    second = make_reply(db, ticket.id, long_reply)
    tap = copy.deepcopy(payload)
    tap["userRequest"]["utterance"] = "환자 나이와 성별"  # the quick reply
    out = texts(skill(server, tap))
    # The long reply does not fit beside the first: it waits for a response with all the room.
    assert out[0] == "의식 수준을 계속 확인하세요." and len(out) == 2
    assert out[1].startswith("환자의 나이와 성별을 적어 주세요") and ticket.case_number in out[1]

    def deliveries():
        with db.read_session() as s:
            return [s.get(Message, m).delivery for m in (first, second)]

    assert deliveries() == ["sent", "queued"]
    tap["userRequest"]["utterance"] = "34세 남성입니다"
    out = texts(skill(server, tap))
    assert len(out) == 3 and all(len(t) <= 1000 for t in out)
    assert "".join(out[:2]) == long_reply  # split over two outputs, nothing lost
    assert ticket.case_number in out[2]
    assert deliveries() == ["sent", "sent"]
    # Delivered once: the next call carries only the acknowledgement.
    tap["userRequest"]["utterance"] = "어지러움은 없습니다"
    assert len(texts(skill(server, tap))) == 1


def test_kakao_refusals(start_server, db):
    server = start_server(CONSULT119_KAKAO_SKILL_SECRET=KAKAO_SECRET)
    payload = fixture_json("kakao_skill.json")
    assert skill(server, payload, secret="wrong").status_code == 401
    for broken in [
        {},
        {"userRequest": {"utterance": "hi"}},
        {"userRequest": {"utterance": "", "user": {"id": "u"}}},
        {"userRequest": {"utterance": "x" * 5001, "user": {"id": "u"}}},
        {"userRequest": {"utterance": "hi", "user": {"id": "u" * 201}}},
    ]:
        r = skill(server, broken)
        assert r.status_code == 422, r.text
        assert r.json()["detail"]["code"] == "invalid_field"
    r = httpx.post(
        f"{server.url}/api/v1/intake/kakao",
        content=b"{not json",
        headers={"Content-Type": "application/json", "X-Consult119-Skill-Secret": KAKAO_SECRET},
        timeout=10,
    )
    assert r.status_code == 422 and r.json()["detail"]["code"] == "invalid_json"
    assert count(db, Ticket) == 0


def test_kakao_bot_event_api_pushes_replies(start_server, db, recorder):
    recorder.statuses = [503]  # the API is down once, then up
    server = start_server(
        CONSULT119_KAKAO_EVENT_API_URL=recorder.url,
        CONSULT119_KAKAO_EVENT_API_KEY="kakao-rest-key",
        **FAST_OUTBOX,
    )
    payload = fixture_json("kakao_skill.json")
    assert skill(server, payload).status_code == 200
    with db.read_session() as s:
        ticket_id = s.scalars(select(Ticket.id)).one()
    reply = make_reply(db, ticket_id, "119에 먼저 전화하세요.")
    wait_for(recorder.delivered, what="the bot event call")
    sent = recorder.delivered()[0]
    assert sent["headers"]["Authorization"] == "KakaoAK kakao-rest-key"
    assert sent["json"]["user"] == [
        {"type": "botUserKey", "id": payload["userRequest"]["user"]["id"]}
    ]
    assert sent["json"]["event"]["data"]["text"] == "119에 먼저 전화하세요."

    def recorded():
        with db.read_session() as s:
            return s.get(Message, reply).delivery == "sent"

    wait_for(recorded, what="the delivery recorded")
    with db.read_session() as s:
        assert s.scalars(select(OutboxItem.attempts)).one() == 2
    assert len(recorder.delivered()) == 1


def line_post(server, body: bytes, secret=LINE_SECRET):
    sig = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return httpx.post(
        f"{server.url}/api/v1/intake/line",
        content=body,
        headers={"Content-Type": "application/json", "X-Line-Signature": sig},
        timeout=10,
    )


def test_line_webhook_and_push_replies(start_server, db, recorder):
    recorder.statuses = [500]
    server = start_server(
        CONSULT119_LINE_CHANNEL_SECRET=LINE_SECRET,
        CONSULT119_LINE_CHANNEL_TOKEN="line-token",
        CONSULT119_LINE_PUSH_URL=recorder.url,
        **FAST_OUTBOX,
    )
    body = fixture_bytes("line_webhook.json")
    r = line_post(server, body)
    assert r.status_code == 200, r.text
    assert r.json()["taken"] == 2  # text and image; the follow event is not a message
    assert line_post(server, body).status_code == 200  # LINE's redelivery
    with db.read_session() as s:
        ticket = s.scalars(select(Ticket)).one()
        inbound = s.scalars(
            select(Message).where(Message.direction == "inbound").order_by(Message.id)
        ).all()
    assert [m.text for m in inbound][1] == "[image]"
    assert inbound[0].external_id == "01H810YECXQQZ37VAXPF6H9E6T"
    assert inbound[0].sent_at.year == 2023

    # The acknowledgement and a staff reply go out by push; a failed attempt is retried.
    reply = make_reply(db, ticket.id, "지금 바로 119(일본)로 전화하세요.")
    wait_for(lambda: len(recorder.delivered()) == 2, what="two LINE pushes")
    pushed = sorted(recorder.delivered(), key=lambda r: r["json"]["messages"][0]["text"])
    assert all(p["json"]["to"] == "U4af4980629e2b1c8a3e5c2a9f0b7d6e5" for p in pushed)
    assert all(p["headers"]["Authorization"] == "Bearer line-token" for p in pushed)
    texts_sent = [p["json"]["messages"][0]["text"] for p in pushed]
    assert "지금 바로 119(일본)로 전화하세요." in texts_sent
    assert any(ticket.case_number in t for t in texts_sent)
    retry_keys = [r["headers"]["X-Line-Retry-Key"] for r in recorder.requests]
    assert len(set(retry_keys)) == 2  # the retried push reused its key

    def recorded():
        with db.read_session() as s:
            return s.get(Message, reply).delivery == "sent"

    wait_for(recorded, what="delivery recorded")


def test_line_refusals(start_server, db):
    server = start_server(CONSULT119_LINE_CHANNEL_SECRET=LINE_SECRET)
    body = fixture_bytes("line_webhook.json")
    assert line_post(server, body, secret="other").status_code == 401
    r = httpx.post(
        f"{server.url}/api/v1/intake/line",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 401
    broken = json.loads(body)
    del broken["events"][1]["webhookEventId"]
    r = line_post(server, json.dumps(broken).encode())
    assert r.status_code == 422
    assert count(db, Message) == 0  # the valid first event was not stored either
    assert line_post(server, b'{"destination": "x", "events": []}').status_code == 200


def test_line_not_configured(live_server, db):
    r = line_post(live_server, fixture_bytes("line_webhook.json"))
    assert r.status_code == 503 and r.json()["detail"]["code"] == "channel_not_configured"
