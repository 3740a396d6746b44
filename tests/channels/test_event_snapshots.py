"""Zulip-style checks: a snapshot before, plus the events an action appended applied the way a
console applies them, equals a snapshot after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from consult119.context import AppContext
from consult119.intake.pipeline import take_blocking
from consult119.intake.service import InboundMessage
from consult119.outbound import delivery
from consult119.realtime.models import Event
from consult119.tickets.events import ticket_public
from consult119.tickets.merge import merge_tickets
from consult119.tickets.models import Message, Ticket
from tests.factories import make_reply, make_staff

T0 = datetime(2024, 7, 1, 9, 0, tzinfo=UTC)


def snapshot(db):
    with db.read_session() as s:
        tickets = {t.id: ticket_public(t) for t in s.scalars(select(Ticket))}
        deliveries = {
            m.id: m.delivery for m in s.scalars(select(Message)) if m.direction == "outbound"
        }
        last = s.scalar(select(func.max(Event.id))) or 0
    return tickets, deliveries, last


def apply(state, db, after):
    tickets, deliveries = dict(state[0]), dict(state[1])
    with db.read_session() as s:
        for e in s.scalars(select(Event).where(Event.id > after).order_by(Event.id)):
            if "ticket" in e.data:
                tickets[e.data["ticket"]["id"]] = e.data["ticket"]
            if e.name == "message.delivery_changed":
                deliveries[e.data["message_id"]] = e.data["delivery"]
    return tickets, deliveries


def cases(db):
    ctx = AppContext(settings=db.settings, db=db, signing_key="k" * 40, clock=lambda: T0)
    a = take_blocking(
        ctx,
        InboundMessage(
            source="smtp", sender_id="a@x.org", external_id="<1@x>", text="help", email="a@x.org"
        ),
    ).result
    b = take_blocking(
        ctx,
        InboundMessage(
            source="phone",
            sender_id="+821012345678",
            text="call",
            phone_e164="+821012345678",
            email="a@x.org",
        ),
    ).result
    return a.ticket_id, b.ticket_id


def test_merge_events_rebuild_the_after_state(db):
    a, b = cases(db)
    staff = make_staff(db, "emt")
    before = snapshot(db)
    with db.unit_of_work() as s:
        merge_tickets(s, b, a, actor_id=staff.id, now=T0)
    after = snapshot(db)
    assert apply(before, db, before[2]) == after[:2]
    assert after[0][b]["status"] == "merged"


def test_delivery_events_rebuild_the_after_state(db):
    a, _ = cases(db)
    reply = make_reply(db, a, "Rest and drink water.", now=T0)
    before = snapshot(db)
    with db.unit_of_work() as s:
        [claim] = delivery.claim_due(s, now=T0, lease=timedelta(minutes=1), sources=["smtp"])
    with db.unit_of_work() as s:
        delivery.mark_sent(s, claim, now=T0)
    after = snapshot(db)
    assert apply(before, db, before[2]) == after[:2]
    assert after[1][reply] == "sent"
