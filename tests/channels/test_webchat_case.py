"""The ``case`` frame of ``/ws/chat`` with a real ``websockets`` client: a traveller whose
country is unknown is told no number until they name their country (which fills the case as
self-reported), and the page learns when the case is resolved — live, and after a reconnect."""

from __future__ import annotations

import asyncio
import json

import websockets
from sqlalchemy import select

from consult119.db import utcnow
from consult119.staff.models import Staff
from consult119.tickets import service as tickets_service
from consult119.tickets.models import Ticket
from tests.channels.test_webchat import new_session, recv
from tests.factories import make_reply, make_staff


def resolve(db, ticket_id: int, staff_id: int) -> None:
    with db.unit_of_work() as session:
        staff = session.get(Staff, staff_id)
        tickets_service.change_status(session, ticket_id, to="resolved", by=staff, now=utcnow())


def test_country_asked_then_filled_and_resolution_pushed(live_server, db):
    # Skipped the form, and the browser's timezone named no country.
    token = new_session(live_server, locale="en")
    doctor = make_staff(db, "doctor", on_duty=True)

    async def visit():
        async with websockets.connect(f"{live_server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await recv(ws, "ready")
            await ws.send(json.dumps({"type": "message", "text": "Chest pain", "client_id": "c1"}))
            ack = await recv(ws, "ack")
            unknown = await recv(ws, "case")
            await ws.send(json.dumps({"type": "country", "country": "Japan"}))
            bad = await recv(ws, "error")
            await ws.send(json.dumps({"type": "country", "country": "jp"}))
            known = await recv(ws, "case")
            with db.read_session() as s:
                ticket_id = s.scalars(select(Ticket.id)).one()
            await asyncio.to_thread(make_reply, db, ticket_id, "Rest, and call 119 if it worsens.")
            await recv(ws, "message")
            await asyncio.to_thread(resolve, db, ticket_id, doctor.id)
            resolved = await recv(ws, "case")
            return ack, unknown, bad, known, resolved, ticket_id

    ack, unknown, bad, known, resolved, ticket_id = asyncio.run(visit())
    assert unknown == {
        "type": "case",
        "case_number": ack["case_number"],
        "status": "new",
        "country": None,
        "location_type": None,
        "emergency_number": None,
        "emergency": "If life is in danger, call the local emergency number now.",
    }
    assert (bad["code"], bad["field"]) == ("invalid_country", "country")
    assert (known["country"], known["emergency_number"], known["status"]) == ("JP", "119", "new")
    assert "119" in known["emergency"] and "Japan" in known["emergency"]
    assert (resolved["status"], resolved["country"]) == ("resolved", "JP")
    with db.read_session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket.country == "JP" and "country" in (ticket.self_reported or [])

    # Back later: the answer to the hello already says the case is resolved; writing again
    # reopens it, and the page is told so.
    async def come_back():
        async with websockets.connect(f"{live_server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token, "resume_after": 10**9}))
            await recv(ws, "ready")
            first = await recv(ws, "case")
            await ws.send(json.dumps({"type": "message", "text": "It is back", "client_id": "c2"}))
            back = await recv(ws, "ack")
            again = await recv(ws, "case")
            return first, again, back

    first, again, back = asyncio.run(come_back())
    assert (back["created"], back["reopened"]) == (False, True)
    assert (first["status"], first["case_number"]) == ("resolved", ack["case_number"])
    assert again["status"] != "resolved" and again["case_number"] == ack["case_number"]


def test_country_before_the_first_message_goes_with_it(live_server, db):
    token = new_session(live_server, locale="ko")

    async def visit():
        async with websockets.connect(f"{live_server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await recv(ws, "ready")
            await ws.send(json.dumps({"type": "country", "country": "FR"}))
            early = await recv(ws, "case")
            await ws.send(json.dumps({"type": "message", "text": "열이 나요", "client_id": "k1"}))
            await recv(ws, "ack")
            return early, await recv(ws, "case")

    early, case = asyncio.run(visit())
    assert (early["case_number"], early["country"], early["emergency_number"]) == (None, "FR", "15")
    assert (case["country"], case["emergency_number"]) == ("FR", "15")
    with db.read_session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.country == "FR" and "country" in (ticket.self_reported or [])
