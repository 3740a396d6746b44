# ruff: noqa: F811 (the module fixtures imported from tests.tickets.live are parameters)
"""The case's history (``GET /api/v1/tickets/{ticket_id}/timeline``) and the traveller's other
cases in the detail (``contact_history``), over a real socket on both databases."""

from __future__ import annotations

import httpx
from sqlalchemy import event, select

from consult119.audit.models import AuditEntry
from consult119.staff.models import Staff
from consult119.tickets import repository as repo
from consult119.tickets.models import Ticket
from tests.tickets.conftest import open_case
from tests.tickets.live import mdb, people, server  # noqa: F401 (module fixtures)


def name_of(mdb, client) -> str:
    with mdb.read_session() as session:
        return session.get(Staff, client.id).name


def history(client, case: int, **params) -> httpx.Response:
    return client.get(f"/api/v1/tickets/{case}/timeline", params=params)


def test_the_timeline_tells_who_did_what_oldest_first(server, people, mdb):
    case = open_case(server, "가슴이 아파요")
    doctor, emt = people["doctor"], people["emt"]
    assert doctor.post(f"/api/v1/tickets/{case}/claim").is_success
    triaged = emt.post(f"/api/v1/tickets/{case}/triage", json={"acuity": 2, "category": "other"})
    assert triaged.is_success, triaged.text
    version = triaged.json()["version"]
    patched = emt.http.patch(
        f"/api/v1/tickets/{case}", json={"version": version, "patient_age": 58}
    )
    assert patched.is_success, patched.text
    assert doctor.post(f"/api/v1/tickets/{case}/messages", json={"text": "괜찮으세요?"}).is_success

    r = history(doctor, case)
    assert r.status_code == 200, r.text
    body = r.json()
    items = body["items"]
    assert body["total"] == len(items)
    assert [i["id"] for i in items] == sorted(i["id"] for i in items)
    names = [i["name"] for i in items]
    # The reply's delivery may follow; everything before it is in this order.
    assert names[:6] == [
        "ticket.created",
        "message.created",  # the traveller's message
        "ticket.assigned",
        "ticket.triaged",
        "ticket.updated",
        "message.created",  # the reply
    ], names
    by_name = {i["name"]: i for i in items[:6]}
    assert by_name["ticket.created"]["actor"] is None  # the traveller, not staff
    assert by_name["ticket.assigned"]["actor"] == {
        "id": doctor.id,
        "name": name_of(mdb, doctor),
        "role": "doctor",
    }
    assert by_name["ticket.triaged"]["actor"]["role"] == "emt"
    assert by_name["ticket.updated"]["data"]["changes"] == {"patient_age": 58}
    assert by_name["message.created"]["data"]["message"]["text"] == "괜찮으세요?"

    page = history(doctor, case, limit=2, offset=1).json()
    assert page["total"] == body["total"]
    assert [i["id"] for i in page["items"]] == [i["id"] for i in items[1:3]]
    assert history(doctor, case, offset=10_000).json()["items"] == []

    with mdb.read_session() as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.ticket_id == case, AuditEntry.action == "ticket.timeline"
            )
        ).all()
    assert [e.staff_id for e in entries] == [doctor.id] * 3
    assert entries[0].detail["events"] == len(items)


def test_roles_bounds_and_a_missing_case(server, people):
    case = open_case(server)
    for who in ("manager", "admin"):
        r = history(people[who], case)
        assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role"
    assert history(people["emt"], case).status_code == 200
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"offset": 2**31}):
        r = history(people["emt"], case, **params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["detail"]["code"] == "invalid_field"
    missing = history(people["emt"], 999_999)
    assert missing.status_code == 404 and missing.json()["detail"]["code"] == "ticket_not_found"


def test_a_page_of_the_timeline_is_two_queries_whatever_its_length(server, people, mdb):
    case = open_case(server)
    for who in ("emt", "doctor", "emt", "doctor"):
        r = people[who].post(
            f"/api/v1/tickets/{case}/messages", json={"text": "note", "internal": True}
        )
        assert r.is_success, r.text
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(mdb.engine, "before_cursor_execute", count)
    try:
        with mdb.read_session() as session:
            rows, total = repo.timeline(session, case, limit=100, offset=0)
    finally:
        event.remove(mdb.engine, "before_cursor_execute", count)
    assert total == len(rows) >= 5
    assert {r.actor_name for r in rows if r.actor_id} == {
        name_of(mdb, people["emt"]),
        name_of(mdb, people["doctor"]),
    }
    assert len([s for s in statements if "events" in s]) == 2, statements


def test_the_detail_lists_the_travellers_other_cases_newest_first(server, people, mdb):
    emt = people["emt"]
    sender = "history-traveller"
    cases = []
    for n in range(3):
        cases.append(open_case(server, f"{n}번째 상담", sender=sender))
        if n < 2:  # a closed case is never reopened: the next message opens a new one
            assert emt.post(
                f"/api/v1/tickets/{cases[-1]}/status", json={"status": "closed"}
            ).is_success
    assert len(set(cases)) == 3
    other = open_case(server, "다른 사람", sender="someone-else")

    detail = emt.get(f"/api/v1/tickets/{cases[2]}").json()
    listed = detail["contact_history"]
    assert [c["id"] for c in listed] == [cases[1], cases[0]]
    with mdb.read_session() as session:
        first = session.get(Ticket, cases[0])
        assert listed[1] == {
            "id": first.id,
            "case_number": first.case_number,
            "created_at": first.created_at.isoformat().replace("+00:00", "Z"),
            "status": "closed",
            "acuity": None,
            "category": None,
        }
    assert [c["id"] for c in emt.get(f"/api/v1/tickets/{cases[0]}").json()["contact_history"]] == [
        cases[2],
        cases[1],
    ]
    assert emt.get(f"/api/v1/tickets/{other}").json()["contact_history"] == []
