"""Staff, presence and roster over a real socket."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from consult119.db import utcnow
from consult119.realtime.models import Event
from tests.factories import add_shift, make_staff


def test_me_on_duty_list_and_presence(module_server, db):
    on = make_staff(db, "doctor", on_duty=True, name="Dr On")
    off = make_staff(db, "doctor", on_duty=False, name="Dr Off")
    h = on.headers(module_server.url)
    me = httpx.get(f"{module_server.url}/api/v1/staff/me", headers=h, timeout=10).json()
    assert me == {
        "id": on.id,
        "email": on.email,
        "name": "Dr On",
        "role": "doctor",
        "on_duty": True,
        "presence": "offline",
    }
    listed = httpx.get(
        f"{module_server.url}/api/v1/staff", params={"on_duty": "true"}, headers=h, timeout=10
    ).json()
    assert [s["id"] for s in listed["items"]] == [on.id] and listed["total"] == 1
    everyone = httpx.get(f"{module_server.url}/api/v1/staff", headers=h, timeout=10).json()
    assert {s["id"] for s in everyone["items"]} == {on.id, off.id}

    r = httpx.post(
        f"{module_server.url}/api/v1/staff/me/presence",
        json={"status": "busy"},
        headers=h,
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["presence"] == "busy"
    r = httpx.post(
        f"{module_server.url}/api/v1/staff/me/presence",
        json={"status": "asleep"},
        headers=h,
        timeout=10,
    )
    assert r.status_code == 422 and r.json()["detail"]["code"] == "unknown_presence"
    with db.read_session() as s:
        events = s.scalars(select(Event).where(Event.name == "presence.changed")).all()
    assert [(e.data["from"], e.data["to"]) for e in events] == [("offline", "busy")]


def test_admin_roster_api(module_server, db):
    admin = make_staff(db, "admin")
    doctor = make_staff(db, "doctor")
    h = admin.headers(module_server.url)
    start = (utcnow() - timedelta(minutes=5)).replace(microsecond=0)
    end = start + timedelta(hours=8)
    body = {"staff_id": doctor.id, "start": start.isoformat(), "end": end.isoformat()}
    r = httpx.post(f"{module_server.url}/api/v1/roster", json=body, headers=h, timeout=10)
    assert r.status_code == 201, r.text
    r = httpx.post(f"{module_server.url}/api/v1/roster", json=body, headers=h, timeout=10)
    assert r.status_code == 409 and r.json()["detail"]["code"] == "shift_overlaps"
    bad = {**body, "end": (start - timedelta(hours=1)).isoformat()}
    r = httpx.post(f"{module_server.url}/api/v1/roster", json=bad, headers=h, timeout=10)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "shift_ends_before_start"
    naive = {**body, "start": "2025-01-01T00:00:00"}
    r = httpx.post(f"{module_server.url}/api/v1/roster", json=naive, headers=h, timeout=10)
    assert r.status_code == 422
    now_on = httpx.get(f"{module_server.url}/api/v1/roster", headers=h, timeout=10).json()
    assert [s["staff_id"] for s in now_on["items"]] == [doctor.id]
    me = httpx.get(
        f"{module_server.url}/api/v1/staff/me",
        headers=doctor.headers(module_server.url),
        timeout=10,
    ).json()
    assert me["on_duty"] is True
    later = httpx.get(
        f"{module_server.url}/api/v1/roster",
        params={"at": (end + timedelta(minutes=1)).isoformat()},
        headers=h,
        timeout=10,
    ).json()
    assert later["total"] == 0


def test_admin_changes_a_role_and_the_old_token_stops_working(module_server, db):
    admin = make_staff(db, "admin")
    doctor = make_staff(db, "doctor", on_duty=True)
    url = module_server.url
    old_token = doctor.headers(url)
    assert httpx.get(f"{url}/api/v1/staff/me", headers=old_token, timeout=10).status_code == 200

    h = admin.headers(url)
    r = httpx.post(
        f"{url}/api/v1/staff/{doctor.id}/role", json={"role": "emt"}, headers=h, timeout=10
    )
    assert r.status_code == 200
    assert (r.json()["role"], r.json()["on_duty"]) == ("emt", True)
    assert httpx.get(f"{url}/api/v1/staff/me", headers=old_token, timeout=10).status_code == 401
    with db.read_session() as s:
        events = s.scalars(select(Event).where(Event.name == "staff.role_changed")).all()
    assert [(e.data["from"], e.data["to"]) for e in events] == [("doctor", "emt")]

    refusals = [
        (f"/api/v1/staff/{doctor.id}/role", {"role": "surgeon"}, h, 422, "unknown_role"),
        (f"/api/v1/staff/{admin.id}/role", {"role": "doctor"}, h, 409, "own_role"),
        ("/api/v1/staff/999999/role", {"role": "emt"}, h, 404, "staff_not_found"),
        (f"/api/v1/staff/{admin.id}/role", {"role": "doctor"}, doctor.headers(url), 403, None),
    ]
    for path, body, headers, status, code in refusals:
        r = httpx.post(f"{url}{path}", json=body, headers=headers, timeout=10)
        assert r.status_code == status, (path, r.text)
        if code:
            assert r.json()["detail"]["code"] == code
    with db.read_session() as s:
        assert len(s.scalars(select(Event).where(Event.name == "staff.role_changed")).all()) == 1


def test_roster_gaps_shape_roles_and_validation(module_server, db):
    admin, emt = make_staff(db, "admin"), make_staff(db, "emt")
    doctor, manager = make_staff(db, "doctor"), make_staff(db, "manager")
    other = make_staff(db, "doctor")
    now = utcnow().replace(microsecond=0)
    add_shift(db, doctor.id, now - timedelta(hours=1), now + timedelta(hours=3))
    add_shift(db, other.id, now + timedelta(hours=5), now + timedelta(hours=30))
    url = f"{module_server.url}/api/v1/roster/gaps"
    for who in (admin, emt):
        r = httpx.get(url, params={"hours": 24}, headers=who.headers(module_server.url), timeout=10)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "items": [
                {
                    "start": (now + timedelta(hours=3)).isoformat().replace("+00:00", "Z"),
                    "end": (now + timedelta(hours=5)).isoformat().replace("+00:00", "Z"),
                    "doctors_on_duty": 0,
                }
            ],
            "total": 1,
        }
    h = admin.headers(module_server.url)
    # Within two hours nothing is missing; a week ahead the roster runs out after 30 h.
    assert httpx.get(url, params={"hours": 2}, headers=h, timeout=10).json()["items"] == []
    week = httpx.get(url, params={"hours": 168}, headers=h, timeout=10).json()["items"]
    assert len(week) == 2 and week[1]["doctors_on_duty"] == 0
    for who in (doctor, manager):
        r = httpx.get(url, headers=who.headers(module_server.url), timeout=10)
        assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role"
    for bad in ("0", "169", "x", "-1", "1.5"):
        r = httpx.get(url, params={"hours": bad}, headers=h, timeout=10)
        assert r.status_code == 422 and r.json()["detail"]["code"] == "invalid_field", bad
    r = httpx.get(url, params={"min_doctors": "0"}, headers=h, timeout=10)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "invalid_field"
