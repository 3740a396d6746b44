"""Web chat with a real ``websockets`` client: acknowledgement, live staff replies, resume."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from sqlalchemy import select

from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.tickets.models import Contact, Message, Ticket
from tests.channels.conftest import wait_for
from tests.factories import make_reply


def new_session(server, **body) -> str:
    r = httpx.post(f"{server.url}/api/v1/webchat/sessions", json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["token"]


async def recv(ws, kind: str, timeout: float = 15):
    """The next frame of type ``kind`` (others before it are returned too, for inspection)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["type"] == kind:
            return frame


def test_message_ack_live_reply_and_resume(live_server, db):
    token = new_session(
        live_server,
        name="박서연",
        locale="ko",
        country="jp",
        timezone="Asia/Tokyo",
        phone="090-1234-5678",
    )

    async def first_visit():
        async with websockets.connect(f"{live_server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await recv(ws, "ready")
            await ws.send(
                json.dumps({"type": "message", "text": "아이가 열이 40도예요", "client_id": "c1"})
            )
            ack = await recv(ws, "ack")
            # The same client_id again (a resend after a flaky network): nothing new.
            await ws.send(
                json.dumps({"type": "message", "text": "아이가 열이 40도예요", "client_id": "c1"})
            )
            again = await recv(ws, "ack")
            assert again["message_id"] == ack["message_id"] and again["duplicate"] is True
            assert (ack["created"], ack["reopened"], again["reopened"]) == (True, False, False)
            reply_id = await asyncio.to_thread(make_reply, db, ack_ticket(db), "해열제를 드세요.")
            staff = await recv(ws, "message")
            return ack, reply_id, staff

    ack, reply_id, staff = asyncio.run(first_visit())
    assert ack["client_id"] == "c1" and ack["case_number"] in ack["text"]
    assert staff == {
        "type": "message",
        "from": "staff",
        "id": reply_id,
        "text": "해열제를 드세요.",
        "created_at": staff["created_at"],
    }
    with db.read_session() as s:
        contact = s.scalars(select(Contact)).one()
        ticket = s.scalars(select(Ticket)).one()
        assert (contact.country, contact.timezone, contact.phone_e164) == (
            "JP",
            "Asia/Tokyo",
            "+819012345678",
        )
        assert ticket.source == "webchat" and ticket.channel == "chat"

    def delivered():
        with db.read_session() as s:
            return s.get(Message, reply_id).delivery == "sent"

    wait_for(delivered, what="the reply recorded as delivered")
    with db.read_session() as s:
        events = [
            e.data for e in s.scalars(select(Event).where(Event.name == "message.delivery_changed"))
        ]
    assert events == [
        {"message_id": reply_id, "ticket_id": ticket.id, "delivery": "sent", "attempts": 1}
    ]

    # While the traveller is away, two replies; back with resume_after: both, in order, once.
    away1 = make_reply(db, ticket.id, "물을 충분히 마시게 하세요.")
    away2 = make_reply(db, ticket.id, "경련이 있으면 바로 응급실로 가세요.")

    async def come_back(resume_after):
        async with websockets.connect(f"{live_server.ws_url}/ws/chat") as ws:
            await ws.send(
                json.dumps({"type": "auth", "token": token, "resume_after": resume_after})
            )
            frames = [await recv(ws, "message"), await recv(ws, "message")]
            await ws.send(json.dumps({"type": "ping"}))
            await recv(ws, "pong")
            return frames

    frames = asyncio.run(come_back(reply_id))
    assert [f["id"] for f in frames] == [away1, away2]

    def statuses():
        with db.read_session() as s:
            return {i.message_id: i.status for i in s.scalars(select(OutboxItem))}

    wait_for(lambda: set(statuses().values()) == {"sent"}, what="all replies delivered")
    assert set(statuses()) == {reply_id, away1, away2}

    # A new page without memory gets the whole conversation's replies again.
    async def fresh_page():
        async with websockets.connect(f"{live_server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            return [(await recv(ws, "message"))["id"] for _ in range(3)]

    assert asyncio.run(fresh_page()) == [reply_id, away1, away2]


def ack_ticket(db) -> int:
    with db.read_session() as s:
        return s.scalars(select(Ticket.id)).one()


def test_bad_token_bad_frames_and_flooding(live_server, db):
    async def bad_token():
        async with websockets.connect(f"{live_server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": "wc1.e30.forged"}))
            with pytest.raises(websockets.ConnectionClosed) as exc:
                await ws.recv()
            return exc.value.rcvd.code

    assert asyncio.run(bad_token()) == 4401

    token = new_session(live_server)

    async def misbehave():
        async with websockets.connect(f"{live_server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await recv(ws, "ready")
            codes = []
            for frame in [
                "not json",
                json.dumps({"type": "dance"}),
                json.dumps({"type": "message", "text": "", "client_id": "x"}),
                json.dumps({"type": "message", "text": "a" * 5001, "client_id": "y"}),
                json.dumps({"type": "message", "text": "a\x00b", "client_id": "z"}),
            ]:
                await ws.send(frame)
                codes.append((await recv(ws, "error"))["code"])
            # Flooding: one session cannot push more than its budget.
            for i in range(40):
                await ws.send(
                    json.dumps({"type": "message", "text": f"m{i}", "client_id": f"f{i}"})
                )
            # One answer per frame; the case frame that follows the first ack is no answer.
            kinds = []
            while len(kinds) < 40:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
                if frame["type"] != "case":
                    kinds.append(frame)
            return codes, kinds

    codes, kinds = asyncio.run(misbehave())
    assert codes == [
        "invalid_json",
        "unknown_frame",
        "invalid_field",
        "invalid_field",
        "invalid_field",
    ]
    acks = [k for k in kinds if k["type"] == "ack"]
    limited = [k for k in kinds if k["type"] == "error" and k["code"] == "rate_limited"]
    assert len(acks) + len(limited) == 40 and limited and acks
    with db.read_session() as s:
        assert len(s.scalars(select(Message)).all()) == len(acks)

    r = httpx.post(f"{live_server.url}/api/v1/webchat/sessions", json={"phone": "12"}, timeout=10)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "invalid_phone"
    r = httpx.post(
        f"{live_server.url}/api/v1/webchat/sessions",
        content=b"[]",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 422
