"""Follow-ups, callbacks and handoff notes: the API over a real socket, the scheduler's
``followup_due`` at a time the test chooses — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from consult119.alerts.models import Alert
from consult119.followups.models import Followup
from consult119.realtime.models import Event
from consult119.triage import ktas
from tests.factories import make_staff
from tests.tickets.conftest import Client, open_case


def _alerts(db, **where):
    with db.read_session() as s:
        stmt = select(Alert).where(Alert.kind == "followup_due").order_by(Alert.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Alert, key) == value)
        return list(s.scalars(stmt))


def _events(db, name):
    with db.read_session() as s:
        return list(s.scalars(select(Event).where(Event.name == name).order_by(Event.id)))


def _soon(minutes=30):
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_followup_api_shapes_validation_and_done(module_server, db):
    doctor = Client(module_server, make_staff(db, "doctor", on_duty=True))
    emt = Client(module_server, make_staff(db, "emt", on_duty=True))
    case = open_case(module_server, "아이가 열이 나요")
    r = doctor.post(f"/api/v1/tickets/{case}/followups", {"due_at": _soon(), "note": "열 재확인"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert {"id", "ticket_id", "due_at", "note", "done_at"} <= set(body)
    assert body["ticket_id"] == case and body["note"] == "열 재확인" and body["done_at"] is None
    [created] = _events(db, "followup.created")
    assert created.ticket_id == case and created.data["followup"]["id"] == body["id"]

    naive = datetime.now(UTC).replace(tzinfo=None).isoformat()
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    for due, note, code in (
        (naive, "x", "invalid_due_at"),
        (past, "x", "invalid_due_at"),
        (far, "x", "invalid_due_at"),
        (_soon(), "   ", "invalid_note"),
    ):
        r = doctor.post(f"/api/v1/tickets/{case}/followups", {"due_at": due, "note": note})
        assert r.status_code == 422 and r.json()["detail"]["code"] == code, r.text
    r = doctor.post(f"/api/v1/tickets/{case}/followups", {"due_at": _soon(), "note": "x" * 2001})
    assert r.status_code == 422
    r = doctor.post("/api/v1/tickets/999999/followups", {"due_at": _soon(), "note": "x"})
    assert r.status_code == 404 and r.json()["detail"]["code"] == "ticket_not_found"
    with db.read_session() as s:
        assert len(s.scalars(select(Followup)).all()) == 1  # nothing half written

    # An EMT marks it done; again is a no-op; the detail lists it.
    first = emt.post(f"/api/v1/followups/{body['id']}/done")
    assert first.status_code == 200 and first.json()["done_at"] is not None
    again = emt.post(f"/api/v1/followups/{body['id']}/done")
    assert again.status_code == 200 and again.json()["done_at"] == first.json()["done_at"]
    assert len(_events(db, "followup.done")) == 1
    assert emt.post("/api/v1/followups/999999/done").json()["detail"]["code"] == (
        "followup_not_found"
    )
    detail = doctor.get(f"/api/v1/tickets/{case}").json()
    assert [f["id"] for f in detail["followups"]] == [body["id"]]
    assert detail["handoff"] is None


def test_followup_roles(module_server, db):
    case = open_case(module_server)
    off = Client(module_server, make_staff(db, "doctor", on_duty=False))
    r = off.post(f"/api/v1/tickets/{case}/followups", {"due_at": _soon(), "note": "x"})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "doctor_off_duty"
    for role in ("manager", "admin"):
        c = Client(module_server, make_staff(db, role, on_duty=True))
        r = c.post(f"/api/v1/tickets/{case}/followups", {"due_at": _soon(), "note": "x"})
        assert r.status_code == 403, r.text
        assert c.post("/api/v1/followups/1/done").status_code == 403
        assert c.post(f"/api/v1/tickets/{case}/handoff", {"note": "x"}).status_code == 403


def test_a_missed_call_makes_one_callback_due_by_its_level(start_server, db):
    server = start_server(CONSULT119_INTAKE_SECRET="pbx-secret")

    def post(body):
        raw = json.dumps(body).encode()
        sig = "sha256=" + hmac.new(b"pbx-secret", raw, hashlib.sha256).hexdigest()
        return httpx.post(
            f"{server.url}/api/v1/intake/phone/events",
            content=raw,
            timeout=10,
            headers={"Content-Type": "application/json", "X-Consult119-Signature": sig},
        )

    missed = {"call_id": "pbx-9", "event": "missed", "caller_number": "+81 90 1234 5678"}
    assert post(missed).status_code == 201
    assert post(missed).status_code == 200
    assert post({**missed, "event": "voicemail", "transcript": "다시 전화 주세요"}).status_code
    with db.read_session() as s:
        [callback] = s.scalars(select(Followup)).all()
    assert callback.cause == "call:pbx-9" and callback.created_by is None
    from consult119.tickets.models import Ticket

    with db.read_session() as s:
        level = s.get(Ticket, callback.ticket_id).priority
    assert callback.due_at - callback.created_at == ktas.target(level)
    doctor = Client(server, make_staff(db, "doctor", on_duty=True))
    en = doctor.get(f"/api/v1/tickets/{callback.ticket_id}", headers={"Accept-Language": "en"})
    ko = doctor.get(f"/api/v1/tickets/{callback.ticket_id}", headers={"Accept-Language": "ko"})
    assert en.json()["followups"][0]["note"] == "Call back"
    assert ko.json()["followups"][0]["note"] == "다시 전화하기"


def test_handoff_by_someone_not_holding_the_case_is_refused(module_server, db):
    holder = Client(module_server, make_staff(db, "doctor", on_duty=True))
    other = Client(module_server, make_staff(db, "doctor", on_duty=True))
    case = open_case(module_server)
    assert holder.post(f"/api/v1/tickets/{case}/claim").status_code == 200
    r = other.post(f"/api/v1/tickets/{case}/handoff", {"note": "x"})
    assert r.status_code == 403 and r.json()["detail"]["code"] == "not_holder"
    r = holder.post(f"/api/v1/tickets/{case}/handoff", {"note": "내일 아침 재평가"})
    assert r.status_code == 201, r.text
    assert r.json()["note"] == "내일 아침 재평가" and r.json()["by"] == holder.id
    detail = other.get(f"/api/v1/tickets/{case}").json()
    assert detail["handoff"]["note"] == "내일 아침 재평가"
