# ruff: noqa: F811 (the module fixtures imported from the conftest are parameters)
"""Canned replies over a real socket, on both databases: who may read and write them, the
placeholders filled in for a case (its number, its country's emergency number), the traveller's
language first, the version check, bad values, delete, and the access log."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from consult119.audit.models import AuditEntry
from consult119.config import Settings
from consult119.db import build_engine
from consult119.i18n import emergency_numbers
from consult119.migrate import upgrade
from consult119.realtime.models import Event
from consult119.replies.defaults import DEFAULT_REPLIES, default_rows
from consult119.replies.models import CannedReply
from tests.replies.conftest import open_case
from tests.tickets.conftest import Client

DEFAULT_KEYS = {key for key, _position, _texts in DEFAULT_REPLIES}


def replies(client: Client, **params) -> httpx.Response:
    return client.get("/api/v1/replies", params=params)


def by_key(items: list[dict], language: str) -> dict[str, dict]:
    return {r["key"]: r for r in items if r["language"] == language}


def audit_rows(mdb, action: str) -> list[AuditEntry]:
    with mdb.read_session() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def reply_count(mdb) -> int:
    with mdb.read_session() as session:
        return session.scalar(select(func.count()).select_from(CannedReply)) or 0


def create(admin: Client, **fields) -> httpx.Response:
    body = {"key": "k", "language": "en", "title": "A title", "body": "A body.", **fields}
    return admin.post("/api/v1/replies", json=body)


def test_the_migration_seeds_the_seven_replies_in_both_languages(tmp_path):
    engine = build_engine(Settings(database_url=f"sqlite:///{tmp_path / 'seed.db'}"))
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                CannedReply.key,
                CannedReply.language,
                CannedReply.title,
                CannedReply.body,
                CannedReply.position,
                CannedReply.active,
                CannedReply.version,
            ).order_by(CannedReply.id)
        ).all()
    engine.dispose()
    assert len(rows) == 14 and len(DEFAULT_KEYS) == 7
    assert [dict(r._mapping) for r in rows] == [
        {**row, "active": True, "version": 1} for row in default_rows()
    ]
    assert {(r.key, r.language) for r in rows} == {
        (k, lang) for k in DEFAULT_KEYS for lang in ("ko", "en")
    }


def test_who_may_read_and_who_may_write(server, people):
    case = open_case(server)["ticket_id"]
    for role in ("doctor", "emt", "admin"):
        assert replies(people[role]).status_code == 200, role
    for role in ("doctor", "emt"):
        assert replies(people[role], ticket_id=case).status_code == 200, role
    # Admins keep the replies but do not read cases: filling them in for one is clinical.
    r = replies(people["admin"], ticket_id=case)
    assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role"
    for params in ({}, {"ticket_id": case}):
        r = replies(people["manager"], **params)
        assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role"
    for role in ("doctor", "emt"):
        r = replies(people[role], include_inactive="true")
        assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden_role"
    assert replies(people["admin"], include_inactive="true").status_code == 200

    made = create(people["admin"], key="roles-check")
    assert made.status_code == 201, made.text
    reply = made.json()
    for role in ("doctor", "emt", "manager"):
        client = people[role]
        writes = [
            create(client, key=f"by-{role}"),
            client.http.patch(f"/api/v1/replies/{reply['id']}", json={"version": 1, "title": "x"}),
            client.http.delete(f"/api/v1/replies/{reply['id']}"),
        ]
        for r in writes:
            assert r.status_code == 403, (role, r.text)
            assert r.json()["detail"]["code"] == "forbidden_role"
    anonymous = [
        httpx.get(f"{server.url}/api/v1/replies"),
        httpx.post(f"{server.url}/api/v1/replies", json={}),
        httpx.patch(f"{server.url}/api/v1/replies/{reply['id']}", json={"version": 1}),
        httpx.delete(f"{server.url}/api/v1/replies/{reply['id']}"),
    ]
    assert [r.status_code for r in anonymous] == [401] * 4
    # None of the refused writes reached the row.
    again = by_key(replies(people["admin"]).json()["items"], "en")["roles-check"]
    assert again["version"] == 1 and again["title"] == "A title"


def test_without_a_case_the_list_is_korean_first_and_unrendered(server, people):
    body = replies(people["emt"]).json()
    items = [r for r in body["items"] if r["key"] in DEFAULT_KEYS]
    assert body["total"] == len(body["items"])
    assert [r["language"] for r in items] == ["ko"] * 7 + ["en"] * 7
    order = [key for key, _position, _texts in DEFAULT_REPLIES]
    assert [r["key"] for r in items[:7]] == order and [r["key"] for r in items[7:]] == order
    assert all(r["text"] is None for r in items)
    call = by_key(items, "en")["call_ems"]
    assert "{emergency_number}" in call["body"] and call["active"] is True


def test_an_english_travellers_case_gets_english_first_with_its_numbers(server, people):
    case = open_case(server, locale="en-GB", country="de")
    r = replies(people["doctor"], ticket_id=case["ticket_id"])
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    languages = [i["language"] for i in items]
    assert languages == sorted(languages, key=lambda lang: lang != "en")
    assert languages[0] == "en" and "ko" in languages
    ambulance = emergency_numbers("DE").ambulance
    en, ko = by_key(items, "en"), by_key(items, "ko")
    assert en["call_ems"]["text"] == (
        f"This may be life-threatening. Call {ambulance} now and ask for an ambulance, then "
        "tell us how it goes."
    )
    assert en["follow_up"]["text"].count(case["case_number"]) == 1
    assert f"{ambulance}에 전화해" in ko["call_ems"]["text"]
    assert case["case_number"] in ko["follow_up"]["text"]
    # The stored body keeps its placeholders; a reply without any is its body as it is.
    assert "{case_number}" in en["follow_up"]["body"]
    assert en["photo"]["text"] == en["photo"]["body"]
    assert all("{" not in i["text"] for i in items)


def test_a_case_without_a_country_gets_the_acknowledgements_wording(server, people):
    case = open_case(server)
    items = replies(people["emt"], ticket_id=case["ticket_id"]).json()["items"]
    assert items[0]["language"] == "ko"
    ko, en = by_key(items, "ko"), by_key(items, "en")
    assert "지금 바로 현지 응급번호에 전화해" in ko["call_ems"]["text"]
    assert "Call the local emergency number now" in en["call_ems"]["text"]


def test_the_country_the_case_record_names_wins(server, people):
    case = open_case(server, locale="en", country="JP")
    ticket = people["emt"].get(f"/api/v1/tickets/{case['ticket_id']}").json()
    r = people["emt"].http.patch(
        f"/api/v1/tickets/{case['ticket_id']}", json={"version": ticket["version"], "country": "AU"}
    )
    assert r.status_code == 200, r.text
    items = replies(people["emt"], ticket_id=case["ticket_id"]).json()["items"]
    assert (
        f"Call {emergency_numbers('AU').ambulance} now" in by_key(items, "en")["call_ems"]["text"]
    )


def test_reading_replies_for_a_case_is_in_the_access_log(server, people, mdb):
    case = open_case(server, locale="en", country="FR")
    before = len(audit_rows(mdb, "replies.render"))
    replies(people["doctor"])  # no case: nothing personal read, nothing logged
    assert len(audit_rows(mdb, "replies.render")) == before
    r = replies(people["doctor"], ticket_id=case["ticket_id"])
    rows = audit_rows(mdb, "replies.render")
    assert len(rows) == before + 1
    entry = rows[-1]
    assert entry.staff_id == people["doctor"].id and entry.ticket_id == case["ticket_id"]
    assert entry.detail == {"case_number": case["case_number"], "replies": r.json()["total"]}
    assert entry.client_ip == "127.0.0.1"


def test_an_admin_adds_changes_hides_and_deletes_a_reply(server, people, mdb):
    admin = people["admin"]
    r = create(
        admin,
        key="shelter",
        language="ko",
        title="  대피 안내 ",
        body=" 상담 번호 {case_number}: 안전한 곳으로 이동하세요. ",
        position=5,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["title"] == "대피 안내" and made["body"].startswith("상담 번호 {case_number}")
    assert made["version"] == 1 and made["active"] is True and made["text"] is None
    # Position 5 puts it before every default reply of its language.
    listed = replies(people["doctor"]).json()["items"]
    assert listed[0]["key"] == "shelter"

    path = f"/api/v1/replies/{made['id']}"
    r = admin.http.patch(path, json={"version": 1, "title": "대피"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["title"] == "대피"
    # A second admin still holding version 1 is told what is there now.
    r = admin.http.patch(path, json={"version": 1, "body": "다른 내용"})
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert detail["code"] == "stale_version" and detail["version"] == 2
    assert detail["current"]["title"] == "대피" and detail["current"]["body"] == made["body"]
    # The same values again change nothing.
    r = admin.http.patch(path, json={"version": 2, "title": "대피"})
    assert r.status_code == 200 and r.json()["version"] == 2

    r = admin.http.patch(path, json={"version": 2, "active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert "shelter" not in by_key(replies(people["emt"]).json()["items"], "ko")
    hidden = replies(admin, include_inactive="true").json()["items"]
    assert by_key(hidden, "ko")["shelter"]["active"] is False

    r = admin.http.delete(path)
    assert r.status_code == 204 and r.content == b""
    assert "shelter" not in by_key(replies(admin, include_inactive="true").json()["items"], "ko")
    for again in (admin.http.delete(path), admin.http.patch(path, json={"version": 3})):
        assert again.status_code == 404 and again.json()["detail"]["code"] == "reply_not_found"

    expected = {"reply_id": made["id"], "key": "shelter", "language": "ko"}
    (created,) = [e for e in audit_rows(mdb, "reply.create") if e.detail["reply_id"] == made["id"]]
    assert created.detail == expected and created.staff_id == admin.id
    updates = [
        e.detail for e in audit_rows(mdb, "reply.update") if e.detail["reply_id"] == made["id"]
    ]
    assert updates == [{**expected, "fields": ["title"]}, {**expected, "fields": ["active"]}]
    (deleted,) = [e for e in audit_rows(mdb, "reply.delete") if e.detail["reply_id"] == made["id"]]
    assert deleted.detail == expected and deleted.ticket_id is None
    # Each write told the consoles, in the same transaction.
    with mdb.read_session() as session:
        changes = [
            (e.actor_id, e.ticket_id, e.data)
            for e in session.scalars(
                select(Event).where(Event.name == "reply.changed").order_by(Event.id)
            )
            if e.data["reply_id"] == made["id"]
        ]
    assert changes == [
        (admin.id, None, {**expected, "change": "created"}),
        (admin.id, None, {**expected, "change": "updated", "fields": ["title"]}),
        (admin.id, None, {**expected, "change": "updated", "fields": ["active"]}),
        (admin.id, None, {**expected, "change": "deleted"}),
    ]


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"language": "ja"}, 422, "unknown_language", "language"),
        ({"body": "   "}, 422, "empty_text", "body"),
        ({"body": "x" * 2001}, 422, "text_too_long", "body"),
        ({"body": "a\x00b"}, 422, "invalid_text", "body"),
        ({"body": "Call {ambulance} now."}, 422, "unknown_placeholder", "body"),
        ({"body": "Case {Case_Number}."}, 422, "unknown_placeholder", "body"),
        ({"title": ""}, 422, "empty_text", "title"),
        ({"title": "t" * 101}, 422, "text_too_long", "title"),
        ({"key": "Not A Slug"}, 422, "invalid_field", "key"),
        ({"key": "k" * 41}, 422, "invalid_field", "key"),
        ({"position": -1}, 422, "invalid_field", "position"),
        ({"colour": "red"}, 422, "invalid_field", "colour"),
        ({"body": None}, 422, "invalid_field", "body"),
    ],
)
def test_bad_values_are_refused_with_the_field(server, people, mdb, fields, status, code, field):
    before = reply_count(mdb)
    r = create(people["admin"], **{"key": "bad-value", **fields})
    assert r.status_code == status, r.text
    assert r.json()["detail"]["code"] == code and r.json()["detail"]["field"] == field
    if code == "text_too_long":  # the limit, for the console to say
        assert r.json()["detail"]["max_chars"] == {"body": 2000, "title": 100}[field]
    assert reply_count(mdb) == before


def test_keys_are_unique_per_language_and_ids_are_bounded(server, people, mdb):
    admin = people["admin"]
    assert create(admin, key="dup", language="en").status_code == 201
    other = create(admin, key="dup", language="ko")
    assert other.status_code == 201, other.text
    before = reply_count(mdb)
    r = create(admin, key="dup", language="en", body="Again.")
    assert r.status_code == 409 and r.json()["detail"]["code"] == "reply_exists"
    # Moving the Korean one onto the English key is the same clash.
    moved = admin.http.patch(
        f"/api/v1/replies/{other.json()['id']}", json={"version": 1, "language": "en"}
    )
    assert moved.status_code == 409 and moved.json()["detail"]["code"] == "reply_exists"
    bad = admin.http.patch(
        f"/api/v1/replies/{other.json()['id']}", json={"version": 1, "body": "{x}"}
    )
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "unknown_placeholder"
    assert bad.json()["detail"]["placeholders"] == ["case_number", "emergency_number"]
    null = admin.http.patch(
        f"/api/v1/replies/{other.json()['id']}", json={"version": 1, "key": None}
    )
    assert null.status_code == 422 and null.json()["detail"]["field"] == "key"
    assert reply_count(mdb) == before

    for path in ("/api/v1/replies/0", "/api/v1/replies/2147483648"):
        assert admin.http.delete(path).status_code == 422
        assert admin.http.patch(path, json={"version": 1}).status_code == 422
    for ticket_id in ("0", "2147483648", "x"):
        r = replies(admin, ticket_id=ticket_id)
        assert r.status_code == 422 and r.json()["detail"]["field"] == "ticket_id"
    r = replies(people["doctor"], ticket_id=2147483647)
    assert r.status_code == 404 and r.json()["detail"]["code"] == "ticket_not_found"
