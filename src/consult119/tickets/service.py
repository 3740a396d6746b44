"""What staff do to a case: triage, claim, assign, transfer, release, reply, change status.

Every function works in the caller's unit of work, takes ``now`` (so tests control time), and
appends the event that records its change before returning. Two people acting on one case at
once are ordered by the database: the claim is a conditional update, everything else locks the
ticket row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer at a time).
Lock order is always ticket first, then staff row, so concurrent actions cannot deadlock.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from consult119.alerts import service as alerts
from consult119.alerts.models import AlertKind
from consult119.attachments import service as attachments
from consult119.audit import service as audit
from consult119.errors import Conflict, Forbidden, Invalid, NotFound
from consult119.i18n import LazyText, emergency_numbers
from consult119.i18n import lazy_gettext as _l
from consult119.outbound import service as outbound
from consult119.staff import repository as staff_repo
from consult119.staff.models import Role, Staff
from consult119.tickets import repository as repo
from consult119.tickets.codes import (
    OPEN_STATUSES,
    SEX_OF_STORED,
    SEX_STORED,
    STATUS_TIMESTAMP,
    TRANSITIONS,
    Category,
    Direction,
    Disposition,
    LocationType,
    PurposeOfStay,
    ResolveReason,
    Sex,
    Status,
    status_label,
)
from consult119.tickets.events import message_event, ticket_event
from consult119.tickets.models import Message, Ticket
from consult119.triage import ktas, sla

MAX_TEXT_CHARS = 5000

# ``ticket.assigned`` reasons.
CLAIM, ASSIGN, AUTO, TRANSFER, RELEASE, HANDOVER, TIMEOUT = (
    "claim",
    "assign",
    "auto",
    "transfer",
    "release",
    "handover",
    "timeout",
)


# ---- reading ------------------------------------------------------------------------------


def ticket_or_not_found(session: Session, ticket_id: int, *, lock: bool = True) -> Ticket:
    """The case with ``ticket_id`` whatever its status, locked until commit unless ``lock`` is
    false; 404 ``ticket_not_found`` when there is none."""
    ticket = repo.lock_ticket(session, ticket_id) if lock else repo.get_ticket(session, ticket_id)
    if ticket is None:
        raise NotFound("ticket_not_found", _l("No case with id {ticket_id}.", ticket_id=ticket_id))
    return ticket


def _require_open(ticket: Ticket) -> None:
    if ticket.status not in OPEN_STATUSES:
        raise Conflict(
            "ticket_closed",
            _l(
                "Case {case_number} is {status}; reopen it first.",
                case_number=ticket.case_number,
                status=status_label(ticket.status),
            ),
            status=ticket.status,
        )


# ---- assignment core ----------------------------------------------------------------------


def _queue_status(ticket: Ticket) -> str:
    return Status.TRIAGED.value if ticket.acuity is not None else Status.NEW.value


def _set_assignee(
    session: Session,
    ticket: Ticket,
    doctor: Staff | None,
    *,
    by: int | None,
    reason: str,
    now: datetime,
    accepted: bool = False,
    **extra: Any,
) -> None:
    """Give ``ticket`` to ``doctor`` (or back to the queue with ``None``) and record it."""
    previous = ticket.assignee_id
    ticket.assignee_id = doctor.id if doctor is not None else None
    ticket.assignment_accepted = accepted if doctor is not None else False
    if doctor is not None:
        ticket.assigned_at = now  # the latest assignment: the acceptance clock runs from here
        doctor.last_assigned_at = now
        if ticket.status in (Status.NEW, Status.TRIAGED):
            ticket.status = Status.ASSIGNED.value
    elif ticket.status in (Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING):
        ticket.status = _queue_status(ticket)
    repo.bump_version(session, ticket, now, if_unchanged=False)
    if doctor is not None:
        alerts.resolve_for_ticket(
            session,
            ticket.id,
            alerts.ANSWERED_BY_CLAIM,
            now=now,
            by=by,
            reason=reason,
        )
    ticket_event(
        session,
        "ticket.assigned",
        ticket,
        at=now,
        actor_id=by,
        assignee_id=ticket.assignee_id,
        previous_assignee_id=previous,
        by=by,
        reason=reason,
        **extra,
    )


def auto_assign(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    reason: str = AUTO,
    exclude: set[int] | None = None,
    by: int | None = None,
    **extra: Any,
) -> Staff | None:
    """Give a locked, unheld ticket to the fairest doctor (see ``pick_doctor``); ``None`` when
    no doctor on duty has room (the case stays in the queue, its clock running)."""
    excluded = set(exclude or ())
    for _ in range(5):
        candidate = staff_repo.pick_doctor(session, now=now, exclude=excluded)
        if candidate is None:
            return None
        assert candidate.id is not None
        doctor = staff_repo.lock_staff(session, candidate.id)
        # Re-count under the lock: another process may have filled the last place.
        if (
            doctor is not None
            and staff_repo.count_open_cases(session, candidate.id) < doctor.capacity
        ):
            _set_assignee(session, ticket, doctor, by=by, reason=reason, now=now, **extra)
            return doctor
        excluded.add(candidate.id)
    return None


def _on_duty_doctor(session: Session, staff_id: int, now: datetime) -> Staff:
    target = staff_repo.get_staff(session, staff_id)
    if target is None or target.disabled:
        raise Invalid(
            "unknown_staff",
            _l("No active staff member with id {staff_id}.", staff_id=staff_id),
            field="staff_id",
        )
    if target.role != Role.DOCTOR:
        raise Invalid(
            "not_a_doctor", _l("{name} is not a doctor.", name=target.name), field="staff_id"
        )
    if not staff_repo.is_on_duty(session, staff_id, now):
        raise Conflict(
            "doctor_off_duty", _l("{name} is not on duty now.", name=target.name), staff_id=staff_id
        )
    return target


def requeue_if_off_duty(session: Session, ticket: Ticket, *, now: datetime) -> bool:
    """A reopened case whose doctor has left goes back to the queue (SPEC)."""
    assert ticket.assignee_id is not None
    holder = staff_repo.get_staff(session, ticket.assignee_id)
    if (
        holder is not None
        and not holder.disabled
        and staff_repo.is_on_duty(session, ticket.assignee_id, now)
    ):
        return False
    _set_assignee(session, ticket, None, by=None, reason=HANDOVER, now=now)
    return True


#: Why a case is handed over (``handover_reason`` of its ``ticket.assigned``): the holder's
#: shift ended or the account was disabled, or the holder has been offline past the grace.
OFF_DUTY, OFFLINE = "off_duty", "offline"


def hand_over(
    session: Session, ticket: Ticket, *, now: datetime, why: str = OFF_DUTY
) -> Staff | None:
    """The holder is off duty (or offline): pass the case to another doctor, or back to the
    queue."""
    previous = ticket.assignee_id
    doctor = auto_assign(
        session,
        ticket,
        now=now,
        reason=HANDOVER,
        exclude={previous} if previous else None,
        handover_reason=why,
    )
    if doctor is None:
        _set_assignee(session, ticket, None, by=None, reason=HANDOVER, now=now, handover_reason=why)
    return doctor


def time_out(session: Session, ticket: Ticket, *, now: datetime) -> Staff | None:
    """The assignment was not accepted in time: next doctor, or back to the queue."""
    previous = ticket.assignee_id
    ticket_event(
        session,
        "assignment.timeout",
        ticket,
        at=now,
        staff_id=previous,
        assigned_at=ticket.assigned_at.isoformat() if ticket.assigned_at else None,
    )
    doctor = auto_assign(
        session, ticket, now=now, reason=TIMEOUT, exclude={previous} if previous else None
    )
    if doctor is None:
        _set_assignee(session, ticket, None, by=None, reason=TIMEOUT, now=now)
    return doctor


# ---- actions ------------------------------------------------------------------------------


def triage(
    session: Session,
    ticket_id: int,
    *,
    staff: Staff,
    acuity: int,
    category: str,
    disposition: str | None = None,
    now: datetime,
) -> Ticket:
    """Set the KTAS level, category and disposition. The level a person sets is the rank;
    earlier red flags stay visible but no longer rank the case. An unheld case then goes to a
    doctor at once."""
    ktas.level(acuity)
    if category not in {c.value for c in Category}:
        raise Invalid(
            "unknown_category",
            _l("Unknown category: {category}.", category=category),
            field="category",
        )
    if disposition is not None and disposition not in {d.value for d in Disposition}:
        raise Invalid(
            "unknown_disposition",
            _l("Unknown disposition: {disposition}.", disposition=disposition),
            field="disposition",
        )
    require_on_duty_if_doctor(session, staff, now)
    ticket = ticket_or_not_found(session, ticket_id)
    _require_open(ticket)
    _require_may_triage(session, ticket, staff, now)
    previous = ticket.acuity
    ticket.acuity = acuity
    ticket.category = category
    ticket.disposition = disposition
    ticket.suspected_acuity = None
    ticket.priority = acuity
    ticket.triaged_at = ticket.triaged_at or now
    if ticket.status == Status.NEW:
        ticket.status = Status.TRIAGED.value
    sla.reset_clock(ticket, now=now)
    repo.bump_version(session, ticket, now, if_unchanged=False)
    ticket_event(
        session,
        "ticket.triaged",
        ticket,
        at=now,
        actor_id=staff.id,
        by=staff.id,
        acuity=acuity,
        previous_acuity=previous,
        category=category,
        disposition=disposition,
    )
    if ticket.assignee_id is None:
        auto_assign(session, ticket, now=now)
    return ticket


def claim(session: Session, ticket_id: int, *, staff: Staff, now: datetime) -> Ticket:
    """A doctor takes the case. Exactly one of two simultaneous claims wins; the other gets
    409 ``ticket_taken``. Claiming a case one already holds is a no-op (idempotent)."""
    assert staff.id is not None
    ticket = ticket_or_not_found(session, ticket_id, lock=False)
    _require_open(ticket)
    if ticket.assignee_id == staff.id and ticket.assignment_accepted:
        return ticket
    if ticket.assignee_id is not None and ticket.assignee_id != staff.id:
        raise _taken(ticket)
    if not staff_repo.is_on_duty(session, staff.id, now):
        raise Conflict("doctor_off_duty", _l("You are not on duty now."), staff_id=staff.id)
    previous = ticket.assignee_id
    if not repo.claim_ticket(session, ticket, staff.id, now):
        # Someone else's write reached the row first; the refreshed row says who.
        if ticket.assignee_id == staff.id:
            return ticket
        _require_open(ticket)
        raise _taken(ticket)
    holder = staff_repo.lock_staff(session, staff.id)
    assert holder is not None
    holder.last_assigned_at = now
    ticket_event(
        session,
        "ticket.assigned",
        ticket,
        at=now,
        actor_id=staff.id,
        assignee_id=staff.id,
        previous_assignee_id=previous,
        by=staff.id,
        reason=CLAIM,
    )
    alerts.resolve_for_ticket(
        session,
        ticket.id,
        alerts.ANSWERED_BY_CLAIM,
        now=now,
        by=staff.id,
        reason=CLAIM,
    )
    return ticket


def _taken(ticket: Ticket, why: LazyText | None = None) -> Conflict:
    """409 ``ticket_taken``: another doctor holds the case (``why`` says what that rules out)."""
    return Conflict(
        "ticket_taken",
        why or _l("Case {case_number} is held by another doctor.", case_number=ticket.case_number),
        assignee_id=ticket.assignee_id,
    )


def assign(session: Session, ticket_id: int, *, staff_id: int, by: Staff, now: datetime) -> Ticket:
    """Give the case to an on-duty doctor (409 ``doctor_off_duty`` otherwise). The doctor
    accepts by claiming or answering; if they do not in time, it moves on."""
    ticket = ticket_or_not_found(session, ticket_id)
    _require_open(ticket)
    doctor = _on_duty_doctor(session, staff_id, now)
    if ticket.assignee_id == doctor.id:
        return ticket
    reason = TRANSFER if ticket.assignee_id is not None else ASSIGN
    _set_assignee(session, ticket, doctor, by=by.id, reason=reason, now=now)
    return ticket


def transfer(
    session: Session, ticket_id: int, *, staff_id: int, by: Staff, now: datetime
) -> Ticket:
    """Hand a held case to another on-duty doctor. A doctor may transfer only their own."""
    require_on_duty_if_doctor(session, by, now)
    ticket = ticket_or_not_found(session, ticket_id)
    _require_open(ticket)
    if ticket.assignee_id is None:
        raise Conflict("not_assigned", _l("Nobody holds this case; assign it instead."))
    _require_holder_or_coordinator(ticket, by)
    doctor = _on_duty_doctor(session, staff_id, now)
    if ticket.assignee_id == doctor.id:
        return ticket
    _set_assignee(session, ticket, doctor, by=by.id, reason=TRANSFER, now=now)
    return ticket


def release(session: Session, ticket_id: int, *, by: Staff, now: datetime) -> Ticket:
    """Put a held case back in the queue. A doctor may release only their own."""
    require_on_duty_if_doctor(session, by, now)
    ticket = ticket_or_not_found(session, ticket_id)
    _require_open(ticket)
    if ticket.assignee_id is None:
        return ticket
    _require_holder_or_coordinator(ticket, by)
    _set_assignee(session, ticket, None, by=by.id, reason=RELEASE, now=now)
    return ticket


def require_on_duty_if_doctor(session: Session, staff: Staff, now: datetime) -> None:
    """A doctor off duty may act on no case (409 ``doctor_off_duty``); reading stays open."""
    assert staff.id is not None
    if staff.role == Role.DOCTOR and not staff_repo.is_on_duty(session, staff.id, now):
        raise Conflict("doctor_off_duty", _l("You are not on duty now."), staff_id=staff.id)


def _require_may_triage(session: Session, ticket: Ticket, staff: Staff, now: datetime) -> None:
    """On a held case only the holder or an EMT on duty changes the triage: an EMT must be able
    to raise a level at any time, but another doctor moves the case by transfer, not by
    re-triaging it."""
    if ticket.assignee_id is None or ticket.assignee_id == staff.id:
        return
    assert staff.id is not None
    if staff.role == Role.EMT and staff_repo.is_on_duty(session, staff.id, now):
        return
    raise _taken(
        ticket,
        _l(
            "Case {case_number} is held by another doctor; only they or an EMT on duty may "
            "change its triage.",
            case_number=ticket.case_number,
        ),
    )


def _require_holder_to_finish(ticket: Ticket, by: Staff) -> None:
    """Only the holder resolves or closes a held case; others transfer or release it first."""
    if ticket.assignee_id is None or ticket.assignee_id == by.id:
        return
    raise _taken(
        ticket,
        _l(
            "Case {case_number} is held by another doctor; only they may resolve or close it. "
            "Transfer or release it first.",
            case_number=ticket.case_number,
        ),
    )


def _require_holder_or_coordinator(ticket: Ticket, by: Staff) -> None:
    if by.role == Role.DOCTOR and ticket.assignee_id != by.id:
        raise Forbidden(
            "not_your_case",
            _l("Only the doctor who holds the case, an EMT or an admin may do this."),
        )


def clean_text(text: str, *, max_chars: int = MAX_TEXT_CHARS, field: str = "text") -> str:
    """``text`` if it is not blank, holds no NUL and is at most ``max_chars`` long; else 422
    (``invalid_text``, ``empty_text``, ``text_too_long`` with ``max_chars``) naming ``field``."""
    if "\x00" in text:
        raise Invalid("invalid_text", _l("The text contains a NUL character."), field=field)
    if not text.strip():
        raise Invalid("empty_text", _l("The text is empty."), field=field)
    if len(text) > max_chars:
        raise Invalid(
            "text_too_long",
            _l("The text is over {max_chars:,} characters.", max_chars=max_chars),
            field=field,
            max_chars=max_chars,
        )
    return text


def add_message(
    session: Session,
    ticket_id: int,
    *,
    staff: Staff,
    text: str,
    internal: bool = False,
    now: datetime,
    max_chars: int = MAX_TEXT_CHARS,
    attachment_ids: list[int] | None = None,
) -> Message:
    """A reply to the traveller (queued in the outbox on the case's channel) or an internal
    note (never sent). A doctor's reply accepts the case for them (claiming it when nobody
    holds it), and the first one stops the SLA clock.

    ``attachment_ids``: the staff member's own unsent uploads, sent with the reply on a channel
    that carries files (:func:`consult119.attachments.service.attach_staff_uploads`); the text
    may then be empty."""
    ids = attachment_ids or []
    if not (ids and text == ""):
        text = clean_text(text, max_chars=max_chars)
    require_on_duty_if_doctor(session, staff, now)
    ticket = ticket_or_not_found(session, ticket_id)
    if ticket.status in (Status.CLOSED, Status.MERGED):
        _require_open(ticket)
    if not internal and staff.role == Role.DOCTOR:
        _claim_and_start_on_reply(session, ticket, staff, now)
    message = repo.add_message(
        session,
        ticket,
        direction=Direction.INTERNAL if internal else Direction.OUTBOUND,
        text=text,
        author_staff_id=staff.id,
        now=now,
    )
    assert staff.id is not None and message.id is not None
    files = attachments.attach_staff_uploads(
        session,
        ids,
        staff_id=staff.id,
        message_id=message.id,
        source=None if internal else ticket.source,
    )
    if not internal:
        outbound.enqueue(session, ticket, message, now=now)
        sla.stop_next_response(ticket)
    repo.bump_version(session, ticket, now, if_unchanged=False)
    message_event(session, message, ticket, at=now, actor_id=staff.id, attachments=files)
    if not internal:
        answered = (
            alerts.ANSWERED_BY_DOCTOR_REPLY
            if staff.role == Role.DOCTOR
            else alerts.ANSWERED_BY_REPLY
        )
        alerts.resolve_for_ticket(
            session,
            ticket.id,
            answered,
            now=now,
            by=staff.id,
            reason="reply",
        )
    return message


def _claim_and_start_on_reply(
    session: Session, ticket: Ticket, doctor: Staff, now: datetime
) -> None:
    """A doctor's reply claims an unheld case (or accepts an assigned one), starts it and stops
    its SLA clock; 409 when another doctor holds it, or when it is unheld and the doctor is off
    duty."""
    assert doctor.id is not None
    if ticket.status in OPEN_STATUSES:
        if ticket.assignee_id is None:
            if not staff_repo.is_on_duty(session, doctor.id, now):
                raise Conflict(
                    "doctor_off_duty", _l("You are not on duty now."), staff_id=doctor.id
                )
            holder = staff_repo.lock_staff(session, doctor.id)
            assert holder is not None
            _set_assignee(
                session, ticket, holder, by=doctor.id, reason=CLAIM, now=now, accepted=True
            )
        elif ticket.assignee_id != doctor.id:
            raise _taken(ticket)
        elif not ticket.assignment_accepted:
            ticket.assignment_accepted = True
        if ticket.status in (Status.NEW, Status.TRIAGED, Status.ASSIGNED):
            ticket.status = Status.IN_PROGRESS.value
            ticket.in_progress_at = ticket.in_progress_at or now
    if ticket.first_response_at is None:
        ticket.first_response_at = now  # the SLA clock stops here


def change_status(
    session: Session,
    ticket_id: int,
    *,
    to: str,
    by: Staff,
    now: datetime,
    reason: str | None = None,
) -> Ticket:
    """Move the case along ``TRANSITIONS``; anything else is 409 ``transition_forbidden``.

    Resolving is a decision: a case no staff reply reached answers 409 ``no_response`` unless
    ``reason`` says why none was needed (``ResolveReason``); the reason is in the event."""
    if to not in {s.value for s in Status}:
        raise Invalid("unknown_status", _l("Unknown status: {status}.", status=to), field="status")
    if reason is not None and reason not in {r.value for r in ResolveReason}:
        raise Invalid(
            "unknown_reason", _l("Unknown reason: {reason}.", reason=reason), field="reason"
        )
    require_on_duty_if_doctor(session, by, now)
    ticket = ticket_or_not_found(session, ticket_id)
    current = Status(ticket.status)
    if current == to:
        return ticket
    target = Status(to)
    if target in (Status.RESOLVED, Status.CLOSED):
        _require_holder_to_finish(ticket, by)
    if (
        target == Status.RESOLVED
        and reason is None
        and target in TRANSITIONS[current]
        and not repo.has_reply(session, ticket_id)
    ):
        raise Conflict(
            "no_response",
            _l(
                "No reply was sent on case {case_number}. Reply first, or give the reason "
                "it is resolved without one.",
                case_number=ticket.case_number,
            ),
            reasons=[r.value for r in ResolveReason],
        )
    why: LazyText | None = None
    if target not in TRANSITIONS[current]:
        why = _l(
            "A case cannot go from {current} to {target}.",
            current=status_label(current),
            target=status_label(target),
        )
    elif target == Status.MERGED:
        why = _l("Cases are merged into another case, not by status.")
    elif target == Status.ASSIGNED and ticket.assignee_id is None:
        why = _l("Nobody holds this case; assign or claim it.")
    elif target == Status.TRIAGED and ticket.acuity is None:
        why = _l("Triage the case to give it a level.")
    if why is not None:
        raise Conflict("transition_forbidden", why, **{"from": current.value, "to": target.value})
    column = STATUS_TIMESTAMP.get(target)
    if column is not None and getattr(ticket, column) is None:
        setattr(ticket, column, now)
    if current == Status.RESOLVED and target in OPEN_STATUSES:
        reopen(session, ticket, to=target, now=now, actor_id=by.id, by=by.id)
        if ticket.assignee_id is not None:
            requeue_if_off_duty(session, ticket, now=now)
        return ticket
    ticket.status = target.value
    repo.bump_version(session, ticket, now, if_unchanged=False)
    ticket_event(
        session,
        "ticket.status_changed",
        ticket,
        at=now,
        actor_id=by.id,
        by=by.id,
        **{"from": current.value, "to": target.value},
        **({"reason": reason} if reason is not None else {}),
    )
    if target in (Status.RESOLVED, Status.CLOSED):
        # The case is finished: nothing about it waits for anyone any more.
        alerts.resolve_for_ticket(
            session,
            ticket.id,
            None,
            now=now,
            by=by.id,
            reason=target.value,
        )
    return ticket


def reopen(
    session: Session,
    ticket: Ticket,
    *,
    to: Status,
    now: datetime,
    actor_id: int | None = None,
    **extra: Any,
) -> None:
    """Bring a resolved case back to ``to``: the one place a reopen is counted.

    A reopen is not a new consultation (reports count the ticket once); it clears
    ``resolved_at`` so the next resolution is timed again, and counts in ``reopen_count``.
    A person's reopen (``change_status``) and a traveller's message (intake) both come here;
    the traveller's (no ``actor_id``) raises a ``reopened`` alert: someone came back.
    """
    old = ticket.status
    ticket.status = to.value
    ticket.resolved_at = None
    ticket.reopen_count += 1
    repo.bump_version(session, ticket, now, if_unchanged=False)
    ticket_event(
        session,
        "ticket.status_changed",
        ticket,
        at=now,
        actor_id=actor_id,
        **{"from": old, "to": ticket.status},
        **extra,
    )
    if actor_id is None:
        alerts.raise_for_ticket(
            session,
            AlertKind.REOPENED,
            ticket,
            ticket.reopen_count,
            now=now,
            reopen_count=ticket.reopen_count,
        )


# ---- the case record ------------------------------------------------------------------------

#: What ``update_record`` edits, in the detail's names: the patient, where they are, and the
#: clinical summary. Everything else on a case changes through its own action.
RECORD_FIELDS = (
    "patient_age",
    "patient_sex",
    "symptoms_onset",
    "conditions",
    "medication",
    "allergies",
    "country",
    "timezone",
    "location_type",
    "vessel_or_flight",
    "purpose_of_stay",
    "chief_complaint",
    "assessment",
    "plan",
)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    # The IANA names the system's tz database knows: ZoneInfo() alone also opens any file.
    return frozenset(available_timezones())


def record_value(ticket: Ticket, name: str) -> Any:
    """``name`` of ``ticket`` as the API shows it (the sex as its word, not the stored code)."""
    value = getattr(ticket, name)
    return SEX_OF_STORED.get(value, value) if name == "patient_sex" else value


def _stored(name: str, value: Any) -> Any:
    """One record value as stored, or 422 with its ``field``. Blank text clears the field."""
    if isinstance(value, str):
        if "\x00" in value:
            raise Invalid("invalid_text", _l("The text contains a NUL character."), field=name)
        value = value.strip() or None
    if value is None:
        return None
    if name == "patient_sex":
        return SEX_STORED[Sex(value)]
    if name == "country":
        # The emergency-number table lists every ISO 3166-1 alpha-2 country: a code it does
        # not know is one no acknowledgement could give a number for.
        if emergency_numbers(value) is None:
            raise Invalid(
                "unknown_country",
                _l("{country} is not an ISO 3166 alpha-2 country code.", country=value),
                field=name,
            )
        return value.upper()
    if name == "purpose_of_stay" and value not in {p.value for p in PurposeOfStay}:
        raise Invalid(
            "unknown_purpose",
            _l("Unknown purpose of stay: {purpose}.", purpose=value),
            field=name,
        )
    if name == "timezone" and value not in _zones():
        raise Invalid(
            "unknown_timezone",
            _l("{timezone} is not an IANA time zone.", timezone=value),
            field=name,
        )
    return value


def _stale(ticket: Ticket, names: list[str]) -> Conflict:
    return Conflict(
        "stale_version",
        _l(
            "Case {case_number} was changed by someone else meanwhile; check its current "
            "values and save again.",
            case_number=ticket.case_number,
        ),
        version=ticket.version,
        current={name: record_value(ticket, name) for name in names},
    )


def _require_may_edit(ticket: Ticket, staff: Staff) -> None:
    """An EMT fills in any open case; a doctor only an unheld case or their own."""
    if staff.role != Role.DOCTOR or ticket.assignee_id in (None, staff.id):
        return
    raise Conflict(
        "ticket_taken",
        _l(
            "Case {case_number} is held by another doctor; only they or an EMT may edit its "
            "record.",
            case_number=ticket.case_number,
        ),
        assignee_id=ticket.assignee_id,
    )


def update_record(
    session: Session,
    ticket_id: int,
    *,
    staff: Staff,
    version: int,
    values: dict[str, Any],
    now: datetime,
) -> tuple[Ticket, list[str]]:
    """Write ``values`` (a subset of ``RECORD_FIELDS``) to the case if it is still at
    ``version``; returns the ticket and the names of the fields that changed.

    The version check is the conditional update of :func:`repo.bump_version`, so of two
    people saving the same version one wins and the other gets 409 ``stale_version`` with the
    current values of the fields they sent. Nothing is written unless every value is valid. A
    resolved case's record may still be completed; a closed or merged one is final.
    """
    unknown = set(values) - set(RECORD_FIELDS)
    if unknown:
        raise Invalid("invalid_field", _l("A field is invalid."), field=sorted(unknown)[0])
    stored = {name: _stored(name, value) for name, value in values.items()}
    require_on_duty_if_doctor(session, staff, now)
    ticket = ticket_or_not_found(session, ticket_id, lock=False)
    if ticket.status in (Status.CLOSED, Status.MERGED):
        _require_open(ticket)
    _require_may_edit(ticket, staff)
    names = sorted(values)
    if ticket.version != version:
        raise _stale(ticket, names)
    changed: dict[str, Any] = {
        name: value for name, value in stored.items() if getattr(ticket, name) != value
    }
    # A field staff send is theirs from now on, even at the value the traveller gave.
    reported = list(ticket.self_reported or [])
    confirmed = {name for name in values if name in reported}
    if not changed and not confirmed:
        return ticket, []
    if confirmed:
        changed["self_reported"] = [n for n in reported if n not in confirmed] or None
    if not repo.bump_version(session, ticket, now, **changed):
        session.refresh(ticket)  # someone's write reached the row first: show theirs
        raise _stale(ticket, names)
    fields = sorted((set(changed) - {"self_reported"}) | confirmed)
    _record_event(session, ticket, fields, by=staff.id, now=now)
    return ticket, fields


def _record_event(
    session: Session, ticket: Ticket, fields: list[str], *, by: int | None, now: datetime
) -> None:
    """``ticket.updated``: the changed fields, their values, and which are self-reported."""
    ticket_event(
        session,
        "ticket.updated",
        ticket,
        at=now,
        actor_id=by,
        by=by,
        fields=fields,
        changes={name: record_value(ticket, name) for name in fields},
        self_reported=list(ticket.self_reported or []),
    )


# ---- what the traveller says themselves -------------------------------------------------------

#: Record fields a traveller's answer may fill (web-chat form, Kakao quick replies).
SELF_REPORTABLE = (
    "patient_age",
    "patient_sex",
    "symptoms_onset",
    "country",
    "purpose_of_stay",
    "location_type",
    "vessel_or_flight",
)
#: The longest text answer each text field takes (the columns' lengths).
_ANSWER_CHARS = {"symptoms_onset": 200, "vessel_or_flight": 100}
#: Audit action of record fields filled from the traveller's answers.
FILL_ACTION = "ticket.self_reported"


#: The codes a coded answer may take.
_ANSWER_CODES: dict[str, frozenset[str]] = {
    "patient_sex": frozenset(s.value for s in Sex),
    "location_type": frozenset(t.value for t in LocationType),
}


def _answer(name: str, value: Any) -> Any:
    """One answer as stored (None for a blank one); ``Invalid`` when it is not a value the
    field takes (the channel's edge refuses those with 422; here they are skipped)."""
    bad = Invalid("invalid_field", _l("{field}: invalid value.", field=name), field=name)
    if name not in SELF_REPORTABLE:
        raise bad
    if name == "patient_age":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 130:
            raise bad
        return value
    if value is not None and (
        not isinstance(value, str)
        or len(value.strip()) > _ANSWER_CHARS.get(name, 40)
        or (name in _ANSWER_CODES and value not in _ANSWER_CODES[name])
    ):
        raise bad
    return _stored(name, value)


def fill_from_traveller(
    session: Session,
    ticket: Ticket,
    answers: dict[str, Any],
    *,
    now: datetime,
    opened: bool = False,
) -> list[str]:
    """Fill the case's empty record fields with the traveller's ``answers`` (API names and
    values), marking each as self-reported; returns the names filled.

    The one rule every channel's answers go through: a field that holds a value is never
    overwritten (staff entered it, or the traveller answered before), and a bad answer is
    skipped, never refused: the message it came with is already recorded. ``opened``: this
    message opened the case, so a value equal to the answer was copied from what the traveller
    told the channel moments ago (the web-chat country) and is marked too. Emits the same
    ``ticket.updated`` a PATCH does (``by`` null) and writes one access-log row, names only.
    """
    if not answers or ticket.status in (Status.CLOSED, Status.MERGED):
        return []
    clean: dict[str, Any] = {}
    for name, value in answers.items():
        try:
            clean[name] = _answer(name, value)
        except Invalid:
            continue
    clean = {name: value for name, value in clean.items() if value is not None}
    for _ in range(3):
        reported = list(ticket.self_reported or [])
        fill = {name: v for name, v in clean.items() if getattr(ticket, name) is None}
        mark = {
            name
            for name, v in clean.items()
            if opened and name not in reported and getattr(ticket, name) == v
        }
        if not fill and not mark:
            return []
        fields = sorted(set(fill) | mark)
        values = {**fill, "self_reported": reported + [n for n in fields if n not in reported]}
        if repo.fill_fields(session, ticket, now, **values):
            break
        session.refresh(ticket)  # a staff edit reached the row first: look again
    else:
        return []
    _record_event(session, ticket, fields, by=None, now=now)
    audit.record(
        session,
        staff_id=None,
        action=FILL_ACTION,
        ticket_id=ticket.id,
        detail={"case_number": ticket.case_number, "fields": fields},
        at=now,
    )
    return fields
