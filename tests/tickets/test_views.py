# ruff: noqa: F811 (the module fixtures imported from tests.tickets.live are parameters)
"""Queue views (``GET /api/v1/tickets?view=``) and what each row shows — the traveller's name,
age/sex, country, the last inbound message's first line and the unread count — over a real
socket on both databases, computed in the list query whatever the page's length."""

from __future__ import annotations

import httpx
from sqlalchemy import event

from consult119.tickets import repository as repo
from consult119.tickets.routes import first_line
from tests.tickets.live import mdb, people, server  # noqa: F401 (module fixtures)


def chat(server, sender: str, n: int, text: str, **extra) -> int:
    r = httpx.post(
        f"{server.url}/api/v1/intake/chat",
        json={"source": "kakao", "sender_id": sender, "message_id": f"{sender}-{n}", "text": text}
        | extra,
        timeout=10,
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["ticket_id"]


def rows(client, **params) -> dict[int, dict]:
    r = client.get("/api/v1/tickets", params={"limit": 200, **params})
    assert r.status_code == 200, r.text
    return {t["id"]: t for t in r.json()["items"]}


def test_a_row_shows_who_waits_and_what_they_wrote_last(server, people):
    doctor, emt = people["doctor"], people["emt"]
    case = chat(server, "v-row", 1, "남편이 가슴이 아파요", sender_name="이영희", country="JP")
    long_line = "배 위에서 " + "아주 " * 60 + "아파요"
    chat(server, "v-row", 2, f"\n  {long_line}\n두 번째 줄은 미리보기에 없어요")
    version = emt.get(f"/api/v1/tickets/{case}").json()["version"]
    patched = emt.http.patch(
        f"/api/v1/tickets/{case}",
        json={"version": version, "patient_age": 58, "patient_sex": "male"},
    )
    assert patched.is_success, patched.text

    row = rows(emt)[case]
    assert row["traveller_name"] == "이영희"
    assert (row["patient_age"], row["patient_sex"], row["country"]) == (58, "male", "JP")
    assert row["preview"] == first_line(long_line) and len(row["preview"]) == 120
    assert row["preview"].endswith("…") and "두 번째" not in row["preview"]
    assert row["unread"] == 2  # nobody on staff has written yet

    # A staff message (a reply or a note) marks what came before as read.
    assert doctor.post(f"/api/v1/tickets/{case}/claim").is_success
    assert doctor.post(f"/api/v1/tickets/{case}/messages", json={"text": "괜찮으세요?"}).is_success
    assert rows(emt)[case]["unread"] == 0
    chat(server, "v-row", 3, "아직 아파요")
    row = rows(emt)[case]
    assert (row["unread"], row["preview"]) == (1, "아직 아파요")

    # Admins see the queue, never a conversation or patient details.
    admin_row = rows(people["admin"])[case]
    assert admin_row["unread"] == 1
    for key in ("preview", "traveller_name", "patient_age", "patient_sex"):
        assert admin_row[key] is None, key
    assert admin_row["case_number"] == row["case_number"]


def test_views_filter_the_queue(server, people):
    doctor, emt = people["doctor"], people["emt"]
    mine = chat(server, "v-mine", 1, "머리가 아파요")
    free = chat(server, "v-free", 1, "열이 나요")
    waiting = chat(server, "v-wait", 1, "기침이 나요")
    assert doctor.post(f"/api/v1/tickets/{mine}/claim").is_success
    assert doctor.post(f"/api/v1/tickets/{waiting}/claim").is_success
    assert doctor.post(f"/api/v1/tickets/{waiting}/status", json={"status": "waiting"}).is_success
    closed = chat(server, "v-closed", 1, "다 나았어요")
    assert emt.post(f"/api/v1/tickets/{closed}/status", json={"status": "closed"}).is_success

    assert {mine, waiting} <= set(rows(doctor, view="mine"))
    assert free not in rows(doctor, view="mine")
    assert rows(people["colleague"], view="mine").keys().isdisjoint({mine, waiting})
    unassigned = rows(emt, view="unassigned")
    assert free in unassigned and mine not in unassigned and waiting not in unassigned
    assert set(rows(emt, view="waiting")) >= {waiting}
    assert mine not in rows(emt, view="waiting")
    all_open = rows(emt, view="all_open")
    assert {mine, free, waiting} <= set(all_open) and closed not in all_open
    # A view is a filter on top of the others.
    assert closed not in rows(emt, view="all_open", status="all")
    r = emt.get("/api/v1/tickets", params={"view": "everything"})
    assert r.status_code == 422
    assert (r.json()["detail"]["code"], r.json()["detail"]["field"]) == ("unknown_view", "view")


def test_a_page_of_rows_is_two_queries_whatever_its_length(server, people, mdb):
    for n in range(6):
        chat(server, f"v-many-{n}", 1, f"{n}번 환자")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(mdb.engine, "before_cursor_execute", count)
    try:
        with mdb.read_session() as session:
            page, total = repo.queue_rows(
                session, conds=repo.queue_conditions(), limit=200, offset=0
            )
    finally:
        event.remove(mdb.engine, "before_cursor_execute", count)
    assert total == len(page) >= 6
    assert len([s for s in statements if "tickets" in s]) == 2, statements


def test_first_line():
    assert first_line(None) is None
    assert first_line("  \n\n 안녕하세요 \n둘째") == "안녕하세요"
    assert first_line("x" * 121) == "x" * 119 + "…"
    assert first_line("x" * 120) == "x" * 120
