"""The outbox state machine on both databases: one winner per claim, retries, giving up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from consult119.channels.email.thread import reply_subject
from consult119.intake.pipeline import take_blocking
from consult119.intake.service import InboundMessage
from consult119.outbound import delivery
from consult119.outbound.delivery import backoff, claim_due
from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.tickets.models import Message
from tests.factories import make_reply

T0 = datetime(2024, 6, 1, 3, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def a_case(db, source="smtp"):
    from consult119.context import AppContext

    ctx = AppContext(settings=db.settings, db=db, signing_key="k" * 40, clock=lambda: T0)
    result = take_blocking(
        ctx,
        InboundMessage(
            source=source,
            sender_id="t@example.com",
            external_id="<m1@x>",
            text="help",
            email="t@example.com",
        ),
    ).result
    return result.ticket_id


def claim(db, now, sources=("smtp",)):
    with db.unit_of_work() as s:
        return claim_due(s, now=now, lease=LEASE, sources=list(sources))


def test_a_due_item_is_claimed_once_and_reclaimed_after_its_lease(db):
    ticket = a_case(db)
    make_reply(db, ticket, "reply", now=T0)
    first = claim(db, T0)
    assert [c.attempts for c in first] == [1]
    assert claim(db, T0 + timedelta(seconds=1)) == []  # held by the first claimer
    again = claim(db, T0 + LEASE + timedelta(seconds=1))  # the claimer died: lease over
    assert [c.attempts for c in again] == [2]
    # The first claimer's late result no longer counts: nothing is recorded twice.
    with db.unit_of_work() as s:
        assert delivery.mark_sent(s, first[0], now=T0) is False
        assert delivery.mark_sent(s, again[0], now=T0) is True
    with db.read_session() as s:
        names = [
            e.name for e in s.scalars(select(Event).where(Event.name == "message.delivery_changed"))
        ]
    assert names == ["message.delivery_changed"]


def test_failures_back_off_then_give_up_with_an_event(db):
    ticket = a_case(db)
    reply = make_reply(db, ticket, "reply", now=T0)
    now = T0
    for attempt in (1, 2):
        [c] = claim(db, now)
        with db.unit_of_work() as s:
            status = delivery.mark_attempt_failed(
                s, c, "relay_unreachable", now=now, permanent=False, max_attempts=3, base=10, cap=60
            )
        assert status == "queued"
        with db.read_session() as s:
            item = s.scalars(select(OutboxItem)).one()
        assert claim(db, now) == []  # not due yet
        assert timedelta(seconds=5 * 2 ** (attempt - 1)) <= item.next_attempt_at - now
        now = item.next_attempt_at
    [c] = claim(db, now)
    with db.unit_of_work() as s:
        assert (
            delivery.mark_attempt_failed(
                s, c, "relay_unreachable", now=now, permanent=False, max_attempts=3, base=10, cap=60
            )
            == "failed"
        )
    with db.read_session() as s:
        assert s.get(Message, reply).delivery == "failed"
        [event] = s.scalars(select(Event).where(Event.name == "message.delivery_changed")).all()
    assert event.data == {
        "message_id": reply,
        "ticket_id": ticket,
        "delivery": "failed",
        "attempts": 3,
    }


def test_pull_channels_are_left_to_their_sockets(db):
    ticket = a_case(db, source="webchat")
    make_reply(db, ticket, "reply", now=T0)
    assert claim(db, T0, sources=("smtp", "line")) == []


def test_backoff_grows_and_is_capped():
    assert backoff(1, base=2, cap=60) <= timedelta(seconds=2)
    assert timedelta(seconds=30) <= backoff(10, base=2, cap=60) <= timedelta(seconds=60)


def test_reply_subject_carries_the_token_once():
    assert reply_subject("도와주세요", "C119-2024-000001") == "[C119-2024-000001] Re: 도와주세요"
    assert (
        reply_subject("Re: [C119-2024-000001] x", "C119-2024-000001") == "[C119-2024-000001] Re: x"
    )
    assert reply_subject(None, "C119-2024-000001") == "[C119-2024-000001]"
