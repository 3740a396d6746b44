"""What a console reads from the database: its snapshot, and the events it missed.

Every function here runs in a worker thread inside one short read session; a WebSocket never
holds a session for its lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consult119.alerts import service as alerts_service
from consult119.alerts.schemas import alert_json
from consult119.audit import service as audit
from consult119.console.shaping import FULL, OPERATIONAL, shape_ticket
from consult119.db import Database
from consult119.realtime.relay import read_events_after
from consult119.realtime.repository import (
    count_personal_events,
    head_event_id,
    oldest_event_id,
)
from consult119.staff import repository as staff_repo
from consult119.staff.schemas import StaffPublic
from consult119.tickets import repository as ticket_repo
from consult119.tickets.events import ticket_public


def read_snapshot(
    db: Database, *, staff_id: int, audience: str, now: datetime, limit: int
) -> dict[str, Any]:
    """The console's starting state. ``last_event_id`` is read BEFORE the state, so every
    change after it arrives as an event (some may already show in the state; applying a
    ticket event twice is harmless because it carries the whole ticket)."""
    with db.read_session() as session:
        last_event_id = head_event_id(session)
        queue, queue_total = ticket_repo.list_tickets(session, limit=limit)
        if audience == FULL:
            mine, mine_total = ticket_repo.list_tickets(session, assignee_id=staff_id, limit=limit)
        else:
            mine, mine_total = [], 0
        on_duty = staff_repo.list_staff(session, now=now, on_duty=True)
        me = staff_repo.get_staff(session, staff_id)
        me_on_duty = staff_repo.is_on_duty(session, staff_id, now)
        # Managers see the operation in aggregate: alerts are for the people who must act.
        open_alerts = (
            None
            if audience == OPERATIONAL
            else alerts_service.list_alerts(session, state="open", limit=limit)
        )
    snapshot = {
        "type": "snapshot",
        "last_event_id": last_event_id,
        "me": StaffPublic.json_of(me, me_on_duty) if me is not None else None,
        "queue": {
            "items": [shape_ticket(ticket_public(t), audience) for t in queue],
            "total": queue_total,
        },
        "my_cases": {
            "items": [shape_ticket(ticket_public(t), audience) for t in mine],
            "total": mine_total,
        },
        "staff": [StaffPublic.json_of(s, flag) for s, flag in on_duty],
    }
    if open_alerts is not None:
        rows, total = open_alerts
        snapshot["alerts"] = {"items": [alert_json(a) for a in rows], "total": total}
    return snapshot


@dataclass(frozen=True)
class ResumePlan:
    """How a console resuming after ``resume_after`` catches up."""

    kind: str  # "replay" | "too_old" | "future"
    head: int


def plan_resume(db: Database, resume_after: int, max_replay: int) -> ResumePlan:
    """Replay when the log still holds every event after ``resume_after`` and there are not
    too many; otherwise the console needs a fresh snapshot."""
    with db.read_session() as session:
        head = head_event_id(session)
        oldest = oldest_event_id(session)
    if resume_after > head:
        return ResumePlan("future", head)
    if resume_after == head:
        return ResumePlan("replay", head)
    # Ids are gap-free, so the log holds every missed event iff it starts at or before the
    # first one the console has not seen.
    if oldest is None or oldest > resume_after + 1 or head - resume_after > max_replay:
        return ResumePlan("too_old", head)
    return ResumePlan("replay", head)


def read_replay(db: Database, after: int, limit: int) -> list[dict[str, Any]]:
    with db.read_session() as session:
        return read_events_after(session, after, limit)


def record_replay_access(
    db: Database,
    *,
    staff_id: int,
    audience: str,
    after: int,
    head: int,
    client_ip: str | None,
    now: datetime,
) -> int:
    """Before a replay goes out, write one access-log row when it carries message text the
    reader may see: the range and the counts, never the contents. Returns the message count.

    A snapshot needs no row: it holds the queue as ``GET /api/v1/tickets`` shows it, with no
    message text and no patient details. Live events after ``ready`` are the console at work,
    as a screen showing a case is; the replay is a bulk read of what was missed.
    """
    if audience != FULL or head <= after:
        return 0
    with db.unit_of_work() as session:
        messages, cases = count_personal_events(session, after, head)
        if messages:
            audit.record(
                session,
                staff_id=staff_id,
                action=audit.CONSOLE_REPLAY,
                client_ip=client_ip,
                detail={"after": after, "upto": head, "messages": messages, "cases": cases},
                at=now,
            )
    return messages
