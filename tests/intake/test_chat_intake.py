"""Chat intake over a real socket: created, joined, redelivered, refused — never lost or doubled."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from consult119.realtime.models import Event
from consult119.tickets.models import Message, Ticket

CASE_RE = re.compile(r"^C119-(\d{4})-(\d{6})$")


def chat(server, **overrides):
    body = {"source": "kakao", "sender_id": "u1", "message_id": "m1", "text": "가슴이 아파요"}
    body.update(overrides)
    return httpx.post(f"{server.url}/api/v1/intake/chat", json=body, timeout=10)


def counts(db):
    with db.read_session() as s:
        return (
            s.scalar(select(func.count()).select_from(Ticket)),
            s.scalar(select(func.count()).select_from(Message)),
        )


def test_new_case_then_join_then_duplicate(module_server, db):
    first = chat(module_server)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] is True and body["duplicate"] is False
    assert CASE_RE.match(body["case_number"])
    assert body["case_number"] in body["reply"]["text"]

    again = chat(module_server)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["message_id"] == body["message_id"]

    follow = chat(module_server, message_id="m2", text="숨쉬기도 힘들어요")
    assert follow.status_code == 200
    assert follow.json()["ticket_id"] == body["ticket_id"]
    assert follow.json()["created"] is False
    assert counts(db) == (1, 2)

    with db.read_session() as s:
        names = [e.name for e in s.scalars(select(Event).order_by(Event.id))]
    assert names == ["ticket.created", "alert.raised", "message.created", "message.created"]


def test_concurrent_senders_get_distinct_gap_free_numbers(module_server, db):
    n = 40

    def send(i):
        return chat(module_server, sender_id=f"sender-{i}", message_id=f"msg-{i}")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(send, range(n)))
    assert all(r.status_code == 201 for r in results), [
        r.text for r in results if r.status_code != 201
    ]
    seqs = sorted(int(CASE_RE.match(r.json()["case_number"]).group(2)) for r in results)
    assert seqs == list(range(1, n + 1))


def test_same_message_twenty_times_at_once_makes_one_case(module_server, db):
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(
            pool.map(
                lambda _: chat(module_server, sender_id="twenty", message_id="same"), range(20)
            )
        )
    assert all(r.status_code in (200, 201) for r in results), [r.text for r in results]
    assert sum(r.json()["created"] for r in results) == 1
    assert len({r.json()["ticket_id"] for r in results}) == 1
    assert len({r.json()["message_id"] for r in results}) == 1
    assert counts(db) == (1, 1)


def test_distinct_messages_from_one_new_sender_at_once_share_one_case(module_server, db):
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(
            pool.map(
                lambda i: chat(module_server, sender_id="new-sender", message_id=f"x{i}"), range(10)
            )
        )
    assert all(r.status_code in (200, 201) for r in results), [r.text for r in results]
    assert sum(r.json()["created"] for r in results) == 1
    assert counts(db) == (1, 10)


def test_acknowledged_messages_survive_sigkill(start_server, db):
    server = start_server()
    acked = []
    for i in range(30):
        r = chat(server, sender_id=f"k{i % 7}", message_id=f"kill-{i}")
        assert r.status_code in (200, 201)
        acked.append(r.json()["message_id"])
    server.kill()
    with db.read_session() as s:
        stored = set(s.scalars(select(Message.id)))
    assert set(acked) <= stored
    restarted = start_server()
    r = chat(restarted, sender_id="k0", message_id="kill-0")
    assert r.json()["duplicate"] is True


BAD_BODIES = [
    (b"{not json", "application/json", 422, "invalid_json"),
    (b"[1, 2]", "application/json", 422, "not_an_object"),
    (
        json.dumps({"source": "kakao", "sender_id": "a", "message_id": "b"}).encode(),
        "application/json",
        422,
        "invalid_field",
    ),
    (
        json.dumps(
            {"source": "kakao", "sender_id": "a", "message_id": "b", "text": "   "}
        ).encode(),
        "application/json",
        422,
        "invalid_field",
    ),
    (
        json.dumps(
            {"source": "kakao", "sender_id": "a", "message_id": "b", "text": "x" * 5001}
        ).encode(),
        "application/json",
        422,
        "invalid_field",
    ),
    (
        json.dumps(
            {"source": "kakao", "sender_id": "a" * 201, "message_id": "b", "text": "hi"}
        ).encode(),
        "application/json",
        422,
        "invalid_field",
    ),
    (
        json.dumps(
            {"source": "kakao", "sender_id": "a", "message_id": "b", "text": "a\x00b"}
        ).encode(),
        "application/json",
        422,
        "invalid_field",
    ),
    (
        json.dumps(
            {"source": "pigeon", "sender_id": "a", "message_id": "b", "text": "hi"}
        ).encode(),
        "application/json",
        422,
        "invalid_field",
    ),
    (
        json.dumps(
            {"source": "kakao", "sender_id": "a", "message_id": "b", "text": "x" * 70000}
        ).encode(),
        "application/json",
        413,
        "body_too_large",
    ),
    (b"source=kakao", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b"\xff\xfe\x00garbage", "application/json", 422, "invalid_json"),
]


@pytest.mark.parametrize(("body", "ctype", "status", "code"), BAD_BODIES)
def test_bad_input_is_refused_and_stores_nothing(module_server, db, body, ctype, status, code):
    r = httpx.post(
        f"{module_server.url}/api/v1/intake/chat",
        content=body,
        headers={"content-type": ctype},
        timeout=10,
    )
    assert r.status_code == status, r.text
    assert r.json()["detail"]["code"] == code
    assert counts(db) == (0, 0)
    assert httpx.get(f"{module_server.url}/healthz").status_code == 200


def test_signature_required_when_secret_set(start_server, db):
    server = start_server(CONSULT119_INTAKE_SECRET="s3cret")
    body = json.dumps(
        {"source": "telegram", "sender_id": "T1", "message_id": "1", "text": "help"}
    ).encode()
    url = f"{server.url}/api/v1/intake/chat"
    headers = {"content-type": "application/json"}
    assert httpx.post(url, content=body, headers=headers).status_code == 401
    bad = {**headers, "X-Consult119-Signature": "sha256=" + "0" * 64}
    assert httpx.post(url, content=body, headers=bad).json()["detail"]["code"] == "bad_signature"
    assert counts(db) == (0, 0)
    good_sig = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    ok = httpx.post(
        url, content=body, headers={**headers, "X-Consult119-Signature": f"sha256={good_sig}"}
    )
    assert ok.status_code == 201


def test_flooding_sender_is_rate_limited_but_others_are_not(module_server, db):
    # All at once, as a flood comes: one after another on a loaded machine, each can take long
    # enough for the bucket (30, then 1 a second) to refill between them.
    with ThreadPoolExecutor(max_workers=40) as pool:
        responses = pool.map(
            lambda i: chat(module_server, sender_id="flood", message_id=f"f{i}"), range(40)
        )
        statuses = [r.status_code for r in responses]
    assert 429 in statuses
    assert chat(module_server, sender_id="calm", message_id="c1").status_code == 201


def test_two_processes_taking_the_same_senders_lose_and_double_nothing(backend, start_server, db):
    """Every message delivered to two server processes at once, senders interleaved, so their
    group commits hold the same senders and race for the same case-number counter. Every
    delivery answers 2xx (no deadlock victim reaches the caller), each message is stored once
    and each sender has one case."""
    if backend != "postgresql":
        pytest.skip("several processes share PostgreSQL; SQLite serves one process")
    servers = [start_server(), start_server()]
    senders, per_sender = 12, 6
    jobs = [
        (server, f"multi-{s}", f"multi-{s}-{m}")
        for m in range(per_sender)
        for s in range(senders)
        for server in (servers if (s + m) % 2 else servers[::-1])
    ]

    def send(job):
        server, sender, message = job
        return chat(server, sender_id=sender, message_id=message, text=f"{message} 열이 나요")

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(send, jobs))
    assert all(r.status_code in (200, 201) for r in results), [
        r.text for r in results if r.status_code not in (200, 201)
    ]
    assert sum(r.json()["created"] for r in results) == senders
    by_message = {}
    for r in results:
        by_message.setdefault(r.json()["message_id"], set()).add(r.json()["ticket_id"])
    assert len(by_message) == senders * per_sender
    assert all(len(tickets) == 1 for tickets in by_message.values())
    assert counts(db) == (senders, senders * per_sender)
