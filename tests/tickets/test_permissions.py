"""The role × action table of docs/security.md, checked route by route over a real socket."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import make_staff
from tests.tickets.conftest import Client, open_case

ALL = {"doctor", "emt", "manager", "admin"}
MISSING = 999_999  # a case or staff id that does not exist: allowed roles get 404, not 403

# (method, path, body, roles allowed)
MATRIX = [
    ("GET", "/api/v1/staff/me", None, ALL),
    ("GET", "/api/v1/staff?on_duty=true", None, ALL),
    ("POST", "/api/v1/staff/me/presence", {"status": "available"}, ALL),
    ("GET", "/api/v1/roster", None, ALL),
    (
        "POST",
        "/api/v1/staff",
        {"email": "x@example.org", "name": "X", "role": "nope", "password": "long-enough-pw"},
        {"admin"},
    ),
    ("POST", f"/api/v1/staff/{MISSING}/disable", None, {"admin"}),
    (
        "POST",
        "/api/v1/roster",
        {"staff_id": MISSING, "start": "2025-01-01T00:00:00Z", "end": "2025-01-01T08:00:00Z"},
        {"admin"},
    ),
    ("GET", "/api/v1/audit", None, {"admin"}),
    ("GET", "/api/v1/tickets", None, {"doctor", "emt", "admin"}),
    ("GET", "/api/v1/tickets/{case}", None, {"doctor", "emt"}),
    ("GET", f"/api/v1/attachments/{MISSING}", None, {"doctor", "emt"}),
    ("GET", f"/api/v1/attachments/{MISSING}/thumbnail", None, {"doctor", "emt"}),
    (
        "POST",
        f"/api/v1/tickets/{MISSING}/triage",
        {"acuity": 3, "category": "other"},
        {"doctor", "emt"},
    ),
    ("POST", f"/api/v1/tickets/{MISSING}/claim", None, {"doctor"}),
    ("POST", f"/api/v1/tickets/{MISSING}/assign", {"staff_id": 1}, {"emt", "admin"}),
    ("POST", f"/api/v1/tickets/{MISSING}/transfer", {"staff_id": 1}, {"doctor", "emt", "admin"}),
    ("POST", f"/api/v1/tickets/{MISSING}/release", None, {"doctor", "emt", "admin"}),
    ("POST", f"/api/v1/tickets/{MISSING}/messages", {"text": "hi"}, {"doctor", "emt"}),
    ("POST", f"/api/v1/tickets/{MISSING}/status", {"status": "resolved"}, {"doctor", "emt"}),
    ("POST", f"/api/v1/tickets/{MISSING}/webchat/revoke", None, {"doctor", "emt", "admin"}),
    (
        "POST",
        f"/api/v1/tickets/{MISSING}/followups",
        {"due_at": "2099-01-01T00:00:00Z", "note": "x"},
        {"doctor", "emt"},
    ),
    ("POST", f"/api/v1/followups/{MISSING}/done", None, {"doctor", "emt"}),
    ("POST", f"/api/v1/tickets/{MISSING}/handoff", {"note": "x"}, {"doctor", "emt"}),
]


@pytest.fixture
def people(module_server, db):
    return {role: Client(module_server, make_staff(db, role, on_duty=True)) for role in ALL}


def test_every_route_checks_the_role(module_server, people):
    case = open_case(module_server)
    seen = []
    for method, path, body, allowed in MATRIX:
        path = path.replace("{case}", str(case))
        anonymous = httpx.request(method, module_server.url + path, json=body, timeout=10)
        assert anonymous.status_code == 401, (path, anonymous.text)
        assert anonymous.json()["detail"]["code"] == "not_authenticated"
        for role, client in people.items():
            r = client.http.request(method, path, json=body)
            if role in allowed:
                assert r.status_code not in (401, 403), (role, method, path, r.text)
            else:
                assert r.status_code == 403, (role, method, path, r.text)
                assert r.json()["detail"]["code"] == "forbidden_role"
            seen.append((role, path, r.status_code))
    # The manager, who sees aggregates only, reached no case at all.
    assert all(code == 403 for role, path, code in seen if role == "manager" and "tickets" in path)


def test_case_detail_is_audited_and_listed_for_admins(module_server, people):
    case = open_case(module_server, "아이가 열이 나요")
    r = people["doctor"].get(f"/api/v1/tickets/{case}")
    assert r.status_code == 200
    body = r.json()
    assert [m["direction"] for m in body["messages"]] == ["inbound"]
    assert body["messages"][0]["text"] == "아이가 열이 나요"
    entries = people["admin"].get("/api/v1/audit", params={"ticket_id": case}).json()
    assert entries["total"] == 1
    entry = entries["items"][0]
    assert entry["staff_id"] == people["doctor"].id
    assert entry["action"] == "ticket.view"
    assert entry["client_ip"] == "127.0.0.1"
    assert entry["detail"]["case_number"] == body["case_number"]
    # A refused read leaves no trace of data seen, and no entry.
    assert people["manager"].get(f"/api/v1/tickets/{case}").status_code == 403
    assert people["admin"].get("/api/v1/audit", params={"ticket_id": case}).json()["total"] == 1
