"""Appending to the event log, in the same transaction as the change it records.

Services call :func:`append`; the unit of work calls :func:`flush_pending_events` just before
commit. Ids come from one counter row updated last in the transaction: its row lock is held
until commit, so ids increase strictly in commit order and a reader asking for "after N" never
skips an event that commits later with a smaller id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.orm import Session

from consult119.db import before_commit, utcnow
from consult119.realtime.models import Event, EventCounter

_PENDING = "pending_events"
_counter = EventCounter.__table__  # type: ignore[attr-defined]
# Built once: Core statements on the tables, so every commit reuses the compiled form.
_TAKE_IDS = (
    update(_counter)
    .where(_counter.c.id == 1)
    .values(last_id=_counter.c.last_id + bindparam("n"))
    .returning(_counter.c.last_id)
)
_INSERT_EVENTS = insert(Event.__table__)  # type: ignore[attr-defined]
NOTIFY_CHANNEL = "consult119_events"


def append(
    session: Session,
    name: str,
    *,
    ticket_id: int | None = None,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Record that ``name`` happened; written when the unit of work commits."""
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING, [])
    row = {
        "name": name,
        "at": at or utcnow(),
        "ticket_id": ticket_id,
        "actor_id": actor_id,
        "data": data or {},
    }
    pending.append(row)
    return row


@before_commit
def flush_pending_events(session: Session) -> list[dict[str, Any]]:
    """Give the pending events their ids and insert them. Returns them with ids."""
    pending: list[dict[str, Any]] = session.info.pop(_PENDING, [])
    if not pending:
        return []
    n = len(pending)
    last_id = session.execute(_TAKE_IDS, {"n": n}).scalar_one()
    first = last_id - n + 1
    for offset, row in enumerate(pending):
        row["id"] = first + offset
    session.execute(_INSERT_EVENTS, pending)
    if session.get_bind().dialect.name == "postgresql":
        # Delivered to listeners only when (and if) this transaction commits.
        session.execute(text("SELECT pg_notify(:c, :p)"), {"c": NOTIFY_CHANNEL, "p": str(last_id)})
    return pending


async def listen(conn: Any) -> None:
    """``LISTEN`` on the commit channel with an autocommit psycopg ``AsyncConnection``."""
    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
