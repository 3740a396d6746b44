# ruff: noqa: F811 (the module fixtures imported from tests.tickets.live are parameters)
"""Resolving is a decision: a case no staff reply reached is refused (409 ``no_response``)
unless the body names why, and the reason is in the event. Over a real socket, both databases."""

from __future__ import annotations

from sqlalchemy import select

from consult119.realtime.models import Event
from tests.tickets.conftest import open_case
from tests.tickets.live import mdb, people, server  # noqa: F401 (module fixtures)


def status(client, case: int, **body):
    return client.post(f"/api/v1/tickets/{case}/status", json=body)


def status_events(mdb, case: int) -> list[dict]:
    with mdb.read_session() as session:
        return [
            e.data
            for e in session.scalars(
                select(Event)
                .where(Event.ticket_id == case, Event.name == "ticket.status_changed")
                .order_by(Event.id)
            )
        ]


def test_a_case_nobody_answered_is_not_resolved_without_a_reason(server, people, mdb):
    doctor = people["doctor"]
    case = open_case(server, "가슴이 아파요")  # red-flagged: ranks as KTAS 2
    assert doctor.post(f"/api/v1/tickets/{case}/claim").is_success
    # A note is not a reply: the traveller still heard nothing.
    assert doctor.post(
        f"/api/v1/tickets/{case}/messages", json={"text": "전화 시도", "internal": True}
    ).is_success
    refused = status(doctor, case, status="resolved")
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert detail["code"] == "no_response"
    assert detail["reasons"] == ["handled_by_phone", "unreachable", "duplicate", "no_reply_needed"]
    assert doctor.get(f"/api/v1/tickets/{case}").json()["status"] != "resolved"
    assert status_events(mdb, case) == []

    done = status(doctor, case, status="resolved", reason="handled_by_phone")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved"
    (changed,) = status_events(mdb, case)
    assert (changed["to"], changed["reason"]) == ("resolved", "handled_by_phone")


def test_after_a_reply_resolving_needs_no_reason(server, people, mdb):
    doctor = people["doctor"]
    case = open_case(server)
    assert doctor.post(f"/api/v1/tickets/{case}/messages", json={"text": "괜찮으세요?"}).is_success
    r = status(doctor, case, status="resolved")
    assert r.status_code == 200, r.text
    assert "reason" not in status_events(mdb, case)[-1]


def test_an_unknown_reason_is_refused_and_other_changes_need_none(server, people):
    emt = people["emt"]
    case = open_case(server)
    r = status(emt, case, status="resolved", reason="bored")
    assert r.status_code == 422
    assert (r.json()["detail"]["code"], r.json()["detail"]["field"]) == ("unknown_reason", "reason")
    assert status(emt, case, status="resolved", reason="x" * 41).status_code == 422
    # Waiting on the traveller or closing is not resolving: no reply needed.
    assert status(emt, case, status="waiting").status_code == 200
    assert status(emt, case, status="closed").status_code == 200
