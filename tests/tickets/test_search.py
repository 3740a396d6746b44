# ruff: noqa: F811 (the module fixtures imported from tests.tickets.live are parameters)
"""Search (``GET /api/v1/tickets?q=``) over a real socket on both databases: case number,
name, phone, e-mail and message text, Korean included; finished cases with ``status=all``;
roles, bounds and the access log (the hit count, never the words); a broad term counted to
the cap, its pages still in queue order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import insert, select

from consult119.audit.models import AuditEntry
from consult119.tickets.models import Contact, Message, Ticket
from consult119.tickets.search import COUNT_CAP
from tests.tickets.live import mdb, people, server  # noqa: F401 (module fixtures)


def chat(server, sender: str, text: str, n: int, **extra) -> int:
    r = httpx.post(
        f"{server.url}/api/v1/intake/chat",
        json={"source": "kakao", "sender_id": sender, "message_id": f"{sender}-{n}", "text": text}
        | extra,
        timeout=10,
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["ticket_id"]


def found(client, q: str, **params) -> list[int]:
    r = client.get("/api/v1/tickets", params={"q": q, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return sorted(t["id"] for t in body["items"])


def test_search_finds_a_case_by_a_korean_word_name_phone_email_and_number(server, people, mdb):
    emt = people["emt"]
    chest = chat(server, "s-chest", "남편이 58세인데 가슴 통증이 30분째예요", 1)
    chat(server, "s-chest", "암로디핀을 먹고 있어요", 2)  # a follow-up joins the case
    fever = chat(server, "s-fever", "아이가 고열이 나요 (39.5도) 100% 걱정돼요", 1)
    mail = chat(server, "s-mail", "stomach ache", 1, sender_name="김민수")
    with mdb.unit_of_work() as session:
        ticket = session.get(Ticket, mail)
        contact = ticket.contact_id
        from consult119.tickets.models import Contact

        c = session.get(Contact, contact)
        c.phone_e164, c.email = "+818012345678", "Traveller.Kim@Example.org"
        fever_number = session.get(Ticket, fever).case_number

    assert found(emt, "가슴 통증") == [chest]
    assert found(emt, "암로디핀") == [chest]  # a later message of the case
    assert found(emt, "고열이") == [fever]
    assert found(emt, "통증") == [chest]  # two syllables: below the trigram minimum, a scan
    assert found(emt, "김민수") == [mail]
    assert found(emt, "민수") == [mail]
    assert found(emt, "12345") == [mail]  # part of the phone number
    assert found(emt, "traveller.kim@example") == [mail]  # e-mail, any case
    assert found(emt, fever_number) == [fever]
    assert found(emt, fever_number[-6:]) == [fever]
    assert found(emt, "STOMACH") == [mail]
    # LIKE's wildcards are the traveller's characters, not patterns.
    assert found(emt, "100%") == [fever]
    assert found(emt, "%%%") == []
    assert found(emt, '"quoted"') == []
    assert found(emt, "없는 낱말") == []


def test_finished_cases_need_status_all_and_merged_moves_text(server, people):
    emt = people["emt"]
    case = chat(server, "s-done", "발목이 부었어요 삐었나봐요", 1)
    assert found(emt, "발목이") == [case]
    assert emt.post(f"/api/v1/tickets/{case}/status", json={"status": "closed"}).is_success
    assert found(emt, "발목이") == []
    assert found(emt, "발목이", status="all") == [case]
    assert found(emt, "발목이", status="closed") == [case]


def test_roles_and_bounds(server, people):
    for who in ("manager", "admin"):
        r = people[who].get("/api/v1/tickets", params={"q": "가슴"})
        assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role", who
    assert people["admin"].get("/api/v1/tickets").status_code == 200  # the queue as before
    emt = people["emt"]
    for q, code in (
        ("가", "query_too_short"),
        (" a ", "query_too_short"),
        ("x" * 201, "invalid_field"),
    ):
        r = emt.get("/api/v1/tickets", params={"q": q})
        assert r.status_code == 422, (q, r.text)
        assert (r.json()["detail"]["code"], r.json()["detail"]["field"]) == (code, "q")
    r = emt.get("/api/v1/tickets", params={"q": "a\x00b"})
    assert r.status_code == 422 and r.json()["detail"]["code"] == "invalid_text"


def test_each_search_writes_one_access_log_row_with_the_hits_not_the_words(server, people, mdb):
    doctor = people["doctor"]
    case = chat(server, "s-audit", "허리가 너무 아파요 비밀스러운단어", 1)
    with mdb.read_session() as session:
        before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    assert found(doctor, "비밀스러운단어") == [case]
    assert found(doctor, "아무것도없음") == []
    doctor.get("/api/v1/tickets")  # the queue without q is not a search
    with mdb.read_session() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)
        ).all()
    assert [(e.action, e.staff_id, e.detail["hits"]) for e in entries] == [
        ("ticket.search", doctor.id, 1),
        ("ticket.search", doctor.id, 0),
    ]
    dumped = json.dumps([e.detail for e in entries], ensure_ascii=False)
    assert "비밀스러운단어" not in dumped and "아무것도없음" not in dumped


def test_a_merge_carries_the_words_to_the_case_they_moved_to(server, people):
    emt = people["emt"]
    first = chat(server, "s-merge-a", "두드러기가 온몸에 났어요", 1)
    into = chat(server, "s-merge-b", "같은 사람입니다", 1)
    r = emt.post(f"/api/v1/tickets/{first}/merge", json={"into_ticket_id": into})
    assert r.status_code == 200, r.text
    assert found(emt, "두드러기가") == [into]
    assert found(emt, "두드러기가", status="all") == [into]  # the merged case holds no message


def many_cases(
    mdb, count: int, text: str, *, finished: bool = False
) -> list[tuple[int, int, datetime, str]]:
    """``count`` cases written straight to the database (through the tables, so the search
    indexes' triggers keep them), one message holding ``text`` each, in an order of priority
    and waiting time unlike their ids; one in three finished (all with ``finished``).
    (priority, created_at, id, status) of each."""
    start = datetime(2099, 1, 1, tzinfo=UTC)
    contacts = [
        {"display_name": f"여행자{i}", "created_at": start, "updated_at": start}
        for i in range(count)
    ]
    with mdb.engine.begin() as conn:
        table = Contact.__table__
        contact_ids = conn.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), contacts
        ).scalars()
        tickets = []
        for i, contact_id in enumerate(list(contact_ids)):
            at = start + timedelta(seconds=(i * 7919) % count)  # waiting times shuffled
            tickets.append(
                {
                    "case_number": f"C119-{2098 if finished else 2099}-{i:06d}",
                    "year": 2098 if finished else 2099,
                    "seq": i + 1,
                    "channel": "chat",
                    "source": "kakao",
                    "contact_id": contact_id,
                    "status": "closed" if finished or i % 3 == 0 else "new",
                    "priority": 1 + (i * 31) % 4,
                    "reopen_count": 0,
                    "assignment_accepted": False,
                    "created_at": at,
                    "updated_at": at,
                    "version": 1,
                }
            )
        table = Ticket.__table__
        ids = conn.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), tickets
        ).scalars()
        ids = list(ids)
        conn.execute(
            insert(Message.__table__),
            [
                {
                    "ticket_id": ticket_id,
                    "direction": "inbound",
                    "channel": "chat",
                    "source": "kakao",
                    "text": f"배가 아파요 {text} {n}",
                    "created_at": t["created_at"],
                }
                for n, (ticket_id, t) in enumerate(zip(ids, tickets, strict=True))
            ],
        )
    return [
        (t["priority"], t["created_at"], ticket_id, t["status"])
        for ticket_id, t in zip(ids, tickets, strict=True)
    ]


def page(client, q: str, **params) -> dict:
    r = client.get("/api/v1/tickets", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_broad_term_counts_to_the_cap_and_pages_in_queue_order(server, people, mdb):
    emt = people["emt"]
    cases = many_cases(mdb, COUNT_CAP + 200, "광범위검색어 zq")
    with mdb.read_session() as session:
        before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    body = page(emt, "광범위검색어", status="all", limit=1)
    with mdb.read_session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.id > before)).one()
    assert entry.detail == {"hits": COUNT_CAP, "status": "all", "capped": True}
    queue = [c[2] for c in sorted(cases)]  # queue order: priority, waiting time, id
    open_queue = [c[2] for c in sorted(cases) if c[3] == "new"]
    assert len(open_queue) < COUNT_CAP < len(queue)

    for q in ("광범위검색어", "zq"):  # a trigram search, and two characters (a scan)
        body = page(emt, q, status="all", limit=50)
        assert (body["total"], body["total_capped"]) == (COUNT_CAP, True), q
        assert [t["id"] for t in body["items"]] == queue[:50], q
        body = page(emt, q, status="all", limit=30, offset=130)
        assert [t["id"] for t in body["items"]] == queue[130:160], q
        body = page(emt, q, status="all", limit=200, offset=len(queue) - 20)
        assert [t["id"] for t in body["items"]] == queue[-20:], q
        # The open ones only: fewer than the cap, counted exactly.
        body = page(emt, q, limit=40, offset=100)
        assert (body["total"], body["total_capped"]) == (len(open_queue), False), q
        assert [t["id"] for t in body["items"]] == open_queue[100:140], q
        body = page(emt, q, status="new,closed", limit=50)
        assert body["total_capped"] and [t["id"] for t in body["items"]] == queue[:50], q

    body = page(emt, f"광범위검색어 zq {len(cases) - 1}", status="all")  # one case's message
    assert (body["total"], body["total_capped"]) == (1, False)
    assert [t["id"] for t in body["items"]] == [cases[-1][2]]
    queue_page = emt.get("/api/v1/tickets", params={"limit": 1}).json()
    assert queue_page["total_capped"] is False  # never capped without q
    assert queue_page["total"] >= len(open_queue)
