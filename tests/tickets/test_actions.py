"""Case actions over a real socket: the claim race, triage to reply to resolve, bad input."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.tickets.models import Ticket
from tests.factories import make_staff
from tests.tickets.conftest import Client, open_case


def test_ten_concurrent_claims_by_two_doctors_have_one_winner(live_server, db):
    doctors = [Client(live_server, make_staff(db, "doctor", on_duty=True)) for _ in range(2)]
    case = open_case(live_server)
    start = threading.Barrier(10)

    def claim(i):
        client = doctors[i % 2]
        start.wait()
        return client.id, client.post(f"/api/v1/tickets/{case}/claim")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(claim, range(10)))
    assert {r.status_code for _, r in results} <= {200, 409}, [r.text for _, r in results]
    winners = {who for who, r in results if r.status_code == 200}
    assert len(winners) == 1
    (winner,) = winners
    losers = [r for who, r in results if who != winner]
    assert len(losers) == 5 and all(r.status_code == 409 for r in losers)
    assert {r.json()["detail"]["code"] for r in losers} == {"ticket_taken"}
    # The winner's own repeated claims are idempotent successes.
    assert all(r.status_code == 200 for who, r in results if who == winner)
    with db.read_session() as s:
        ticket = s.get(Ticket, case)
        assigned = s.scalars(select(Event).where(Event.name == "ticket.assigned")).all()
    assert ticket.assignee_id == winner and ticket.assignment_accepted
    assert len(assigned) == 1 and assigned[0].data["reason"] == "claim"


def test_triage_assign_reply_note_resolve(live_server, db):
    emt = Client(live_server, make_staff(db, "emt", on_duty=True))
    doc = Client(live_server, make_staff(db, "doctor", on_duty=True))
    assert doc.post("/api/v1/staff/me/presence", {"status": "available"}).json()["presence"] == (
        "available"
    )
    case = open_case(live_server, "숨쉬기가 힘들어요")
    queued = emt.get("/api/v1/tickets").json()
    assert queued["total"] == 1 and queued["items"][0]["red_flags"] == ["breathing_difficulty"]
    assert queued["items"][0]["sla_due_at"] is not None

    r = emt.post(
        f"/api/v1/tickets/{case}/triage",
        {"acuity": 2, "category": "medical_consultation", "disposition": "go_to_ed_now"},
    )
    assert r.status_code == 200, r.text
    t = r.json()
    assert (t["acuity"], t["status"], t["assignee_id"]) == (2, "assigned", doc.id)

    r = doc.post(f"/api/v1/tickets/{case}/messages", {"text": "가까운 응급실로 가세요."})
    assert r.status_code == 201 and r.json()["direction"] == "outbound"
    assert r.json()["delivery"] == "queued"
    note = doc.post(
        f"/api/v1/tickets/{case}/messages", {"text": "SpO2 확인 필요", "internal": True}
    )
    assert note.status_code == 201 and note.json()["direction"] == "internal"
    detail = doc.get(f"/api/v1/tickets/{case}").json()
    assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound", "internal"]
    assert detail["status"] == "in_progress" and detail["first_response_at"] is not None

    assert doc.post(f"/api/v1/tickets/{case}/status", {"status": "resolved"}).status_code == 200
    r = doc.post(f"/api/v1/tickets/{case}/status", {"status": "waiting"})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "transition_forbidden"

    with db.read_session() as s:
        outbox = s.scalars(select(OutboxItem)).all()
        names = [e.name for e in s.scalars(select(Event).order_by(Event.id))]
    assert len(outbox) == 1 and outbox[0].channel == "chat" and outbox[0].source == "kakao"
    assert names == [
        "presence.changed",
        "ticket.created",
        "alert.raised",  # the red flag
        "message.created",
        "ticket.triaged",
        "ticket.assigned",
        "message.created",
        "alert.resolved",  # answered by the doctor's reply
        "message.created",
        "ticket.status_changed",
    ]


def test_queue_order_filters_and_pages(live_server, db):
    emt = Client(live_server, make_staff(db, "emt", on_duty=True))
    calm = open_case(live_server, "호텔 근처 약국이 어디인가요")
    chest = open_case(live_server, "가슴이 아파요")
    out = open_case(live_server, "he is unconscious")
    emt.post(f"/api/v1/tickets/{calm}/triage", {"acuity": 5, "category": "hospital_info"})
    ids = [t["id"] for t in emt.get("/api/v1/tickets").json()["items"]]
    assert ids == [out, chest, calm]
    page = emt.get("/api/v1/tickets", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [t["id"] for t in page["items"]] == [chest]
    assert emt.get("/api/v1/tickets", params={"status": "triaged"}).json()["total"] == 1
    assert emt.get("/api/v1/tickets", params={"assignee": "none"}).json()["total"] == 3
    assert emt.get("/api/v1/tickets", params={"channel": "email"}).json()["total"] == 0
    for params, code in (
        ({"status": "bogus"}, "unknown_status"),
        ({"channel": "fax"}, "invalid_field"),
        ({"limit": 0}, "invalid_field"),
        ({"assignee": "x'--"}, "invalid_field"),
    ):
        r = emt.get("/api/v1/tickets", params=params)
        assert r.status_code == 422 and r.json()["detail"]["code"] == code, (params, r.text)


def test_bad_input_gets_clear_refusals_and_changes_nothing(live_server, db):
    emt = Client(live_server, make_staff(db, "emt", on_duty=True))
    doc = Client(live_server, make_staff(db, "doctor", on_duty=True))
    off = make_staff(db, "doctor", on_duty=False)
    case = open_case(live_server)
    with db.read_session() as s:
        version = s.get(Ticket, case).version
    cases = [
        (emt, "triage", {"acuity": 0, "category": "other"}, 422, "invalid_acuity"),
        (emt, "triage", {"acuity": 6, "category": "other"}, 422, "invalid_acuity"),
        (emt, "triage", {"acuity": "high", "category": "other"}, 422, "invalid_field"),
        (emt, "triage", {"acuity": 3, "category": "gossip"}, 422, "unknown_category"),
        (emt, "assign", {"staff_id": 424242}, 422, "unknown_staff"),
        (emt, "assign", {"staff_id": off.id}, 409, "doctor_off_duty"),
        (emt, "assign", {"staff_id": emt.id}, 422, "not_a_doctor"),
        (emt, "transfer", {"staff_id": doc.id}, 409, "not_assigned"),
        (doc, "messages", {"text": "   "}, 422, "empty_text"),
        (doc, "messages", {"text": "x" * 5001}, 422, "text_too_long"),
        (doc, "messages", {"text": "a\u0000b"}, 422, "invalid_text"),
        (doc, "status", {"status": "sleeping"}, 422, "unknown_status"),
        (doc, "status", {"status": "merged"}, 409, "transition_forbidden"),
    ]
    for client, action, body, status, code in cases:
        r = client.post(f"/api/v1/tickets/{case}/{action}", body)
        assert (r.status_code, r.json()["detail"]["code"]) == (status, code), (action, body, r.text)
    for path, status in (
        ("/api/v1/tickets/424242/claim", 404),
        ("/api/v1/tickets/99999999999/claim", 422),
    ):
        assert doc.post(path).status_code == status
    with db.read_session() as s:
        assert s.get(Ticket, case).version == version
    # Closed cases cannot be claimed; a second claim by the holder is a harmless no-op.
    assert doc.post(f"/api/v1/tickets/{case}/claim").status_code == 200
    assert doc.post(f"/api/v1/tickets/{case}/claim").status_code == 200
    assert doc.post(f"/api/v1/tickets/{case}/status", {"status": "closed"}).status_code == 200
    r = doc.post(f"/api/v1/tickets/{case}/claim")
    assert r.status_code == 409 and r.json()["detail"]["code"] == "ticket_closed"


def test_a_reply_over_the_limit_is_refused_with_the_limit(start_server, db):
    """The console counts down to the limit and learns a deployment's own from the refusal."""
    server = start_server(CONSULT119_MAX_TEXT_CHARS="300")
    doc = Client(server, make_staff(db, "doctor", on_duty=True))
    case = open_case(server)
    r = doc.post(f"/api/v1/tickets/{case}/messages", {"text": "가" * 301})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert (detail["code"], detail["field"], detail["max_chars"]) == ("text_too_long", "text", 300)
    assert doc.post(f"/api/v1/tickets/{case}/messages", {"text": "가" * 300}).status_code == 201
