# ruff: noqa: F811 (the module fixtures imported from tests.tickets.live are parameters)
"""Editing the case record: ``PATCH /api/v1/tickets/{ticket_id}`` over a real socket, on both
databases — roles and duty, the version check, bad values, the event and the access log, and the
emergency number of later acknowledgements."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from consult119.audit.models import AuditEntry
from consult119.realtime.models import Event
from consult119.tickets.models import Ticket
from tests.tickets.conftest import Client, open_case
from tests.tickets.live import mdb, people, server  # noqa: F401 (module fixtures)

RECORD = {
    "patient_age": 58,
    "patient_sex": "male",
    "symptoms_onset": "30분 전부터",
    "conditions": "고혈압",
    "medication": "amlodipine 5 mg",
    "allergies": "없음",
    "country": "jp",
    "timezone": "Asia/Tokyo",
    "location_type": "sea",
    "vessel_or_flight": "MV Hanbada",
    "chief_complaint": "흉통 30분",
    "assessment": "급성 관상동맥 증후군 의심",
    "plan": "선장에게 아스피린 투여 안내, 가까운 항구로 회항",
}


def version_of(client: Client, case: int) -> int:
    r = client.get(f"/api/v1/tickets/{case}")
    assert r.status_code == 200, r.text
    return r.json()["version"]


def patch(client: Client, case: int, body: dict) -> httpx.Response:
    return client.http.patch(f"/api/v1/tickets/{case}", json=body)


def row(mdb, case: int) -> Ticket:
    with mdb.read_session() as session:
        ticket = session.get(Ticket, case)
        session.expunge(ticket)
        return ticket


def test_an_emt_fills_the_record_and_the_detail_shows_it(server, people):
    case = open_case(server, "남편이 58세인데 가슴이 아파요. 배 위입니다")
    version = version_of(people["emt"], case)
    r = patch(people["emt"], case, {"version": version, **RECORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == version + 1
    expected = {**RECORD, "country": "JP"}  # stored as the ISO code
    assert {k: body[k] for k in RECORD} == expected
    assert body["messages"] and body["case_number"]  # the whole detail, as GET shows it
    again = people["doctor"].get(f"/api/v1/tickets/{case}").json()
    assert {k: again[k] for k in RECORD} == expected
    # A field left out stays; null clears one.
    r = patch(people["emt"], case, {"version": version + 1, "allergies": None, "plan": "  "})
    assert r.status_code == 200, r.text
    assert r.json()["allergies"] is None and r.json()["plan"] is None
    assert r.json()["medication"] == RECORD["medication"]


def test_managers_and_admins_may_not_edit(server, people):
    case = open_case(server)
    for who in ("manager", "admin"):
        r = patch(people[who], case, {"version": 1, "patient_age": 30})
        assert r.status_code == 403, r.text
        assert r.json()["detail"]["code"] == "forbidden_role"
    anonymous = httpx.patch(f"{server.url}/api/v1/tickets/{case}", json={"version": 1})
    assert anonymous.status_code == 401


def test_a_stale_version_is_refused_with_the_current_values(server, people, mdb):
    case = open_case(server)
    version = version_of(people["doctor"], case)
    first = patch(people["emt"], case, {"version": version, "patient_age": 58, "country": "JP"})
    assert first.status_code == 200, first.text
    late = patch(
        people["doctor"],
        case,
        {"version": version, "patient_age": 60, "country": "KR", "medication": "aspirin"},
    )
    assert late.status_code == 409, late.text
    detail = late.json()["detail"]
    assert detail["code"] == "stale_version"
    assert detail["version"] == version + 1
    # What the late writer sent, as the case says it now: enough for a console to show.
    assert detail["current"] == {"patient_age": 58, "country": "JP", "medication": None}
    ticket = row(mdb, case)
    assert (ticket.patient_age, ticket.country, ticket.medication) == (58, "JP", None)
    assert ticket.version == version + 1
    # Saved again at the new version, it goes through.
    retry = patch(people["doctor"], case, {"version": version + 1, "patient_age": 60})
    assert retry.status_code == 200 and retry.json()["patient_age"] == 60


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"patient_age": -1}, "patient_age", "invalid_field"),
        ({"patient_age": 131}, "patient_age", "invalid_field"),
        ({"patient_age": "fifty"}, "patient_age", "invalid_field"),
        ({"patient_sex": "F"}, "patient_sex", "invalid_field"),
        ({"location_type": "space"}, "location_type", "invalid_field"),
        ({"country": "XX"}, "country", "unknown_country"),
        ({"country": "Japan"}, "country", "unknown_country"),
        ({"country": "J" * 9}, "country", "invalid_field"),
        ({"country": "J1"}, "country", "unknown_country"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "unknown_timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "unknown_timezone"),
        ({"conditions": "a\x00b"}, "conditions", "invalid_text"),
        ({"assessment": "x" * 5001}, "assessment", "invalid_field"),
        ({"status": "resolved"}, "status", "invalid_field"),
        ({"version": 0}, "version", "invalid_field"),
    ],
)
def test_a_bad_value_is_refused_with_its_field_and_nothing_is_written(
    server, people, mdb, body, field, code
):
    case = open_case(server)
    before = row(mdb, case)
    # A good value next to the bad one must not be written either.
    r = patch(people["emt"], case, {"version": before.version, "patient_age": 44, **body})
    assert r.status_code == 422, r.text
    assert (r.json()["detail"]["code"], r.json()["detail"]["field"]) == (code, field)
    after = row(mdb, case)
    assert (after.version, after.patient_age) == (before.version, before.patient_age)


def test_missing_version_is_refused(server, people):
    case = open_case(server)
    r = patch(people["emt"], case, {"patient_age": 44})
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "version"


def test_one_event_with_the_changes_and_an_access_log_row_without_values(server, people, mdb):
    case = open_case(server)
    version = version_of(people["emt"], case)
    body = {"version": version, "patient_age": 58, "medication": "amlodipine", "allergies": None}
    r = patch(people["emt"], case, body)
    assert r.status_code == 200, r.text
    # The same values again change nothing: no event, no new version.
    same = patch(people["emt"], case, {**body, "version": version + 1})
    assert same.status_code == 200 and same.json()["version"] == version + 1
    with mdb.read_session() as session:
        events = session.scalars(
            select(Event).where(Event.ticket_id == case, Event.name == "ticket.updated")
        ).all()
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.ticket_id == case, AuditEntry.action == "ticket.update")
            .order_by(AuditEntry.id)
        ).all()
    assert len(events) == 1
    data = events[0].data
    assert events[0].actor_id == people["emt"].id
    # allergies was already empty: only what really changed is named.
    assert data["fields"] == ["medication", "patient_age"]
    assert data["changes"] == {"medication": "amlodipine", "patient_age": 58}
    assert data["ticket"]["version"] == version + 1
    assert [e.detail["fields"] for e in entries] == [["medication", "patient_age"], []]
    assert all(e.staff_id == people["emt"].id for e in entries)
    assert "amlodipine" not in json.dumps([e.detail for e in entries])


def test_duty_and_holding_rules_apply(server, people, mdb):
    case = open_case(server)
    version = version_of(people["doctor"], case)
    off = patch(people["off_doctor"], case, {"version": version, "patient_age": 1})
    assert off.status_code == 409 and off.json()["detail"]["code"] == "doctor_off_duty"
    claimed = people["doctor"].post(f"/api/v1/tickets/{case}/claim")
    assert claimed.status_code == 200, claimed.text
    version = claimed.json()["version"]
    other = patch(people["colleague"], case, {"version": version, "patient_age": 2})
    assert other.status_code == 409 and other.json()["detail"]["code"] == "ticket_taken"
    assert row(mdb, case).patient_age is None
    emt = patch(people["emt"], case, {"version": version, "patient_age": 3})
    assert emt.status_code == 200, emt.text
    own = patch(people["doctor"], case, {"version": version + 1, "patient_age": 4})
    assert own.status_code == 200 and own.json()["patient_age"] == 4


def test_a_closed_case_is_final_a_resolved_one_may_be_completed(server, people, mdb):
    case = open_case(server)
    doctor = people["doctor"]
    assert doctor.post(f"/api/v1/tickets/{case}/claim").status_code == 200
    assert doctor.post(f"/api/v1/tickets/{case}/messages", json={"text": "괜찮으세요?"}).is_success
    assert doctor.post(f"/api/v1/tickets/{case}/status", json={"status": "resolved"}).is_success
    version = version_of(doctor, case)
    done = patch(doctor, case, {"version": version, "assessment": "위염"})
    assert done.status_code == 200, done.text
    assert doctor.post(f"/api/v1/tickets/{case}/status", json={"status": "closed"}).is_success
    closed = patch(doctor, case, {"version": version_of(doctor, case), "plan": "x"})
    assert closed.status_code == 409 and closed.json()["detail"]["code"] == "ticket_closed"
    assert row(mdb, case).plan is None


def test_a_missing_case_is_404(server, people):
    r = patch(people["emt"], 999_999, {"version": 1, "patient_age": 3})
    assert r.status_code == 404 and r.json()["detail"]["code"] == "ticket_not_found"


def test_the_case_country_names_the_number_of_later_acknowledgements(server, people):
    url = f"{server.url}/api/v1/intake/chat"
    base = {"source": "kakao", "sender_id": "record-country", "locale": "en", "country": "US"}
    first = httpx.post(url, json={**base, "message_id": "rc1", "text": "chest pain"}, timeout=10)
    assert first.status_code == 201, first.text
    case = first.json()["ticket_id"]
    follow = httpx.post(url, json={**base, "message_id": "rc2", "text": "still"}, timeout=10)
    assert "911" in follow.json()["reply"]["text"]
    # The traveller's channel still says US; the EMT learns the ship is in Japanese waters.
    version = version_of(people["emt"], case)
    r = patch(people["emt"], case, {"version": version, "country": "JP"})
    assert r.status_code == 200, r.text
    later = httpx.post(url, json={**base, "message_id": "rc3", "text": "worse"}, timeout=10)
    text = later.json()["reply"]["text"]
    assert "119" in text and "911" not in text, text


def test_admins_see_which_fields_changed_and_managers_nothing_of_it():
    from consult119.console.shaping import COORDINATION, FULL, OPERATIONAL, shape_data

    data = {
        "ticket": {"id": 1, "case_number": "C119-2026-000001", "country": "JP"},
        "by": 3,
        "fields": ["medication", "patient_age"],
        "changes": {"medication": "amlodipine", "patient_age": 58},
    }
    assert shape_data(data, FULL) == data
    admin = shape_data(data, COORDINATION)
    assert admin["fields"] == data["fields"] and "changes" not in admin
    manager = shape_data(data, OPERATIONAL)
    assert "changes" not in manager and "fields" not in manager
    assert "country" not in manager["ticket"]
