"""Queue order that matches urgency: rank, then red-flagged first, then the earliest SLA
deadline, then untriaged first, then waiting time — the issue's example, on a live server, and
the queue order the console's own state.js keeps (run under Node)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from consult119.staff.models import Staff
from consult119.tickets import repository as repo
from consult119.tickets import service
from tests.console import state_js
from tests.factories import make_staff, make_ticket
from tests.triage.conftest import T0


def post_chat(server, sender: str, text: str) -> int:
    r = httpx.post(
        f"{server.url}/api/v1/intake/chat",
        json={"source": "telegram", "sender_id": sender, "message_id": f"{sender}-1", "text": text},
        timeout=20,
    )
    assert r.status_code == 201, r.text
    return r.json()["ticket_id"]


def test_chest_pain_arriving_tenth_of_ten_is_first(live_server, db):
    emt = make_staff(db, "emt", on_duty=True)
    older = [post_chat(live_server, f"q-{i}", "호텔 근처 약국이 어디인가요") for i in range(9)]
    chest = post_chat(live_server, "q-chest", "가슴이 아파요")
    r = httpx.get(f"{live_server.url}/api/v1/tickets", headers=emt.headers(live_server.url))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [t["id"] for t in items] == [chest, *older]
    assert items[0]["priority"] == items[1]["priority"] == 2  # the same rank: the flag decides
    assert state_js.queue_order(items) == [t["id"] for t in items]
    # A suspected KTAS 1, later still, is first of all.
    worst = post_chat(live_server, "q-worst", "아버지가 의식이 없어요")
    items = httpx.get(
        f"{live_server.url}/api/v1/tickets", headers=emt.headers(live_server.url)
    ).json()["items"]
    assert [t["id"] for t in items][:2] == [worst, chest]


def test_deadline_then_untriaged_then_waiting(db):
    emt = make_staff(db, "emt", on_duty=True, now=T0).id
    a = make_ticket(db, "질문이 있어요", now=T0)
    b = make_ticket(db, "질문이 있어요", now=T0 + timedelta(minutes=1))
    c = make_ticket(db, "질문이 있어요", now=T0 + timedelta(minutes=2))
    with db.unit_of_work() as s:
        by = s.get(Staff, emt)
        # a: KTAS 3 (due T0+30 min); b: KTAS 2 (due T0+11 min); c stays untriaged (T0+12 min).
        service.triage(s, a, acuity=3, category="other", staff=by, now=T0 + timedelta(minutes=3))
        service.triage(s, b, acuity=2, category="other", staff=by, now=T0 + timedelta(minutes=3))
    d = make_ticket(db, "질문이 있어요", now=T0 + timedelta(minutes=1))  # untriaged, due as b
    with db.read_session() as s:
        rows, _ = repo.list_tickets(s, limit=10)
        order = [t.id for t in rows]
    # Rank 2: b and d due at the same moment (untriaged d first), then c; then a (rank 3).
    assert order == [d, b, c, a]
