"""Alerts: raised once per cause, acknowledged by a person, resolved by the action that
answers them. Each change appends its event (``alert.raised``, ``alert.acknowledged``,
``alert.resolved``) in the caller's transaction, so consoles get it live and on replay.

Callers (intake, the reply and claim actions, the scheduler) pass their session; nothing here
commits.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from consult119.alerts import repository as repo
from consult119.alerts.models import MAX_CAUSE_CHARS, Alert, AlertKind, AlertState
from consult119.alerts.schemas import alert_json
from consult119.errors import NotFound
from consult119.i18n import lazy_gettext as _l
from consult119.realtime import events

if TYPE_CHECKING:
    from consult119.tickets.models import Ticket

#: What a doctor's reply to the traveller answers.
ANSWERED_BY_DOCTOR_REPLY = (
    AlertKind.RED_FLAG,
    AlertKind.SLA_BREACHED,
    AlertKind.NEXT_RESPONSE_BREACHED,
    AlertKind.REOPENED,
)
#: What any staff reply answers: the traveller who came back has been answered.
ANSWERED_BY_REPLY = (AlertKind.REOPENED, AlertKind.NEXT_RESPONSE_BREACHED)
#: What someone taking the case answers.
ANSWERED_BY_CLAIM = (AlertKind.UNCLAIMED_CRITICAL,)


def cause_key(*parts: object) -> str:
    """``kind:ticket:12:…`` joined; a key over the column's length is shortened to a hash
    (still one key per cause)."""
    key = ":".join(str(p) for p in parts)
    if len(key) <= MAX_CAUSE_CHARS:
        return key
    return f"{parts[0]}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def raise_alert(
    session: Session,
    kind: AlertKind,
    *,
    cause: str,
    now: datetime,
    ticket_id: int | None = None,
    level: int | None = None,
    role: str | None = None,
    staff_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Alert | None:
    """Raise ``kind`` for ``cause`` unless that cause was raised before (in any process);
    returns the new alert, or None when there was one already."""
    alert = repo.insert_once(
        session,
        {
            "kind": kind.value,
            "cause": cause,
            "ticket_id": ticket_id,
            "level": level,
            "role": role,
            "staff_id": staff_id,
            "state": AlertState.OPEN.value,
            "raised_at": now,
            "data": data or {},
        },
    )
    if alert is not None:
        _event(session, "alert.raised", alert, at=now)
    return alert


def raise_for_ticket(
    session: Session,
    kind: AlertKind,
    ticket: Ticket,
    *cause: object,
    now: datetime,
    role: str = "doctor",
    **data: Any,
) -> Alert | None:
    """Raise ``kind`` about ``ticket`` for the cause ``kind:ticket:<id>:<cause…>``: at the
    case's rank, for its doctor (or any doctor while nobody holds it), with its case number."""
    assert ticket.id is not None
    return raise_alert(
        session,
        kind,
        cause=cause_key(kind.value, "ticket", ticket.id, *cause),
        now=now,
        ticket_id=ticket.id,
        level=ticket.priority,
        role=role,
        staff_id=ticket.assignee_id,
        data={"case_number": ticket.case_number, **data},
    )


def red_flag(session: Session, ticket: Ticket, flags: list[str], *, now: datetime) -> None:
    """A message brought red flags the case did not have: one alert per new set of flags."""
    if flags:
        raise_for_ticket(
            session,
            AlertKind.RED_FLAG,
            ticket,
            "+".join(sorted(flags)),
            now=now,
            red_flags=list(flags),
            suspected_acuity=ticket.suspected_acuity,
        )


def acknowledge(session: Session, alert_id: int, *, by: int, now: datetime) -> Alert:
    """Someone has seen the alert and is on it: it stops escalating and stays open until
    answered. Acknowledging again (or after it was resolved) changes nothing."""
    alert = repo.acknowledge(session, alert_id, by=by, now=now)
    if alert is not None:
        _event(session, "alert.acknowledged", alert, at=now, actor_id=by)
        return alert
    alert = repo.get_alert(session, alert_id)
    if alert is None:
        raise NotFound("alert_not_found", _l("No alert with this id."), alert_id=alert_id)
    return alert


def resolve_for_ticket(
    session: Session,
    ticket_id: int | None,
    kinds: tuple[AlertKind, ...] | None,
    *,
    now: datetime,
    by: int | None = None,
    reason: str,
) -> list[Alert]:
    """Resolve the case's open alerts of ``kinds`` (all with None): ``reason`` names the
    action that answered them (``reply``, ``claim``, ``resolved``…)."""
    if ticket_id is None:
        return []
    done = repo.resolve(
        session,
        ticket_id=ticket_id,
        kinds=None if kinds is None else [k.value for k in kinds],
        by=by,
        now=now,
    )
    for alert in done:
        _event(session, "alert.resolved", alert, at=now, actor_id=by, reason=reason)
    return done


def resolve_alert(
    session: Session,
    alert: Alert,
    *,
    now: datetime,
    reason: str,
    new_cause: str | None = None,
) -> Alert | None:
    """Resolve one open alert that is about no single case (``no_doctor_available``,
    ``roster_gap``) with its ``alert.resolved`` event; None when another call resolved it
    first. ``new_cause`` frees the old cause for the next episode."""
    assert alert.id is not None
    done = repo.resolve_one(session, alert.id, now=now, new_cause=new_cause)
    if done is not None:
        _event(session, "alert.resolved", done, at=now, reason=reason)
    return done


def open_of_kind(session: Session, kind: AlertKind) -> list[Alert]:
    return repo.open_of_kind(session, kind.value)


def existing_causes(session: Session, causes: list[str]) -> set[str]:
    return repo.existing_causes(session, causes)


def resolve_causes(
    session: Session, causes: list[str], *, now: datetime, by: int | None = None, reason: str
) -> list[Alert]:
    """Resolve the open alerts raised for ``causes`` (whatever their case): ``reason`` names
    the action that answered them (``delivered``, ``fallback``…)."""
    done = repo.resolve_causes(session, causes, by=by, now=now)
    for alert in done:
        _event(session, "alert.resolved", alert, at=now, actor_id=by, reason=reason)
    return done


def alerts_of_causes(session: Session, causes: list[str]) -> list[Alert]:
    return repo.by_causes(session, causes)


def reload(session: Session, alert_id: int) -> Alert | None:
    """The alert as the database holds it now (after a conditional update)."""
    return repo.reload(session, alert_id)


def get_or_not_found(session: Session, alert_id: int) -> Alert:
    alert = repo.get_alert(session, alert_id)
    if alert is None:
        raise NotFound("alert_not_found", _l("No alert with this id."), alert_id=alert_id)
    return alert


def resolve_cause(
    session: Session, cause: str, *, now: datetime, by: int | None = None, reason: str
) -> Alert | None:
    """Resolve the open alert of one ``cause`` (a follow-up done answers its own alert)."""
    done = resolve_causes(session, [cause], now=now, by=by, reason=reason)
    alert = done[0] if done else None
    return alert


def escalate_due(session: Session, *, now: datetime, after: timedelta) -> list[Alert]:
    """Escalate every alert on a KTAS 1–2 or red-flag case nobody acknowledged within
    ``after``: ``alert.escalated`` to every console, each alert once across processes. The
    caller pages them in the same transaction (:func:`consult119.alerts.pager.page`), so the
    page exists exactly when the escalation does."""
    done = repo.escalate_due(session, raised_before=now - after, now=now)
    for alert in done:
        _event(session, "alert.escalated", alert, at=now, after_seconds=int(after.total_seconds()))
    return done


def list_alerts(
    session: Session,
    *,
    state: str | None,
    acknowledged: bool | None = None,
    kind: str | None = None,
    ticket_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[Alert], int]:
    return repo.list_alerts(
        session,
        state=state,
        acknowledged=acknowledged,
        kind=kind,
        ticket_id=ticket_id,
        limit=limit,
        offset=offset,
    )


def alert_event(
    session: Session, name: str, alert: Alert, *, at: datetime, actor_id: int | None, **extra: Any
) -> None:
    """Append ``name`` about ``alert`` (``alert.fallback``…) in the caller's transaction."""
    _event(session, name, alert, at=at, actor_id=actor_id, **extra)


def _event(
    session: Session,
    name: str,
    alert: Alert,
    *,
    at: datetime,
    actor_id: int | None = None,
    **extra: Any,
) -> None:
    events.append(
        session,
        name,
        ticket_id=alert.ticket_id,
        actor_id=actor_id,
        at=at,
        data={"alert": alert_json(alert), **extra},
    )
