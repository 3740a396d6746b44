"""Alerts over HTTP on live servers: who may list and acknowledge them, and one alert per cause
when two server processes on one database take the same causes at once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from consult119.db import utcnow
from consult119.realtime.models import Event
from tests.alerts.sink import Sink, body_of, signature_ok
from tests.factories import add_shift, make_staff, make_ticket

CHEST_PAIN = "가슴이 아파요"
NOT_BREATHING = "아이가 숨을 안 쉬어요"


def post_chat(server, sender: str, message_id: str, text: str, source: str = "telegram") -> dict:
    r = httpx.post(
        f"{server.url}/api/v1/intake/chat",
        json={"source": source, "sender_id": sender, "message_id": message_id, "text": text},
        timeout=20,
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_list_and_acknowledge(live_server, db):
    server = live_server
    doctor, emt, admin, manager = (
        make_staff(db, role, on_duty=True) for role in ("doctor", "emt", "admin", "manager")
    )
    # On Kakao (fetched by the traveller's next message), not Telegram: a Telegram reply has no
    # sender and fails at once, raising its own delivery_failed alert (tests/outbound).
    case = post_chat(server, "live-1", "live-1-a", CHEST_PAIN, source="kakao")["ticket_id"]
    post_chat(server, "live-2", "live-2-a", "여권을 잃어버렸어요")
    h = {who.role: who.headers(server.url) for who in (doctor, emt, admin, manager)}
    url = f"{server.url}/api/v1/alerts"

    for role in ("doctor", "emt", "admin"):
        r = httpx.get(url, params={"state": "open"}, headers=h[role])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == 1
        [item] = body["items"]
        assert {"id", "kind", "ticket_id", "level", "raised_at", "acknowledged_at"} <= set(item)
        assert {"acknowledged_by", "data"} <= set(item)
        assert item["kind"] == "red_flag" and item["ticket_id"] == case and item["level"] == 2
    r = httpx.get(url, headers=h["manager"])
    assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role"
    assert httpx.get(url).status_code == 401
    r = httpx.get(url, params={"state": "gone"}, headers=h["doctor"])
    assert r.status_code == 422 and r.json()["detail"]["code"] == "invalid_field"

    alert_id = item["id"]
    r = httpx.post(f"{url}/{alert_id}/ack", headers=h["emt"])
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_by"] == emt.id and r.json()["state"] == "open"
    again = httpx.post(f"{url}/{alert_id}/ack", headers=h["doctor"])
    assert again.status_code == 200 and again.json()["acknowledged_by"] == emt.id
    assert httpx.post(f"{url}/{alert_id}/ack", headers=h["manager"]).status_code == 403
    r = httpx.post(f"{url}/999999/ack", headers=h["doctor"])
    assert r.status_code == 404 and r.json()["detail"]["code"] == "alert_not_found"

    # Acknowledged, it stays open until answered; unacknowledged-only lists leave it out.
    assert httpx.get(url, headers=h["doctor"]).json()["total"] == 1
    r = httpx.get(url, params={"acknowledged": "false"}, headers=h["doctor"])
    assert r.json()["total"] == 0
    r = httpx.post(
        f"{server.url}/api/v1/tickets/{case}/messages",
        json={"text": "지금 119에 전화하세요"},
        headers=h["doctor"],
    )
    assert r.status_code in (200, 201), r.text
    assert httpx.get(url, headers=h["doctor"]).json()["total"] == 0
    [done] = httpx.get(url, params={"state": "resolved"}, headers=h["doctor"]).json()["items"]
    assert done["id"] == alert_id and done["state"] == "resolved"


@pytest.fixture
def pager_sink():
    sink = Sink().start()
    yield sink
    sink.stop()


def test_two_processes_raise_each_cause_once(start_server, db, backend, pager_sink):
    """Two servers on one database, both schedulers ticking every 0.2 s: every traveller
    writes twice at once (one message to each process), each a red flag; the KTAS 1 cases
    breach their immediate target in both schedulers at once, and stay unclaimed past a
    second (``unclaimed_critical``) in both at once; every alert, unacknowledged for a second,
    escalates in both schedulers at once and is paged once by one of the two dispatchers."""
    if backend != "postgresql":
        pytest.skip("the two-process race is PostgreSQL's (SQLite serialises its writers)")
    env = {
        "CONSULT119_SCHEDULER_INTERVAL_SECONDS": "0.2",
        "CONSULT119_ESCALATE_AFTER_SECONDS": "1",
        "CONSULT119_UNCLAIMED_CRITICAL_SECONDS": "1",
        "CONSULT119_ALERT_WEBHOOK_URL": pager_sink.url,
        "CONSULT119_ALERT_WEBHOOK_SECRET": "two-process-pager",
        "CONSULT119_OUTBOUND_POLL_SECONDS": "0.2",
    }
    now = utcnow()
    doctor = make_staff(db, "doctor", on_duty=True, now=now)
    # The roster has a doctor for the next day and a half: no roster_gap (not urgent, so never
    # escalated) among the alerts counted below.
    add_shift(db, doctor.id, now + timedelta(hours=11), now + timedelta(hours=36))
    servers = [start_server(**env), start_server(**env)]
    travellers = [f"pair-{i}" for i in range(8)]

    def send(args: tuple[int, str]) -> dict:
        n, sender = args
        text = NOT_BREATHING if n % 2 else CHEST_PAIN
        return post_chat(servers[n % 2], sender, f"{sender}-{n}", text)

    jobs = [(n, sender) for sender in travellers for n in (0, 1)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, jobs))
    cases = {a["ticket_id"] for a in answers}
    assert len(cases) == len(travellers)  # both messages of a traveller joined one case

    h = doctor.headers(servers[0].url)

    def open_alerts(server) -> list[dict]:
        r = httpx.get(f"{server.url}/api/v1/alerts", params={"limit": 500}, headers=h)
        assert r.status_code == 200, r.text
        return r.json()["items"]

    # Every case reached KTAS 1 (one of its two messages said so), so each breaches at once;
    # wait for both schedulers to have ticked past it.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        items = open_alerts(servers[0])
        if sum(a["kind"] == "sla_breached" for a in items) >= len(cases) and sum(
            a["kind"] == "unclaimed_critical" for a in items
        ) >= len(cases):
            break
        time.sleep(0.2)
    time.sleep(1.0)  # several more ticks in both processes: nothing more may appear
    items = open_alerts(servers[0])
    # Both processes list the same alerts (escalation may stamp one between the two reads).
    same = [(a["id"], a["kind"], a["ticket_id"], a["data"]) for a in items]
    assert same == [
        (a["id"], a["kind"], a["ticket_id"], a["data"]) for a in open_alerts(servers[1])
    ]
    causes = [(a["kind"], a["ticket_id"], tuple(a["data"].get("red_flags", ()))) for a in items]
    assert len(causes) == len(set(causes)), causes
    by_kind: dict[str, list[int]] = {}
    for a in items:
        by_kind.setdefault(a["kind"], []).append(a["ticket_id"])
    assert sorted(by_kind["sla_breached"]) == sorted(cases)
    assert sorted(by_kind["unclaimed_critical"]) == sorted(cases)
    # Each case: one alert for each set of new flags its messages brought, never the same twice.
    for case in cases:
        flags = [
            a["data"]["red_flags"]
            for a in items
            if a["ticket_id"] == case and a["kind"] == "red_flag"
        ]
        seen = [f for fs in flags for f in fs]
        assert len(seen) == len(set(seen)) and 1 <= len(flags) <= 2
    # And each alert was announced once, in the one log every console reads.
    with db.read_session() as session:
        raised = [
            e.data["alert"]["id"]
            for e in session.scalars(select(Event).where(Event.name == "alert.raised"))
        ]
    assert sorted(raised) == sorted(a["id"] for a in items)
    # Every alert here is urgent (KTAS 1–2, red flags) and nobody acknowledges: both
    # schedulers escalate, each alert exactly once.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(a["escalated_at"] for a in open_alerts(servers[1])):
            break
        time.sleep(0.2)
    time.sleep(1.0)
    with db.read_session() as session:
        escalated = [
            e.data["alert"]["id"]
            for e in session.scalars(select(Event).where(Event.name == "alert.escalated"))
        ]
    assert sorted(escalated) == sorted(a["id"] for a in items)
    # Each escalation queued one page, and one of the two dispatchers delivered it, signed.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(pager_sink.delivered()) < len(escalated):
        time.sleep(0.2)
    time.sleep(1.0)
    pages = pager_sink.delivered()
    assert sorted(body_of(p)["alert_id"] for p in pages) == sorted(escalated)
    assert all(signature_ok(p, "two-process-pager") for p in pages)


def test_two_processes_raise_the_other_kinds_once(start_server, db, backend):
    """The kinds raised by the scheduler's scans and the outbox's own state changes —
    ``roster_gap``, ``no_doctor_available``, ``followup_due``, ``delivery_overdue`` and
    ``delivery_failed`` — with two server processes scanning the same PostgreSQL database at
    once: one alert per cause, announced once."""
    if backend != "postgresql":
        pytest.skip("the two-process race is PostgreSQL's (SQLite serialises its writers)")
    env = {
        "CONSULT119_SCHEDULER_INTERVAL_SECONDS": "0.2",
        "CONSULT119_ESCALATE_AFTER_SECONDS": "3600",
        "CONSULT119_UNCLAIMED_CRITICAL_SECONDS": "3600",
        "CONSULT119_OUTBOUND_POLL_SECONDS": "0.2",
        "CONSULT119_OUTBOUND_RETRY_BASE_SECONDS": "30",  # the LINE reply stays queued
        "CONSULT119_DELIVERY_OVERDUE_SECONDS": '{"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}',
        # LINE pushes to a closed loopback port: refused, retried, overdue.
        "CONSULT119_LINE_CHANNEL_TOKEN": "two-process-line",
        "CONSULT119_LINE_PUSH_URL": "http://127.0.0.1:9/v2/bot/message/push",
    }
    now = utcnow()
    # The only doctor is on duty for two more hours and offline: nobody can answer, and the
    # roster has a gap within twelve hours.
    make_staff(db, "doctor", on_duty=True, now=now)
    emt = make_staff(db, "emt", on_duty=True, now=now, presence="available")
    servers = [start_server(**env), start_server(**env)]
    h = emt.headers(servers[0].url)
    waiting = post_chat(servers[0], "other-1", "other-1-a", "배가 조금 아파요", source="kakao")
    r = httpx.post(
        f"{servers[0].url}/api/v1/tickets/{waiting['ticket_id']}/triage",
        json={"acuity": 3, "category": "medical_consultation"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    r = httpx.post(
        f"{servers[1].url}/api/v1/tickets/{waiting['ticket_id']}/followups",
        json={"due_at": utcnow().isoformat(), "note": "Call the hotel"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    failing = post_chat(servers[1], "other-2", "other-2-a", "약국이 어디 있나요?")  # Telegram
    stuck = {"ticket_id": make_ticket(db, "약국이 어디 있나요?", source="line", sender_id="U-o3")}
    for case in (failing, stuck):
        r = httpx.post(
            f"{servers[1].url}/api/v1/tickets/{case['ticket_id']}/messages",
            json={"text": "가까운 약국은 역 앞에 있습니다."},
            headers=h,
        )
        assert r.status_code == 201, r.text

    want = {"roster_gap", "no_doctor_available", "followup_due", "delivery_failed"}
    want.add("delivery_overdue")

    def open_alerts(server) -> list[dict]:
        r = httpx.get(f"{server.url}/api/v1/alerts", params={"limit": 500}, headers=h)
        assert r.status_code == 200, r.text
        return r.json()["items"]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if want <= {a["kind"] for a in open_alerts(servers[0])}:
            break
        time.sleep(0.2)
    time.sleep(1.5)  # many more ticks of both schedulers and dispatchers
    items = [a for a in open_alerts(servers[1]) if a["kind"] in want]
    kinds = sorted(a["kind"] for a in items)
    assert kinds == sorted(want), kinds  # each exactly once
    by_kind = {a["kind"]: a for a in items}
    assert by_kind["delivery_failed"]["ticket_id"] == failing["ticket_id"]
    assert by_kind["delivery_overdue"]["ticket_id"] == stuck["ticket_id"]
    assert by_kind["followup_due"]["ticket_id"] == waiting["ticket_id"]
    with db.read_session() as session:
        raised = [
            e.data["alert"]["id"]
            for e in session.scalars(select(Event).where(Event.name == "alert.raised"))
            if e.data["alert"]["kind"] in want
        ]
    assert sorted(raised) == sorted(a["id"] for a in items)  # announced once each


def test_two_processes_raise_reopened_and_next_response_once(start_server, db, backend):
    """A traveller back on a resolved case writing to both processes at once (one reopen,
    one ``reopened``), and a traveller's follow-up after the doctor's reply left unanswered
    past its target (one ``next_response_breached``, though both schedulers see it)."""
    if backend != "postgresql":
        pytest.skip("the two-process race is PostgreSQL's (SQLite serialises its writers)")
    env = {
        "CONSULT119_SCHEDULER_INTERVAL_SECONDS": "0.2",
        "CONSULT119_ESCALATE_AFTER_SECONDS": "3600",
        "CONSULT119_UNCLAIMED_CRITICAL_SECONDS": "3600",
        "CONSULT119_SLA_TARGET_SECONDS": '{"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}',
    }
    now = utcnow()
    doctor = make_staff(db, "doctor", on_duty=True, now=now, presence="available")
    add_shift(db, doctor.id, now + timedelta(hours=11), now + timedelta(hours=36))
    servers = [start_server(**env), start_server(**env)]
    h = doctor.headers(servers[0].url)
    back = post_chat(servers[0], "again-1", "again-1-a", "배가 조금 아파요", source="kakao")
    waits = post_chat(servers[0], "again-2", "again-2-a", "배가 조금 아파요", source="kakao")
    for case in (back, waits):
        base = f"{servers[0].url}/api/v1/tickets/{case['ticket_id']}"
        for path, body in (("claim", None), ("messages", {"text": "물을 조금씩 드세요."})):
            r = httpx.post(f"{base}/{path}", json=body, headers=h)
            assert r.is_success, r.text
    r = httpx.post(
        f"{servers[0].url}/api/v1/tickets/{back['ticket_id']}/status",
        json={"status": "resolved"},
        headers=h,
    )
    assert r.status_code == 200, r.text

    def send(args: tuple[int, str, str]) -> dict:
        n, sender, text = args
        return post_chat(servers[n % 2], sender, f"{sender}-again-{n}", text, source="kakao")

    jobs = [
        (0, "again-1", "다시 아파요!"),
        (1, "again-1", "많이 아파요"),
        (0, "again-2", "괜찮을까요?"),
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(send, jobs))
    assert {a["ticket_id"] for a in answers[:2]} == {back["ticket_id"]}  # one case, reopened

    def open_of(kind: str) -> list[dict]:
        r = httpx.get(
            f"{servers[1].url}/api/v1/alerts", params={"kind": kind, "limit": 50}, headers=h
        )
        assert r.status_code == 200, r.text
        return r.json()["items"]

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not open_of("next_response_breached"):
        time.sleep(0.2)
    time.sleep(1.5)  # many more ticks of both schedulers
    [reopened] = open_of("reopened")
    assert reopened["ticket_id"] == back["ticket_id"]
    late = [a for a in open_of("next_response_breached") if a["ticket_id"] == waits["ticket_id"]]
    assert len(late) == 1, late
    with db.read_session() as session:
        raised = [
            e.data["alert"]["id"]
            for e in session.scalars(select(Event).where(Event.name == "alert.raised"))
            if e.data["alert"]["kind"] in ("reopened", "next_response_breached")
        ]
    assert sorted(raised) == sorted(a["id"] for a in [reopened, *open_of("next_response_breached")])
