"""Reading the event log: its head, its oldest event, and the events after an id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, distinct, func, select
from sqlalchemy.orm import Session

from consult119.realtime.models import Event, EventCounter


def head_event_id(session: Session) -> int:
    """The id of the newest committed event (0 when there is none)."""
    return int(session.scalar(select(EventCounter.last_id).where(EventCounter.id == 1)) or 0)


def oldest_event_id(session: Session) -> int | None:
    """The id of the oldest event still kept, or None when the log is empty."""
    return session.scalar(select(func.min(Event.id)))


_events = Event.__table__  # type: ignore[attr-defined]
# Built once, read as plain rows: the relay runs after every commit.
_READ_AFTER = (
    select(_events)
    .where(_events.c.id > bindparam("after"))
    .order_by(_events.c.id)
    .limit(bindparam("limit"))
)


#: Events whose data carries a traveller's words (message text).
PERSONAL_EVENTS = ("message.created",)


def count_personal_events(session: Session, after: int, upto: int) -> tuple[int, int]:
    """How many events in ``(after, upto]`` carry message text, and on how many cases."""
    row = session.execute(
        select(func.count(), func.count(distinct(Event.ticket_id))).where(
            Event.id > after, Event.id <= upto, Event.name.in_(PERSONAL_EVENTS)
        )
    ).one()
    return int(row[0]), int(row[1])


def events_after(session: Session, after: int, limit: int) -> Any:
    """Up to ``limit`` event rows with id > ``after``, in id order (plain rows, no ORM)."""
    return session.execute(_READ_AFTER, {"after": after, "limit": limit})
