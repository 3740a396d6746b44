"""Follow-ups, callbacks and handoff notes.

A follow-up is due at a time; at that time the scheduler raises ``followup_due`` once (cause
``followup_due:followup:<id>``) for the case's holder, or for every doctor on duty when the
holder is off duty; marking it done resolves that alert. A missed call or a voicemail makes a
callback follow-up due by the case's target (once per call). Follow-ups are refused on closed
and merged cases (409 ``ticket_closed``); a resolved case still takes one (a check-in later).

Everything works in the caller's unit of work and appends its event there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from consult119.alerts import service as alerts
from consult119.alerts.models import AlertKind
from consult119.errors import Conflict, Forbidden, Invalid, NotFound
from consult119.followups import repository as repo
from consult119.followups.models import Followup, HandoffNote
from consult119.followups.schemas import FollowupPublic, followup_json, handoff_public
from consult119.i18n import lazy_gettext as _l
from consult119.staff import repository as staff_repo
from consult119.staff.models import Staff
from consult119.tickets import service as tickets
from consult119.tickets.codes import Status
from consult119.tickets.events import ticket_event
from consult119.tickets.models import Ticket
from consult119.triage import ktas

#: How far in the past ``due_at`` may be (a form filled in slowly), and how far ahead.
PAST_GRACE = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=366)
#: The callback's note, in the reader's language when shown.
CALLBACK_NOTE = _l("Call back")
_CLOSED = (Status.CLOSED, Status.MERGED)


def _cause(followup_id: int) -> str:
    return alerts.cause_key(AlertKind.FOLLOWUP_DUE.value, "followup", followup_id)


def _writable_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = tickets.ticket_or_not_found(session, ticket_id)
    if ticket.status in _CLOSED:
        raise Conflict(
            "ticket_closed",
            _l("Case {case_number} is closed.", case_number=ticket.case_number),
            status=ticket.status,
        )
    return ticket


def create(
    session: Session, ticket_id: int, *, staff: Staff, due_at: datetime, note: str, now: datetime
) -> Followup:
    """A follow-up on the case at ``due_at`` (422 ``invalid_due_at``: no timezone, more than a
    minute past, or more than a year ahead; 422 ``invalid_note``: blank)."""
    tickets.require_on_duty_if_doctor(session, staff, now)
    if due_at.tzinfo is None or due_at.utcoffset() is None:
        raise Invalid("invalid_due_at", _l("The due time needs a timezone."), field="due_at")
    if due_at < now - PAST_GRACE or due_at > now + MAX_AHEAD:
        raise Invalid(
            "invalid_due_at",
            _l("The due time must be from now to a year ahead."),
            field="due_at",
        )
    if not note.strip():
        raise Invalid("invalid_note", _l("The note must not be blank."), field="note")
    ticket = _writable_ticket(session, ticket_id)
    followup = repo.add(
        session,
        Followup(
            ticket_id=ticket_id,
            due_at=due_at,
            note=note.strip(),
            created_by=staff.id,
            created_at=now,
        ),
    )
    ticket_event(
        session,
        "followup.created",
        ticket,
        at=now,
        actor_id=staff.id,
        followup=followup_json(followup),
    )
    return followup


def done(session: Session, followup_id: int, *, staff: Staff, now: datetime) -> Followup:
    """Mark the follow-up done and resolve its alert; done again changes nothing (404
    ``followup_not_found``)."""
    tickets.require_on_duty_if_doctor(session, staff, now)
    followup = repo.get(session, followup_id)
    if followup is None:
        raise NotFound(
            "followup_not_found", _l("No follow-up with this id."), followup_id=followup_id
        )
    ticket = tickets.ticket_or_not_found(session, followup.ticket_id)  # locks: one winner
    session.refresh(followup)
    if followup.done_at is not None:
        return followup
    followup.done_at = now
    followup.done_by = staff.id
    session.flush()
    alerts.resolve_cause(session, _cause(followup_id), now=now, by=staff.id, reason="followup_done")
    ticket_event(
        session,
        "followup.done",
        ticket,
        at=now,
        actor_id=staff.id,
        followup=followup_json(followup),
    )
    return followup


def of_ticket(
    session: Session, ticket_id: int, *, locale: str | None = None
) -> list[FollowupPublic]:
    """The case's follow-ups by due time; a callback's note in the reader's language."""
    out = []
    for row in repo.of_ticket(session, ticket_id):
        item = FollowupPublic.model_validate(row)
        if row.cause is not None and row.cause.startswith("call:"):
            item.note = CALLBACK_NOTE.render(locale)
        out.append(item)
    return out


def due_ids(session: Session, now: datetime) -> list[int]:
    return repo.due_ids(session, now)


def raise_due(session: Session, followup_id: int, *, now: datetime) -> bool:
    """``followup_due`` for one due follow-up, once: to the holder on duty, else to every doctor
    on duty (no ``staff_id``). True when this call raised it."""
    followup = repo.get(session, followup_id, for_update=True)
    if (
        followup is None
        or followup.done_at is not None
        or followup.alerted_at is not None
        or followup.due_at > now
    ):
        return False
    followup.alerted_at = now
    session.flush()
    ticket = tickets.ticket_or_not_found(session, followup.ticket_id, lock=False)
    holder = ticket.assignee_id
    if holder is not None and not staff_repo.is_on_duty(session, holder, now):
        holder = None
    alert = alerts.raise_alert(
        session,
        AlertKind.FOLLOWUP_DUE,
        cause=_cause(followup_id),
        now=now,
        ticket_id=ticket.id,
        level=ticket.priority,
        role="doctor",
        staff_id=holder,
        data={
            "case_number": ticket.case_number,
            "followup_id": followup_id,
            "due_at": followup.due_at.isoformat(),
        },
    )
    return alert is not None


def callback(
    session: Session, ticket_id: int, *, call_id: str, call_event: str, now: datetime
) -> Followup | None:
    """A missed call or a voicemail: a callback due by the case's target, once per call."""
    ticket = tickets.ticket_or_not_found(session, ticket_id, lock=False)
    followup = repo.insert_once(
        session,
        {
            "ticket_id": ticket_id,
            "due_at": now + ktas.target(ticket.priority),
            "note": CALLBACK_NOTE.singular,
            "created_by": None,
            "created_at": now,
            "cause": f"call:{call_id}"[:200],
        },
    )
    if followup is not None:
        ticket_event(
            session,
            "followup.created",
            ticket,
            at=now,
            followup=followup_json(followup),
            call_event=call_event,
        )
    return followup


def write_handoff(
    session: Session, ticket_id: int, *, staff: Staff, note: str, now: datetime
) -> HandoffNote:
    """The holder's note for the next doctor (403 ``not_holder`` for anyone else)."""
    tickets.require_on_duty_if_doctor(session, staff, now)
    if not note.strip():
        raise Invalid("invalid_note", _l("The note must not be blank."), field="note")
    ticket = _writable_ticket(session, ticket_id)
    if ticket.assignee_id != staff.id:
        raise Forbidden("not_holder", _l("Only the case's holder writes its handoff note."))
    row = repo.add_handoff(
        session,
        HandoffNote(ticket_id=ticket_id, note=note.strip(), created_by=staff.id, created_at=now),
    )
    ticket_event(
        session,
        "ticket.handoff_noted",
        ticket,
        at=now,
        actor_id=staff.id,
        handoff=handoff_public(row).model_dump(mode="json"),
    )
    return row


def latest_handoff(session: Session, ticket_id: int) -> HandoffNote | None:
    return repo.latest_handoff(session, ticket_id)
